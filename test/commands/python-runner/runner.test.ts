/**
 * `piplock python-runner` as GN runs it: a real process in a build
 * directory, running a real Python. Pending where there is no python3.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acquire } from '../../../src/lock/acquire';
import { lockModeFor, pythonCandidates, withEnv } from '../../../src/commands/python-runner/action';
import { CLI, havePython, IS_WINDOWS, NODE, PYTHON } from '../../support/paths';
import { makeNinjaTree, pythonText, type NinjaTree } from './fixtures';

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('python-runner command', function () {
  this.timeout(30_000);
  let tree: NinjaTree;
  let build: string;
  let common: string[];

  before(function () {
    if (!havePython()) {
      console.log(`      pending: no '${PYTHON}' to run (the suite below, with Node in its place, still runs)`);
      this.skip();
    }
  });
  beforeEach(() => {
    tree = makeNinjaTree();
    build = tree.build;
    common = [
      '--gn-root',
      '..',
      '--current-path',
      '../app',
      '--default-toolchain=//build:default',
      '--current-toolchain=//build:default',
      '--lockfile',
      'pip.lock',
      '--python',
      PYTHON,
    ];
    // A script that reports where it ran and with what; it fails when asked to.
    script('show.py', [
      'import json, os, sys',
      'print("cwd=" + os.getcwd())',
      'print("argv=" + json.dumps(sys.argv[1:], separators=(",", ":")))',
      'for name in ("PIPLOCK_A", "PIPLOCK_B"):',
      '    if name in os.environ: print(name + "=" + os.environ[name])',
      'sys.stdout.flush()',
      'if "--fail" in sys.argv:',
      '    print("to stderr", file=sys.stderr); sys.stderr.flush()',
      '    print("to stdout again"); sys.stdout.flush()',
      '    sys.exit(int(sys.argv[sys.argv.index("--fail") + 1]))',
    ]);
    script('mark.py', ['import pathlib, sys', 'pathlib.Path(sys.argv[1]).write_text("ran")']);
  });
  afterEach(() => tree.cleanup());

  function script(name: string, lines: string[]): void {
    fs.writeFileSync(path.join(tree.root, 'app', name), lines.join('\n') + '\n');
  }

  function runner(args: string[], env: NodeJS.ProcessEnv = {}): Result {
    const r = spawnSync(NODE, [CLI, 'python-runner', ...args], {
      cwd: build,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    return { status: r.status, stdout: pythonText(r.stdout), stderr: pythonText(r.stderr) };
  }

  const exists = (rel: string) => fs.existsSync(path.join(build, rel));

  it('runs PYTHON SCRIPT ARGS in the build directory and returns its status', () => {
    const r = runner([...common, '--', '../app/show.py', 'a b', '']);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `cwd=${fs.realpathSync(build)}\nargv=["a b",""]\n`);
  });

  it('expands expressions in the arguments', () => {
    const r = runner([
      ...common,
      '--',
      '../app/show.py',
      '--elf=<TARGET_FILE(:firmware)>',
      '<TARGET_OBJECTS(:drivers)>',
      '<TARGET_FILE_IF_EXISTS(:firmware)>',
    ]);
    const o = (p: string) => path.join('obj', 'app', p);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout.split('\n')[1],
      `argv=${JSON.stringify([`--elf=${o('bin/firmware.elf')}`, o('drivers.uart.c.o'), o('drivers.spi.c.o')])}`,
    );
  });

  it('runs a module with -m, with --env added to the environment', () => {
    script('hello_mod.py', ['import os, sys', 'print("module", sys.argv[1:], os.environ["PIPLOCK_A"])']);
    const r = runner([
      ...common,
      '--module',
      'hello_mod',
      `--env=PYTHONPATH=${path.join(tree.root, 'app')}`,
      '--env',
      'PIPLOCK_A=x=1',
      '--',
      'arg',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "module ['arg'] x=1\n");
  });

  it('runs in --working-directory, taken from the build directory', () => {
    const r = runner([...common, '--working-directory', '../app', '--', '../app/show.py']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^cwd=${fs.realpathSync(path.join(tree.root, 'app')).replace(/[\\.]/g, '\\$&')}\n`),
    );
  });

  it('refuses a --working-directory that is not there, before running anything', () => {
    const r = runner([
      ...common,
      '--working-directory',
      'no/such/dir',
      '--touch',
      'x.stamp',
      '--',
      '../app/mark.py',
      'marker',
    ]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^piplock: error: working directory 'no\/such\/dir' is not a directory/);
    assert.equal(r.stderr.split('\n').length, 2);
    assert.ok(!exists('x.stamp'));
  });

  it('with --capture-output, says nothing on success', () => {
    const r = runner([...common, '--capture-output', '--', '../app/show.py']);
    assert.deepEqual(r, { status: 0, stdout: '', stderr: '' });
  });

  it('with --capture-output, shows stdout and stderr combined, in order, on stdout when the command fails', () => {
    const r = runner([...common, '--capture-output', '--env', 'PIPLOCK_B=b', '--', '../app/show.py', '--fail', '3']);
    assert.equal(r.status, 3);
    assert.equal(r.stderr, '');
    assert.equal(
      r.stdout,
      `cwd=${fs.realpathSync(build)}\nargv=["--fail","3"]\nPIPLOCK_B=b\nto stderr\nto stdout again\n`,
    );
  });

  it('without --capture-output, lets the output through as it comes', () => {
    const r = runner([...common, '--', '../app/show.py', '--fail', '4']);
    assert.equal(r.status, 4);
    assert.equal(r.stderr, 'to stderr\n');
    assert.match(r.stdout, /to stdout again\n$/);
  });

  it('touches the stamp, creating its directories, only when the command succeeds', () => {
    assert.equal(runner([...common, '--touch', 'gen/deep/er/a.stamp', '--', '../app/show.py']).status, 0);
    assert.ok(exists('gen/deep/er/a.stamp'));
    const r = runner([...common, '--capture-output', '--touch', 'gen/b.stamp', '--', '../app/show.py', '--fail', '1']);
    assert.equal(r.status, 1);
    assert.ok(!exists('gen/b.stamp'));
  });

  it('brings an existing stamp up to date', () => {
    const stamp = path.join(build, 'old.stamp');
    fs.writeFileSync(stamp, 'kept');
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(stamp, old, old);
    assert.equal(runner([...common, '--touch', 'old.stamp', '--', '../app/show.py']).status, 0);
    assert.ok(fs.statSync(stamp).mtimeMs > Date.now() - 60_000);
    assert.equal(fs.readFileSync(stamp, 'utf8'), 'kept');
  });

  it('exits 1 without running anything when there is no "--"', () => {
    const r = runner([...common, '--touch', 'x.stamp', '../app/mark.py', 'marker']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "piplock: error: python-runner requires a command to run: put it after '--'\n");
    assert.ok(!exists('marker') && !exists('x.stamp'));
  });

  it('exits 1 on a bad expression naming the argument, before locking or running anything', () => {
    const r = runner([
      ...common,
      '--touch',
      'x.stamp',
      '--',
      '../app/mark.py',
      'marker',
      '--in=<TARGET_FILE(:nothing(//not:tc))>',
    ]);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      "piplock: error: argument '--in=<TARGET_FILE(:nothing(//not:tc))>': Target //app:nothing(//not:tc) has not been generated by GN!\n",
    );
    assert.ok(!exists('marker') && !exists('x.stamp') && !exists('pip.lock'));
  });

  it('creates the lock file, with its directory', () => {
    assert.equal(runner([...common, '--lockfile', 'locks/pip.lock', '--', '../app/show.py']).status, 0);
    assert.ok(exists('locks/pip.lock'));
  });

  it('waits for the lock: pip and pip_install_python_deps.py exclusive, anything else shared', async () => {
    const lockfile = path.join(build, 'pip.lock');
    const quick = ['--timeout', '300ms', '--capture-output'];
    const shared = await acquire(lockfile, { mode: 'shared' });
    try {
      assert.equal(runner([...common, ...quick, '--', '../app/show.py']).status, 0, 'a script shares the lock');
      const pip = runner([...common, ...quick, '--module', 'pip', '--', '--version']);
      assert.equal(pip.status, 1);
      assert.match(
        pip.stderr,
        /^piplock: error: timed out after \d+ ms waiting for an exclusive lock on '.*pip\.lock'; when the wait began it was held by [^\n]+\n$/,
      );
      script('pip_install_python_deps.py', ['print("would install")']);
      assert.equal(runner([...common, ...quick, '--', '../app/pip_install_python_deps.py']).status, 1);
    } finally {
      shared.release();
    }
    const exclusive = await acquire(lockfile, { mode: 'exclusive' });
    try {
      const r = runner([...common, ...quick, '--touch', 'x.stamp', '--', '../app/show.py']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /waiting for a shared lock/);
      assert.ok(!exists('x.stamp'));
    } finally {
      exclusive.release();
    }
  });

  it('returns 128+N when the command is killed by signal N', function () {
    if (IS_WINDOWS) this.skip(); // no signals there
    const r = runner([...common, '--', '-c', 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)']);
    assert.equal(r.status, 137);
  });

  it('uses $PIPLOCK_PYTHON when there is no --python, and says so when the interpreter is missing', () => {
    const noPython = common.slice(0, -2);
    const r = runner([...noPython, '--', '-c', 'import sys; print(sys.executable)'], { PIPLOCK_PYTHON: PYTHON });
    assert.equal(r.status, 0, r.stderr);
    const missing = runner([...noPython, '--', '-c', 'pass'], { PIPLOCK_PYTHON: path.join(build, 'no-python') });
    assert.equal(missing.status, 127);
    // Windows adds how it searches PATH (not with PATHEXT).
    assert.match(
      missing.stderr,
      /^piplock: error: command not found: '.*no-python'( \(Windows searches PATH [^\n]*\))?\n$/,
    );
    const r2 = runner([...common.slice(0, -1), path.join(build, 'nope'), '--', '-c', 'pass']);
    assert.equal(r2.status, 127);
  });

  it('answers usage errors with one line and status 2', () => {
    const r = runner(['--gn-root', '..', '--', 'x.py']);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      'piplock: error: python-runner: the following arguments are required: --current-path, --default-toolchain, --current-toolchain, --lockfile\n',
    );
    assert.equal(runner([...common, '--env', 'X', '--', 'x.py']).status, 2);
  });
});

describe('python-runner decisions', () => {
  it('locks exclusively for pip and for pip_install_python_deps.py only', () => {
    assert.equal(lockModeFor('pip', []), 'exclusive');
    assert.equal(
      lockModeFor(undefined, ['../../pw_env_setup/py/pw_env_setup/pip_install_python_deps.py', '--gn-packages', 'x']),
      'exclusive',
    );
    assert.equal(lockModeFor(undefined, ['pip_install_python_deps.py']), 'exclusive');
    for (const [module, command] of [
      ['pip._internal', []],
      ['pipx', []],
      ['build', ['pip_install_python_deps.py']],
      [undefined, ['generate.py', 'pip']],
      [undefined, ['pip_install_python_deps.pyc']],
      [undefined, []],
    ] as [string | undefined, string[]][]) {
      assert.equal(lockModeFor(module, command), 'shared', `${module} ${command.join(' ')}`);
    }
  });

  it('picks the interpreter: --python, $PIPLOCK_PYTHON, then the platform defaults', () => {
    assert.deepEqual(pythonCandidates('/venv/bin/python', { PIPLOCK_PYTHON: 'x' }), [['/venv/bin/python']]);
    assert.deepEqual(pythonCandidates(undefined, { PIPLOCK_PYTHON: '/p y/python' }), [['/p y/python']]);
    assert.deepEqual(pythonCandidates(undefined, {}, [['python3'], ['python']]), [['python3'], ['python']]);
    assert.deepEqual(pythonCandidates(undefined, { PIPLOCK_PYTHON: '' }, [['py', '-3'], ['python']]), [
      ['py', '-3'],
      ['python'],
    ]);
  });

  it('sets --env variables, replacing a name in any case on Windows only', () => {
    assert.deepEqual(withEnv({ Path: 'a', X: '1' }, [['PATH', 'b']], true), { X: '1', PATH: 'b' });
    assert.deepEqual(withEnv({ Path: 'a' }, [['PATH', 'b']], false), { Path: 'a', PATH: 'b' });
  });
});

// The runner's process handling on every platform, Windows under Wine
// included, where there may be no Python: Node stands in for the interpreter
// (`--python node` runs `node SCRIPT ARGS`).
describe('python-runner command, with Node standing in for Python', function () {
  this.timeout(60_000);
  let tree: NinjaTree;
  let common: string[];

  beforeEach(() => {
    tree = makeNinjaTree();
    common = [
      '--gn-root',
      '..',
      '--current-path',
      '../app',
      '--default-toolchain=//build:default',
      '--current-toolchain=//build:default',
      '--lockfile',
      'pip.lock',
      '--python',
      NODE,
    ];
    fs.writeFileSync(
      path.join(tree.root, 'app', 'show.js'),
      [
        "const fs = require('node:fs');",
        'fs.writeSync(1, `cwd=${process.cwd()}\\nargv=${JSON.stringify(process.argv.slice(2))}\\nE=${process.env.PIPLOCK_E}\\n`);',
        "fs.writeSync(2, 'to stderr\\n');",
        "fs.writeSync(1, 'to stdout again\\n');",
        'process.exit(Number(process.env.PIPLOCK_EXIT ?? 0));',
      ].join('\n'),
    );
  });
  afterEach(() => tree.cleanup());

  function runner(args: string[], env: NodeJS.ProcessEnv = {}) {
    return spawnSync(NODE, [CLI, 'python-runner', ...common, ...args], {
      cwd: tree.build,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
  }
  const stamp = () => fs.existsSync(path.join(tree.build, 'gen', 'n', 'x.stamp'));

  it('runs the command in the build directory with expanded arguments, --env added, and touches the stamp on success', () => {
    const r = runner([
      '--env',
      'PIPLOCK_E=a=b',
      '--touch',
      'gen/n/x.stamp',
      '--',
      '../app/show.js',
      '<TARGET_FILE(:gen)>',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `cwd=${fs.realpathSync(tree.build)}\nargv=${JSON.stringify([path.join('gen', 'app', 'gen.h')])}\nE=a=b\nto stdout again\n`,
    );
    assert.equal(r.stderr, 'to stderr\n');
    assert.ok(stamp());
  });

  it('with --capture-output: silent on success; on failure, both streams in order on stdout, the status, no stamp', () => {
    const ok = runner(['--capture-output', '--', '../app/show.js']);
    assert.deepEqual([ok.status, ok.stdout, ok.stderr], [0, '', '']);
    const r = runner(
      ['--capture-output', '--touch', 'gen/n/x.stamp', '--working-directory', '../app', '--', 'show.js'],
      { PIPLOCK_EXIT: '5' },
    );
    assert.equal(r.status, 5);
    assert.equal(r.stderr, '');
    assert.equal(
      r.stdout,
      `cwd=${fs.realpathSync(path.join(tree.root, 'app'))}\nargv=[]\nE=undefined\nto stderr\nto stdout again\n`,
    );
    assert.ok(!stamp());
  });

  it('waits for a shared lock while pip holds it exclusively', async () => {
    const lock = await acquire(path.join(tree.build, 'pip.lock'), { mode: 'exclusive' });
    try {
      const r = runner(['--timeout', '300ms', '--', '../app/show.js']);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /^piplock: error: timed out after .* waiting for a shared lock on '.*pip\.lock'; when the wait began it was held by [^\n]+\n$/,
      );
    } finally {
      lock.release();
    }
    assert.equal(runner(['--timeout', '300ms', '--', '../app/show.js']).status, 0);
  });
});
