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
 * GN runs the actions, and the toolchain's stamp tool, with the virtualenv's
 * Python (gn gen --script-executable, and the gn arg e2e_python): bin/python3
 * on Linux and macOS, Scripts\python.exe on Windows. The project runs no
 * touch or cp, and reaches piplock through a directory symlink (a junction on
 * Windows, which needs no privilege).
 *
 * Needs gn and ninja on PATH (Debian: generate-ninja, ninja-build) and Python
 * with venv; pending otherwise. The Wine lane has no gn.exe or ninja.exe (no
 * registry this project uses has them), so it is pending there; appveyor.yml
 * installs both on every image.
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

/** The virtualenv's directory of executables, and its Python, as `python -m venv` makes them. */
function venvPython(venv: string): { bin: string; python: string } {
  const bin = path.join(venv, IS_WINDOWS ? 'Scripts' : 'bin');
  return { bin, python: path.join(bin, IS_WINDOWS ? 'python.exe' : 'python3') };
}

/** A path for a gn arg or a command line: forward slashes, which Windows accepts and GN strings need not escape. */
function slashes(p: string): string {
  return p.split(path.sep).join('/');
}

/**
 * Whether two spellings (8.3 names, case, slashes on Windows) name the same directory entry.
 * The last component is not resolved: the virtualenv's python3 is a symlink to the Python it
 * was made from, which is not the same as running the virtualenv's.
 */
function sameEntry(a: string, b: string): boolean {
  const entry = (p: string) => path.join(fs.realpathSync.native(path.dirname(p)), path.basename(p));
  return entry(a) === entry(b);
}

function missingTools(): string | undefined {
  for (const [tool, args] of [
    ['gn', ['--version']],
    ['ninja', ['--version']],
  ] as const) {
    if (spawnSync(tool, args).status !== 0)
      return `'${tool}' not found on PATH (Debian packages generate-ninja and ninja-build; appveyor.yml shows how to get them on Windows and macOS)`;
  }
  if (spawnSync(PYTHON, ['-c', 'import venv, ensurepip']).status !== 0)
    return `${PYTHON} with venv and ensurepip not found`;
  if (!fs.existsSync(CLI)) return 'piplock is not built (npm run build)';
  return undefined;
}

function run(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    ...options,
    encoding: 'utf8',
    timeout: IS_WINDOWS ? 300_000 : 120_000,
    maxBuffer: 64 << 20,
  });
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
    const lines = b.split(/\r?\n/);
    return { target: lines[0]!.slice('FAILED: '.length).trim(), output: lines.slice(2).join('\n') };
  });
}

/**
 * pip on Windows refused to replace a file of the package that an importer
 * had open ([WinError 32], sharing violation) or that was pending deletion
 * ([WinError 5]): the same race, met by pip rather than by the importer.
 */
const PIP_SHARING = /Could not install packages due to an OSError: \[WinError (32|5)\][^\n]*e2epkg/;

/**
 * Whether an action's output is that of a Python that met the package half
 * replaced: a traceback through the package (ModuleNotFoundError,
 * ImportError, AttributeError on a namespace package without __init__.py,
 * FileNotFoundError, SyntaxError or bad bytecode in a file being written),
 * or on Windows pip meeting a file in use; not a failure of piplock or of the
 * test.
 */
function isImportRace(output: string): boolean {
  if (output.includes('piplock: error')) return false;
  if (IS_WINDOWS && PIP_SHARING.test(output)) return true;
  return output.includes('Traceback (most recent call last)') && output.includes('e2epkg');
}

/** "AttributeError", "ModuleNotFoundError", ...: the last line of a traceback, up to the colon; or pip's WinError. */
function errorName(output: string): string {
  const pip = PIP_SHARING.exec(output);
  if (pip) return `pip WinError ${pip[1]}`;
  const last = output.trim().split(/\r?\n/).pop() ?? '';
  return /^(\w+(Error|Exception))\b/.exec(last)?.[1] ?? 'other';
}

