/**
 * Fidelity of the in-process path: each action script of fidelity/ runs
 * through gn/piplock_action.py three ways, in the launcher's own Python (the
 * default on Linux and macOS), in a fresh interpreter that Node starts
 * (--in-process=false, the path Windows takes), and through Pigweed's
 * python_runner.py where it is available; exit status, stdout, stderr, the
 * stamp and the files the script leaves must be the same.
 *
 * Python runs with its default environment: PYTHONUNBUFFERED and
 * PYTHONDONTWRITEBYTECODE, which would hide differences of buffering, are
 * taken out. A run with --log-level=debug checks that each case ran where it
 * should: in the launcher's own interpreter, or, where a fresh start would
 * differ, in a fresh one that the launcher's child starts.
 *
 * POSIX only: on Windows the launcher never runs actions in process.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { havePython, IS_WINDOWS, NODE, PYTHON, ROOT, TEST_SOURCES } from '../../support/paths';

const LAUNCHER = path.join(ROOT, 'gn', 'piplock_action.py');
const SCRIPTS = path.join(TEST_SOURCES, 'commands', 'python-runner', 'fidelity');
const REFERENCE =
  process.env.PIPLOCK_REFERENCE_RUNNER ?? path.resolve(ROOT, '..', 'shared', 'reference', 'python_runner.py');
const RUNNER_ARGS = [
  '--gn-root',
  '..',
  '--current-path',
  '..',
  '--default-toolchain=//t:t',
  '--current-toolchain=//t:t',
  '--lockfile',
  'pip.lock',
];

interface Case {
  name: string;
  /** Runner options before '--', and the command after it. */
  options?: string[];
  command: string[];
  /** Where the launcher runs it: its own interpreter, or a fresh one (and why). */
  fresh?: RegExp;
  /** Why the reference runner's outcome differs, on purpose (docs/pigweed.md); compared otherwise. */
  referenceDiffers?: string;
}

const SCRIPT_CASES: Case[] = [
  'argv.py',
  'atexit_error.py',
  'atexit_handlers.py',
  'big_output.py',
  'chained.py',
  'cwd.py',
  'daemon_thread.py',
  'env_vars.py',
  'excepthook.py',
  'exit_in_finally.py',
  'exit_int.py',
  'exit_message.py',
  'exit_none.py',
  'flush_at_exit.py',
  'import_error.py',
  'interleave.py',
  'keyboard_interrupt.py',
  'main_module.py',
  'modules.py',
  'mp_fork.py',
  'mp_spawn.py',
  'no_trace.py',
  'open_file_at_exit.py',
  'os_exit.py',
  'pickle_main.py',
  'signals.py',
  'stdin_read.py',
  'stdio.py',
  'subprocess_child.py',
  'syntax_error.py',
  'sys_path.py',
  'threads.py',
  'uncaught.py',
  'unicode_output.py',
  'warnings_output.py',
].map((script) => ({ name: script, command: [script, 'arg 1', '--flag'] }));

const SIGNAL_STATUS = 'piplock reports a signal as 128+N, python_runner.py as 256-N';
const HELD = 'piplock sets PIPLOCK_HELD for nested runners';

const CASES: Case[] = [
  ...SCRIPT_CASES.map((c) => ({
    ...c,
    referenceDiffers: c.name === 'keyboard_interrupt.py' ? SIGNAL_STATUS : c.name === 'no_trace.py' ? HELD : undefined,
  })),
  // Output combined in one file: the order of stdout and stderr shows their buffering.
  ...[
    'interleave.py',
    'uncaught.py',
    'exit_int.py',
    'exit_message.py',
    'threads.py',
    'flush_at_exit.py',
    'syntax_error.py',
    'big_output.py',
  ].map((script) => ({ name: `${script}, --capture-output`, options: ['--capture-output'], command: [script] })),
  {
    name: 'keyboard_interrupt.py, --capture-output',
    options: ['--capture-output'],
    command: ['keyboard_interrupt.py'],
    referenceDiffers: SIGNAL_STATUS,
  },
  { name: '-m module', options: ['--module', 'fidmod'], command: ['x', 'y'] },
  { name: '-m package (__main__)', options: ['--module', 'fidpkg'], command: ['z'] },
  { name: '-m module that raises', options: ['--module', 'fidpkg.fails'], command: [] },
  {
    name: '-m module that raises, --capture-output',
    options: ['--capture-output', '--module', 'fidpkg.fails'],
    command: [],
  },
  { name: '-m package, --capture-output', options: ['--capture-output', '--module', 'fidpkg'], command: [] },
  { name: '-m missing module', options: ['--module', 'no_such_module_here'], command: [] },
  {
    name: '--env',
    options: ['--env', 'FIDELITY_SETTING=1', '--env', 'FIDELITY_OTHER=two=2'],
    command: ['env_vars.py'],
  },
  {
    name: '--env PYTHONPATH (read at start-up)',
    options: ['--env', 'PYTHONPATH=extra'],
    command: ['sys_path.py'],
    fresh: /PYTHONPATH is read at start-up/,
  },
  {
    name: '--env PYTHONIOENCODING (read at start-up)',
    options: ['--env', 'PYTHONIOENCODING=latin-1'],
    command: ['unicode_output.py'],
    fresh: /PYTHONIOENCODING is read at start-up/,
  },
  { name: '--working-directory', options: ['--working-directory', 'fidpkg'], command: ['../cwd.py'] },
  { name: '--touch, success', options: ['--touch', 'stamps/ok.stamp'], command: ['exit_none.py'] },
  {
    name: '--touch, failure, --capture-output',
    options: ['--touch', 'stamps/no.stamp', '--capture-output'],
    command: ['exit_int.py'],
  },
  { name: 'a symlink to the script, in another directory', command: ['links/linked.py'] },
  { name: 'a script that is a directory', command: ['fidpkg'], fresh: /not a source file: fidpkg/ },
  { name: 'a script that is missing', command: ['missing.py'], fresh: /not a source file: missing\.py/ },
];

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Files the script leaves, and stamps. */
  files: string;
}

