/**
 * gn/piplock_action.py, the file GN runs (with its script_executable) for
 * every pw_python_action: it starts `node dist/bin/piplock.js python-runner`.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { havePython, NODE, PYTHON, ROOT } from '../../support/paths';
import { pythonText } from './fixtures';

const LAUNCHER = path.join(ROOT, 'gn', 'piplock_action.py');

describe('gn/piplock_action.py', function () {
  this.timeout(30_000);
  let dir: string;
  let common: string[];

  before(function () {
    if (!havePython()) {
      console.log(`      pending: no '${PYTHON}' to run the launcher`);
      this.skip();
    }
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-launcher-'));
    fs.writeFileSync(
      path.join(dir, 'show.py'),
      'import sys\nprint(sys.executable)\nsys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)\n',
    );
    common = [
      '--gn-root',
      '.',
      '--current-path',
      '.',
      '--default-toolchain=//t:d',
      '--current-toolchain=//t:d',
      '--lockfile',
      'pip.lock',
    ];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function launch(args: string[]) {
    const r = spawnSync(PYTHON, [LAUNCHER, `--node=${NODE}`, ...args], { cwd: dir, encoding: 'utf8' });
    return { ...r, stdout: pythonText(r.stdout), stderr: pythonText(r.stderr) };
  }

  it('runs the action with the Python that runs the launcher, and passes the status through', () => {
    const self = pythonText(
      spawnSync(PYTHON, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout,
    );
    const r = launch([...common, '--', 'show.py', '6']);
    assert.equal(r.status, 6, r.stderr);
    assert.equal(r.stdout, self);
    assert.ok(fs.existsSync(path.join(dir, 'pip.lock')));
  });

  it('leaves an interpreter chosen in the arguments alone', () => {
    const r = launch([...common, `--python=${NODE}`, '--', '-e', 'console.log(process.release.name)']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'node\n');
  });

  /** Calls a function of the launcher in the Python that runs it, on any OS: its arguments and result as JSON. */
  function launcherCall(fn: string, ...args: unknown[]): unknown {
    const code = [
      'import importlib.util, json, sys',
      `spec = importlib.util.spec_from_file_location('launcher', ${JSON.stringify(LAUNCHER)})`,
      'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
      'try:',
      `    print(json.dumps(m.${fn}(*json.loads(sys.argv[1]))))`,
      'except OSError as e:',
      '    print(json.dumps({"error": e.errno}))',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', code, JSON.stringify(args)], { encoding: 'utf8' });
    assert.equal(r.status, 0, pythonText(r.stderr));
    return JSON.parse(pythonText(r.stdout));
  }

  it("on Windows looks for node.exe along all of PATH first, then PATHEXT's other extensions, and never a name without one", () => {
    const early = path.join(dir, 'early');
    const late = path.join(dir, 'late');
    for (const d of [early, late]) fs.mkdirSync(d);
    // A node.cmd shim and an extensionless sh shim first on PATH, node.exe later.
    fs.writeFileSync(path.join(early, 'node.cmd'), '');
    fs.writeFileSync(path.join(early, 'node'), '');
    fs.writeFileSync(path.join(late, 'node.exe'), '');
    const PATHEXT = '.COM;.EXE;.BAT;.CMD';
    assert.equal(launcherCall('find_on_windows', 'node', `${early};${late}`, PATHEXT), path.join(late, 'node.exe'));
    // Without node.exe, the shim is what a command prompt would run (and the launcher refuses it).
    assert.equal(launcherCall('find_on_windows', 'node', early, PATHEXT), path.join(early, 'node.cmd'));
    // The extensionless file is never taken.
    assert.deepEqual(launcherCall('find_on_windows', 'node', early, '.COM;.EXE'), { error: 2 });
  });

  it('maps an NTSTATUS exit code to its signed value, which sys.exit keeps before Python 3.12.8 too', () => {
    assert.equal(launcherCall('windows_status', 0xc000013a), -1073741510); // STATUS_CONTROL_C_EXIT
    assert.equal(launcherCall('windows_status', 5), 5);
  });

  it('refuses a node.cmd shim in one line, status 126, and runs nothing', function () {
    // On POSIX the launcher execs with execvp, which searches PATH itself; PATHEXT and cmd.exe are Windows'.
    if (process.platform !== 'win32') this.skip();
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const ran = path.join(dir, 'shim-ran');
    fs.writeFileSync(path.join(bin, 'shimnode.cmd'), `@echo ran> "${ran}"\r\n@"${process.execPath}" %*\r\n`);
    const env = { ...process.env, PATH: `${bin};${process.env.PATH ?? ''}` };
    const r = spawnSync(PYTHON, [LAUNCHER, '--node=shimnode', ...common, '--', 'show.py', '5'], {
      cwd: dir,
      encoding: 'utf8',
      env,
    });
    assert.equal(r.status, 126, pythonText(r.stderr));
    assert.match(
      pythonText(r.stderr),
      /^piplock: error: Node '.*shimnode\.cmd' is a batch file, which cmd\.exe would run with the action's arguments unquoted/,
    );
    assert.ok(!fs.existsSync(ran), 'the shim did not run');
  });

  it('passes the arguments that cmd.exe would reparse (a&b, <x>, %PATH%) to the action unchanged', () => {
    fs.writeFileSync(path.join(dir, 'args.py'), 'import json, sys\nprint(json.dumps(sys.argv[1:]))\n');
    const args = ['a&b', '<x>', '%PATH%', 'c|d'];
    const r = launch([...common, '--', 'args.py', ...args]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), args);
  });

  it('when the launcher is killed, Node and the action die with it', async function () {
    const pidFile = path.join(dir, 'action.pid');
    fs.writeFileSync(
      path.join(dir, 'sleep.py'),
      `import os, time\nopen(${JSON.stringify(pidFile)}, "w").write(str(os.getpid()))\ntime.sleep(60)\n`,
    );
    const launcher = spawn(PYTHON, [LAUNCHER, `--node=${process.execPath}`, ...common, '--', 'sleep.py'], {
      cwd: dir,
      stdio: 'ignore',
    });
    try {
      assert.ok(
        await until(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '', 20_000),
        'the action started',
      );
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      launcher.kill(); // TerminateProcess on Windows; SIGTERM elsewhere, which the launcher, or Node that it execs, passes on
      assert.ok(await until(() => !alive(pid), 20_000), `the action (pid ${pid}) ended with the launcher`);
    } finally {
      launcher.kill('SIGKILL');
    }
  });

  it('says in one line that Node is missing, status 127', () => {
    const r = spawnSync(PYTHON, [LAUNCHER, `--node=${path.join(dir, 'no-node')}`, ...common, '--', 'show.py'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(r.status, 127);
    assert.match(
      pythonText(r.stderr),
      /^piplock: error: cannot run Node '.*no-node': .* \(set the GN build arg piplock_node\)\n$/,
    );
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(fn: () => boolean, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (!fn()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