describe('e2e: GN build with pw_python_action through piplock (gn, ninja, venv, pip)', function () {
  // Bounds, not measurements: five builds of a 500-module reinstall and 33 importers each, and
  // process start-up and file creation cost more on Windows. The two tests together must leave an
  // appveyor job (60 minutes in all) time for the install and the rest of the suite: 2 x 720 s
  // (see the budget in appveyor.yml).
  this.timeout(IS_WINDOWS ? 720_000 : 240_000);
  let work: string;
  let env: NodeJS.ProcessEnv;
  let wheels: string;
  let bin: string;
  let python: string;

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
    // A junction on Windows: a directory symlink there needs a privilege or developer mode.
    fs.symlinkSync(ROOT, path.join(src, 'third_party', 'piplock'), IS_WINDOWS ? 'junction' : 'dir');

    wheels = path.join(work, 'wheels');
    const plain = { cwd: work, env: process.env };
    check(
      run(PYTHON, [path.join(src, 'tools', 'make_wheel.py'), wheels, String(MODULES), String(FUNCTIONS)], plain),
      'make_wheel.py',
    );
    const venv = path.join(work, 'venv');
    check(run(PYTHON, ['-m', 'venv', venv], plain), `${PYTHON} -m venv`);
    ({ bin, python } = venvPython(venv));
    check(
      run(
        python,
        ['-m', 'pip', 'install', '-q', '--no-index', '--disable-pip-version-check', '--find-links', wheels, 'e2epkg'],
        plain,
      ),
      'pip install',
    );
    // As in an activated environment: the virtualenv's executables first on PATH, and Node's.
    env = { ...process.env, PATH: [bin, path.dirname(NODE), process.env.PATH].join(path.delimiter), VIRTUAL_ENV: venv };
  });

  after(() => {
    if (!work) return;
    // The link first, on its own: removing a tree must never reach the repository through it.
    const link = path.join(work, 'src', 'third_party', 'piplock');
    if (fs.lstatSync(link, { throwIfNoEntry: false })) fs.unlinkSync(link);
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** A clean build: a new build directory, gn gen, ninja -j 8. */
  function build(out: string, lock: boolean, extraArgs = ''): { status: number | null; log: string; seconds: number } {
    const dir = path.join(work, out);
    fs.rmSync(dir, { recursive: true, force: true });
    const gnArgs = `e2e_wheel_dir="${slashes(wheels)}" e2e_python="${slashes(python)}" e2e_lock=${lock} ${extraArgs}`;
    check(
      run('gn', ['gen', dir, `--script-executable=${slashes(python)}`, `--args=${gnArgs}`], {
        cwd: path.join(work, 'src'),
        env,
      }),
      'gn gen',
    );
    const start = performance.now();
    const r = run('ninja', ['-C', dir, '-j', JOBS, ...(lock ? [] : ['-k', '0'])], { cwd: work, env });
    return { status: r.status, log: r.stdout + r.stderr, seconds: (performance.now() - start) / 1000 };
  }

  it('after a build, report names the pip action as the cause of the waits, ninja shows the waited line, and trace is valid', () => {
    // Every wait gets its line, however short: the build's own pip action is quick.
    const b = build('out-seen', true, 'piplock_notice_after="1ms"');
    assert.equal(b.status, 0, b.log);
    const lockfile = path.join(work, 'out-seen', 'pip.lock');
    const r = check(run(NODE, [CLI, 'report', '--json', lockfile], { cwd: work, env }), 'piplock report');
    const report = JSON.parse(r) as {
      actions: number;
      exclusiveHolds: { label: string | null }[];
      waits: { label: string | null; mode: string; heldBy: { label?: string }[] }[];
    };
    assert.equal(report.actions, 24 + 8 + 3, 'one acquisition per Python action');
    assert.deepEqual(
      report.exclusiveHolds.map((h) => h.label),
      ['//:reinstall'],
    );
    // Every importer that waited, not only the ten longest.
    const waits = report.waits.filter((w) => w.mode === 'shared');
    assert.ok(waits.length > 0, 'some importers waited for the pip action');
    for (const w of waits) {
      assert.ok(
        w.heldBy.some((h) => h.label === '//:reinstall'),
        `${w.label} waited for ${JSON.stringify(w.heldBy)}`,
      );
      const line = new RegExp(`piplock: ${w.label} waited .* for the pip lock \\(held by //:reinstall, PID \\d+`);
      assert.match(b.log, line, `ninja's output has the waited line of ${w.label}`);
    }
    const trace = JSON.parse(check(run(NODE, [CLI, 'trace', lockfile], { cwd: work, env }), 'piplock trace')) as {
      traceEvents: { ph: string; ts?: number; dur?: number; pid: number; tid: number; name: string; cat?: string }[];
    };
    const spans = trace.traceEvents.filter((e) => e.ph === 'X');
    assert.equal(spans.filter((e) => e.cat?.startsWith('hold,')).length, 24 + 8 + 3);
    for (const e of trace.traceEvents) {
      assert.ok(['X', 'M'].includes(e.ph) && Number.isInteger(e.pid) && Number.isInteger(e.tid), JSON.stringify(e));
      if (e.ph === 'X') assert.ok(Number.isInteger(e.ts) && Number.isInteger(e.dur) && e.dur! >= 0, JSON.stringify(e));
    }
  });

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
    const report = read('gen/report.json');
    assert.deepEqual({ ...report, cwd: undefined }, { cwd: undefined, greeting: 'hello=world', total });
    assert.ok(
      sameEntry(String(report.cwd), path.join(out, 'gen')),
      `report ran in ${String(report.cwd)}, not in out/gen`,
    );
    const expr = read('gen/expression.json');
    assert.deepEqual(expr.inputs, ['gen/use_00.json'], '<TARGET_FILE(:use_00)> expanded');
    assert.ok(
      sameEntry(String(expr.python), python),
      `the script ran with ${String(expr.python)}, not with the Python GN runs actions with (${python})`,
    );
    assert.ok(fs.statSync(path.join(out, 'pip.lock')).isFile(), 'out/pip.lock is the lock');

    // Every command of the build is the stamp tool or a Python action through the launcher and
    // piplock, and each of those starts with the Python given to --script-executable.
    const commands = check(run('ninja', ['-C', out, '-t', 'commands'], { cwd: work, env }), 'ninja -t commands')
      .split(/\r?\n/)
      .filter((c) => c !== '');
    const actions = commands.filter((c) => !/ \.\.\/src\/tools\/stamp\.py /.test(c));
    assert.equal(actions.length, 24 + 8 + 3, commands.join('\n'));
    for (const c of actions) {
      const [, first, rest] = /^("[^"]*"|\S+) (.*)$/.exec(c) ?? [];
      assert.ok(first !== undefined && rest !== undefined, c);
      assert.ok(sameEntry(first.replace(/^"(.*)"$/, '$1'), python), `not run with the virtualenv's Python: ${c}`);
      assert.match(
        rest,
        /^\.\.\/src\/third_party\/piplock\/gn\/piplock_action\.py --node=node .* --lockfile pip\.lock /,
      );
    }
  });

  it(`with the lock, each action in a fresh interpreter (piplock_in_process = false): ${BUILDS} clean builds pass`, () => {
    const times: string[] = [];
    for (let i = 1; i <= BUILDS; i++) {
      const b = build('out-fresh', true, 'piplock_in_process=false');
      assert.equal(b.status, 0, `locked build ${i} (fresh interpreters) failed:\n${b.log}`);
      times.push(b.seconds.toFixed(1));
    }
    console.log(`      locked builds, fresh interpreters: ${BUILDS}/${BUILDS} passed, ${times.join(' s, ')} s`);
    const read = (rel: string) =>
      JSON.parse(fs.readFileSync(path.join(work, 'out-fresh', rel), 'utf8')) as Record<string, unknown>;
    for (let i = 0; i < 24; i++)
      assert.equal(read(`gen/use_${String(i).padStart(2, '0')}.json`).total, MODULES * MODULES);
    const commands = check(
      run('ninja', ['-C', path.join(work, 'out-fresh'), '-t', 'commands'], { cwd: work, env }),
      'ninja -t commands',
    );
    assert.match(commands, /piplock_action\.py --node=node --in-process=false /);
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
    console.log(
      `      unlocked builds: ${counts.filter((n) => n > 0).length}/${BUILDS} failed; failed actions per build: ${counts.join(', ')} (${kindText})`,
    );
    assert.ok(
      counts.some((n) => n > 0),
      'no import failure in any build without the lock: the race is too narrow for this machine; make the package bigger (MODULES)',
    );
  });
});