/** Object addresses change from run to run. */
const normal = (s: string): string => s.replace(/0x[0-9a-f]+/g, '0xADDR');

describe('in-process actions: the same as in a fresh interpreter (gn/piplock_action.py)', function () {
  this.timeout(120_000);
  let out: string;
  let env: NodeJS.ProcessEnv;
  let haveReference = false;

  before(function () {
    if (IS_WINDOWS || !havePython()) {
      const reason = IS_WINDOWS ? 'Windows has no in-process path (no fork)' : `no '${PYTHON}'`;
      console.log(`      pending: ${reason}`);
      this.skip();
    }
    haveReference = fs.existsSync(REFERENCE);
    if (!haveReference) console.log(`      (no reference runner at ${REFERENCE}: compared with the fresh path only)`);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-fidelity-'));
    out = path.join(root, 'out');
    fs.cpSync(SCRIPTS, out, { recursive: true });
    fs.mkdirSync(path.join(out, 'links'));
    fs.symlinkSync(path.join('..', 'sys_path.py'), path.join(out, 'links', 'linked.py'));
    env = { ...process.env };
    delete env.PYTHONUNBUFFERED;
    delete env.PYTHONDONTWRITEBYTECODE;
    delete env.PIPLOCK_IN_PROCESS;
  });
  after(() => {
    if (out) fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });

  function run(argv: string[]): Outcome {
    for (const f of ['left-open.out', 'stamps']) fs.rmSync(path.join(out, f), { recursive: true, force: true });
    const r = spawnSync(argv[0]!, argv.slice(1), { cwd: out, env, input: 'some input\n', timeout: 90_000 });
    if (r.error) throw r.error;
    const leftOpen = path.join(out, 'left-open.out');
    const stamps = path.join(out, 'stamps');
    const files = [
      fs.existsSync(leftOpen) ? `left-open.out: ${fs.readFileSync(leftOpen, 'utf8')}` : '',
      fs.existsSync(stamps) ? `stamps: ${fs.readdirSync(stamps).join(' ')}` : '',
    ].join('');
    return { status: r.status, stdout: normal(r.stdout.toString()), stderr: normal(r.stderr.toString()), files };
  }

  const launcher = (c: Case, extra: string[]): string[] => [
    PYTHON,
    LAUNCHER,
    `--node=${NODE}`,
    ...extra,
    ...RUNNER_ARGS,
    ...(c.options ?? []),
    '--',
    ...c.command,
  ];

  for (const c of CASES) {
    it(c.name, function () {
      const inProcess = run(launcher(c, []));
      const fresh = run(launcher(c, ['--in-process=false']));
      assert.deepEqual(inProcess, fresh, "in the launcher's Python, as in a fresh one started by Node");

      const debug = run(launcher({ ...c, options: ['--log-level=debug', ...(c.options ?? [])] }, []));
      const where = /^piplock: debug: the launcher runs the action in (.*)$/m.exec(debug.stderr)?.[1];
      if (c.fresh) assert.match(where ?? '', new RegExp(`^a fresh interpreter: ${c.fresh.source}`), debug.stderr);
      else assert.equal(where, 'its own interpreter', debug.stderr);

      if (!haveReference) return;
      if (c.referenceDiffers !== undefined) {
        console.log(`        (not compared with the reference runner: ${c.referenceDiffers})`);
        return;
      }
      const reference = run([PYTHON, REFERENCE, ...RUNNER_ARGS, ...(c.options ?? []), '--', ...c.command]);
      assert.deepEqual(inProcess, reference, "in the launcher's Python, as with Pigweed's python_runner.py");
    });
  }
});
