/**
 * A real GN project (test/e2e/project) whose Python actions go through
 * gn/python_action.gni, built with real gn, ninja, virtualenv and pip.
 *
 * One pw_python_action force-reinstalls a 500-module package into the
 * virtualenv while 33 others import it, with no dependency between them, at
 * ninja -j 8. With the lock, five clean builds in a row pass. With the lock
 * taken away (the test project's own variant of the template call, in which
 * each action has a lock file of its own), the same builds fail with the
 * import errors the lock exists to prevent: that shows this test can fail.
 *
 * Needs gn and ninja (Debian: generate-ninja, ninja-build) and python3 with
 * venv; pending otherwise, and on Windows, where no gn.exe can be had from
 * the registries this project uses.
 */
import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, IS_WINDOWS, NODE, PYTHON, ROOT, TEST_SOURCES } from '../support/paths';

const PROJECT = path.join(TEST_SOURCES, 'e2e', 'project');
const MODULES = 500;
const FUNCTIONS = 20;
const BUILDS = 5;
const JOBS = '8';

function missingTools(): string | undefined {
  if (IS_WINDOWS) return 'gn.exe is not available from the registries this project uses; run on a Windows machine with gn and ninja on PATH';
  for (const [tool, args] of [
    ['gn', ['--version']],
    ['ninja', ['--version']],
  ] as const) {
    if (spawnSync(tool, args).status !== 0) return `'${tool}' not found (Debian packages generate-ninja and ninja-build)`;
  }
  if (spawnSync(PYTHON, ['-c', 'import venv, ensurepip']).status !== 0) return `${PYTHON} with venv and ensurepip not found`;
  if (!fs.existsSync(CLI)) return 'piplock is not built (npm run build)';
  return undefined;
}

function run(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { ...options, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

function check(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The FAILED blocks of a ninja log: the failed outputs and what the action printed. */
function failures(log: string): { target: string; output: string }[] {
  const blocks = log.split(/^(?=FAILED: |\[\d+\/\d+\] )/m).filter((b) => b.startsWith('FAILED: '));
  return blocks.map((b) => {
    const lines = b.split('\n');
    return { target: lines[0]!.slice('FAILED: '.length).trim(), output: lines.slice(2).join('\n') };
  });
}

/**
 * Whether an action's output is that of a Python that met the package half
 * replaced: a traceback through the package (ModuleNotFoundError,
 * ImportError, AttributeError on a namespace package without __init__.py,
 * FileNotFoundError, SyntaxError or bad bytecode in a file being written),
 * not a failure of piplock or of the test.
 */
function isImportRace(output: string): boolean {
  return output.includes('Traceback (most recent call last)') && output.includes('e2epkg') && !output.includes('piplock: error');
}

/** "AttributeError", "ModuleNotFoundError", ...: the last line of a traceback, up to the colon. */
function errorName(output: string): string {
  const last = output.trim().split('\n').pop() ?? '';
  return /^(\w+(Error|Exception))\b/.exec(last)?.[1] ?? 'other';
}

describe('e2e: GN build with pw_python_action through piplock (gn, ninja, venv, pip)', function () {
  this.timeout(240_000);
  let work: string;
  let env: NodeJS.ProcessEnv;
  let wheels: string;

  before(function () {
    const reason = missingTools();
    if (reason) {
      console.log(`      pending: ${reason}`);
      this.skip();
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-e2e-'));
    const src = path.join(work, 'src');
    fs.cpSync(PROJECT, src, { recursive: true });
    fs.mkdirSync(path.join(src, 'third_party'));
    // The package sits in the source tree, as a Pigweed project would vendor it.
    fs.symlinkSync(ROOT, path.join(src, 'third_party', 'piplock'), 'dir');

    wheels = path.join(work, 'wheels');
    const plain = { cwd: work, env: process.env };
    check(run(PYTHON, [path.join(src, 'tools', 'make_wheel.py'), wheels, String(MODULES), String(FUNCTIONS)], plain), 'make_wheel.py');
    const venv = path.join(work, 'venv');
    check(run(PYTHON, ['-m', 'venv', venv], plain), `${PYTHON} -m venv`);
    const bin = path.join(venv, 'bin');
    check(run(path.join(bin, 'python'), ['-m', 'pip', 'install', '-q', '--no-index', '--disable-pip-version-check', '--find-links', wheels, 'e2epkg'], plain), 'pip install');
    // GN runs actions with "python3" (script_executable): the virtualenv's, as in an activated environment.
    env = { ...process.env, PATH: [bin, path.dirname(NODE), process.env.PATH].join(path.delimiter), VIRTUAL_ENV: venv };
  });

  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** A clean build: a new build directory, gn gen, ninja -j 8. */
  function build(out: string, lock: boolean): { status: number | null; log: string; seconds: number } {
    const dir = path.join(work, out);
    fs.rmSync(dir, { recursive: true, force: true });
    const gnArgs = `e2e_wheel_dir="${wheels}" e2e_lock=${lock}`;
    check(run('gn', ['gen', dir, `--args=${gnArgs}`], { cwd: path.join(work, 'src'), env }), 'gn gen');
    const start = performance.now();
    const r = run('ninja', ['-C', dir, '-j', JOBS, ...(lock ? [] : ['-k', '0'])], { cwd: work, env });
    return { status: r.status, log: r.stdout + r.stderr, seconds: (performance.now() - start) / 1000 };
  }

  it(`with the lock: ${BUILDS} clean builds in a row pass, with every output, stamp, environment and working directory as asked`, () => {
    const times: string[] = [];
    for (let i = 1; i <= BUILDS; i++) {
      const b = build('out', true);
      assert.equal(b.status, 0, `locked build ${i} failed:\n${b.log}`);
      times.push(b.seconds.toFixed(1));
    }
    console.log(`      locked builds: ${BUILDS}/${BUILDS} passed, ${times.join(' s, ')} s`);

    const out = path.join(work, 'out');
    const read = (rel: string) => JSON.parse(fs.readFileSync(path.join(out, rel), 'utf8')) as Record<string, unknown>;
    const total = MODULES * MODULES; // sum of 2i+1 for i < MODULES
    for (let i = 0; i < 24; i++) assert.equal(read(`gen/use_${String(i).padStart(2, '0')}.json`).total, total);
    for (const s of 'abcdefgh') {
      assert.equal(read(`gen/each_${s}.json`).total, total);
      assert.ok(fs.existsSync(path.join(out, `gen/${s}.txt.pw_pystamp`)), `stamp of ${s}.txt`);
    }
    assert.ok(fs.existsSync(path.join(out, 'gen/reinstall.pw_pystamp')));
    assert.ok(fs.existsSync(path.join(out, 'gen/stamps/report.done')));
    assert.deepEqual(read('gen/report.json'), { cwd: fs.realpathSync(path.join(out, 'gen')), greeting: 'hello=world', total });
    const expr = read('gen/expression.json');
    assert.deepEqual(expr.inputs, ['gen/use_00.json'], '<TARGET_FILE(:use_00)> expanded');
    assert.equal(expr.python, path.join(work, 'venv', 'bin', 'python3'), 'the Python GN runs actions with runs the script');
    assert.ok(fs.statSync(path.join(out, 'pip.lock')).isFile(), 'out/pip.lock is the lock');

    // Every Python action of the build goes through the launcher and piplock.
    const commands = check(run('ninja', ['-C', out, '-t', 'commands'], { cwd: work, env }), 'ninja -t commands')
      .split('\n')
      .filter((c) => c.startsWith('python3 '));
    assert.equal(commands.length, 24 + 8 + 3);
    for (const c of commands) assert.match(c, /^python3 \.\.\/src\/third_party\/piplock\/gn\/piplock_action\.py --node=node .* --lockfile pip\.lock /);
  });

  it('without the lock: the same builds show the import failures the lock prevents', () => {
    const counts: number[] = [];
    const kinds = new Map<string, number>();
    for (let i = 1; i <= BUILDS; i++) {
      const b = build('out-nolock', false);
      const failed = failures(b.log);
      for (const f of failed) {
        assert.ok(isImportRace(f.output), `${f.target} failed for another reason:\n${f.output}`);
        kinds.set(errorName(f.output), (kinds.get(errorName(f.output)) ?? 0) + 1);
      }
      assert.equal(b.status === 0, failed.length === 0, b.log);
      counts.push(failed.length);
    }
    const kindText = [...kinds].map(([k, n]) => `${k} ${n}`).join(', ');
    console.log(`      unlocked builds: ${counts.filter((n) => n > 0).length}/${BUILDS} failed; failed actions per build: ${counts.join(', ')} (${kindText})`);
    assert.ok(
      counts.some((n) => n > 0),
      'no import failure in any build without the lock: the race is too narrow for this machine; make the package bigger (MODULES)',
    );
  });
});
