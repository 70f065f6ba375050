import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { RUN_OPTIONS } from '../../src/commands/run-args';
import { startHolder } from '../support/holders';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { eventually, exited, run, runCli, tmpDir, waitForLine } from '../support/procs';
import type { Result } from '../support/procs';

const HAVE_FLOCK = !IS_WINDOWS && spawnSync('flock', ['--version'], { stdio: 'ignore' }).status === 0;

/** A holder of the lock in another process: flock(1) where there is one, else piplock itself. */
async function holdExclusive(lockfile: string): Promise<ChildProcess> {
  const hold =
    "process.stdout.write('held\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";
  const child = HAVE_FLOCK
    ? spawn('flock', ['-x', lockfile, NODE, '-e', hold], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(NODE, [CLI, '--lockfile', lockfile, '-x', '--', NODE, '-e', hold], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
  await waitForLine(child, /^held/);
  return child;
}

// flock(1) options and what piplock answers to them: [args before the command, the command, status free, status busy].
const CASES: [string[], string, number, number][] = [
  [['-n'], 'exit 3', 3, 1],
  [['-n', '-E', '42'], 'exit 3', 3, 42],
  [['-x', '-n', '-E', '9'], 'exit 0', 0, 9],
  [['-s', '-n'], 'exit 4', 4, 1],
  [['-w', '0.3', '-E', '7'], 'exit 0', 0, 7],
  [['--nonblock', '--conflict-exit-code', '5'], 'exit 2', 2, 5],
];

describe('flock(1) conventions for run: -s -x -n -w -E -c, --verbose', function () {
  for (const [opts, command, free, busy] of CASES) {
    it(`${opts.join(' ')} -c '${command}': ${free} when free, ${busy} when busy${HAVE_FLOCK ? ', as flock(1) answers' : ''}`, async function () {
      const lockfile = path.join(tmpDir(), 'pip.lock');
      const ours = (): Promise<Result> => runCli([...opts, '--lockfile', lockfile, '-c', command]);
      const theirs = (): Promise<Result> => run('flock', [...opts, lockfile, '-c', command]);
      const a = await ours();
      assert.equal(a.status, free, `piplock, lock free: ${a.stderr}`);
      if (HAVE_FLOCK) assert.equal((await theirs()).status, free, 'flock(1), lock free');
      const holder = await holdExclusive(lockfile);
      try {
        const b = await ours();
        assert.equal(b.status, busy, `piplock, lock busy: ${b.stderr}`);
        assert.match(b.stderr, /^piplock: error: (busy: cannot take|timed out after)/);
        if (HAVE_FLOCK) assert.equal((await theirs()).status, busy, 'flock(1), lock busy');
      } finally {
        holder.stdin!.end();
        await exited(holder);
      }
    });
  }

  it("-c runs its command through the shell, with the shell's own syntax", async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await runCli(['--lockfile', lockfile, '-c', IS_WINDOWS ? 'echo one&& echo two' : 'echo one && echo two']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.stdout
        .split(/\r?\n/)
        .filter(Boolean)
        .map((l) => l.trim()),
      ['one', 'two'],
    );
  });

  it('-c and a command after -- together, or two modes, or two timeouts, are usage errors', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    for (const [args, about] of [
      [['-c', 'true', '--', 'true'], /either with -c or after '--'/],
      [['-s', '-x', '--', 'true'], /-s and -x ask for two modes/],
      [['-n', '-w', '1', '--', 'true'], /-n and -w both set the timeout/],
      [['-E', '300', '--', 'true'], /'300' is not an exit status/],
    ] as const) {
      const r = await runCli(['--lockfile', lockfile, ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^piplock: error: [^\n]+\n$/);
      assert.match(r.stderr, about);
    }
  });

  it('-c in auto mode takes the exclusive lock when pip appears anywhere in the shell line', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    for (const [line, mode] of [
      ['cd . && pip --version > /dev/null; true', 'exclusive'],
      ['PIP_NO_INDEX=1 python3 -m pip --version || true', 'exclusive'],
      // dash, the usual /bin/sh, ends the whole line when '.' cannot read its file
      ['test -f ./venv/bin/activate && . ./venv/bin/activate; pip3.11 install x || true', 'exclusive'],
      ['echo hello && python3 -c pass || true', 'shared'],
    ] as const) {
      const r = await runCli(['--verbose', '--lockfile', lockfile, '-c', IS_WINDOWS ? 'exit 0' : line]);
      if (IS_WINDOWS) continue; // the reading of the line is the same code on every OS; cmd.exe has other syntax
      assert.equal(r.status, 0, `${line}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`took the ${mode} lock`), line);
    }
  });

  it('--verbose says how long taking the lock took', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await runCli(['--verbose', '-x', '--lockfile', lockfile, '--', NODE, '-e', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^piplock: took the exclusive lock after \d+(\.\d)? (ms|s)\r?\n$/);
  });
});

describe('help, versions and log levels', function () {
  it('piplock --version --verbose prints what a bug report needs', async function () {
    const r = await runCli(['--version', '--verbose']);
    assert.equal(r.status, 0, r.stderr);
    for (const line of [
      /^piplock \d+\.\d+\.\d+$/m,
      /^node v\d+/m,
      /^platform: (linux|win32|darwin|freebsd)$/m,
      /^lock: /m,
      /^compile cache: /m,
      /^package: /m,
    ])
      assert.match(r.stdout, line);
  });

  it('log levels are read without regard to case', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await runCli(['--lockfile', lockfile, '--log-level', 'DEBUG', '--', NODE, '-e', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /piplock: debug: shared lock taken/);
    const slow = await runCli(['--lockfile', lockfile, '--log-level', 'Info', '-x', '--', NODE, '-e', '0']);
    assert.equal(slow.status, 0, slow.stderr);
    assert.match(slow.stderr, /piplock: info: acquired an exclusive lock after/);
  });

  it('with --log-format json, usage errors are JSON lines too', async function () {
    const r = await runCli(['--log-format', 'json', '--lockfile', 'x.lock', '--mdoe', 'y', '--', 'true']);
    assert.equal(r.status, 2);
    const line = JSON.parse(r.stderr) as Record<string, unknown>;
    assert.equal(line.level, 50);
    assert.equal(line.name, 'piplock');
    assert.match(String(line.msg), /unknown option '--mdoe'/);
  });

  it('JSON log lines of a contended run carry their numbers as fields: lockfile, mode, waitedMs, heldMs, holders, pid', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await holdExclusive(lockfile);
    const waiter = runCli([
      '--lockfile',
      lockfile,
      '--log-level',
      'info',
      '--log-format',
      'json',
      '--',
      NODE,
      '-e',
      '0',
    ]);
    await new Promise((r) => setTimeout(r, 800));
    holder.stdin!.end();
    await exited(holder);
    const r = await waiter;
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr
      .split(/\r?\n/)
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const byMsg = (re: RegExp): Record<string, unknown> => {
      const l = lines.find((x) => re.test(String(x.msg)));
      assert.ok(l, `a line matching ${re}: ${r.stderr}`);
      return l;
    };
    const waiting = byMsg(/^waiting for a shared lock/);
    assert.equal(waiting.lockfile, path.resolve(lockfile));
    assert.equal(waiting.mode, 'shared');
    assert.ok(Array.isArray(waiting.holders), 'holders');
    const acquired = byMsg(/^acquired a shared lock after/);
    assert.equal(typeof acquired.waitedMs, 'number');
    assert.ok((acquired.waitedMs as number) > 0);
    const released = byMsg(/^released the shared lock after holding it/);
    assert.equal(typeof released.heldMs, 'number');
    for (const l of lines) assert.equal(typeof l.pid, 'number');
  });
});

/** One line on stderr, `piplock: error: ...`, and no stack trace. */
function assertOneErrorLine(r: Result, about: RegExp): void {
  assert.match(r.stderr, /^piplock: error: [^\n]+\r?\n$/, r.stderr);
  assert.match(r.stderr.trimEnd(), about);
}

/** Exactly one JSON line on stderr, as pino writes an error. */
function assertOneJsonError(r: Result, about: RegExp): void {
  const lines = r.stderr.split(/\r?\n/).filter(Boolean);
  assert.equal(lines.length, 1, r.stderr);
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(line.level, 50);
  assert.equal(line.name, 'piplock');
  assert.equal(typeof line.pid, 'number');
  assert.match(String(line.msg), about);
}

describe('help and usage errors of every subcommand', function () {
  const SUBCOMMANDS = ['run', 'status', 'report', 'trace', 'python-runner'];

  for (const sub of SUBCOMMANDS) {
    it(`help ${sub} prints exactly what ${sub} --help and ${sub} -h print: usage, defaults, required options, exit statuses`, async function () {
      const [a, b, c] = await Promise.all([runCli(['help', sub]), runCli([sub, '--help']), runCli([sub, '-h'])]);
      for (const r of [a, b, c]) {
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, '');
      }
      assert.equal(a.stdout, b.stdout);
      assert.equal(a.stdout, c.stdout);
      assert.match(a.stdout, new RegExp(`^Usage: piplock (\\[run\\]|${sub}) `));
      assert.match(a.stdout, /\(default: [^)]+\)/);
      assert.match(a.stdout, /\(required\)/);
      assert.match(a.stdout, /^Exit status: /m);
    });
  }

  it('run --help shows every option of run, with the defaults and the exit statuses', async function () {
    const r = await runCli(['run', '--help']);
    for (const o of RUN_OPTIONS) assert.ok(r.stdout.includes(o.long), `${o.long} in run --help`);
    assert.match(r.stdout, /--mode <MODE> +.*\(default: auto\)/s);
    assert.match(r.stdout, /else 30m\)/);
    assert.match(r.stdout, /^Exit status: COMMAND's; 128\+N/m);
  });

  it('piplock --help, -h and help print one text: the subcommands, and the options of run, the default subcommand', async function () {
    const [a, b, c] = await Promise.all([runCli(['--help']), runCli(['-h']), runCli(['help'])]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.equal(a.stdout, c.stdout);
    for (const sub of SUBCOMMANDS) assert.match(a.stdout, new RegExp(`^  ${sub} `, 'm'));
    for (const o of RUN_OPTIONS.filter((x) => x.key !== 'help'))
      assert.ok(a.stdout.includes(o.long), `${o.long} in piplock --help`);
    assert.match(a.stdout, /^Exit status: /m);
  });

  // [what, argv, exit status, the error]
  const lockfile = path.join(tmpDir(), 'pip.lock');
  const USAGE_ERRORS: [string, string[], number, RegExp][] = [
    [
      'run, an unknown option',
      ['--lockfile', lockfile, '--mdoe', 'x', '--', NODE, '-e', '0'],
      2,
      /^unknown option '--mdoe' \(did you mean '--mode'\?\)$/,
    ],
    [
      'run, an option without its value',
      ['run', '--lockfile', lockfile, '--mode'],
      2,
      /^option '--mode <MODE>' argument missing$/,
    ],
    [
      'run, unknown options before a missing --lockfile, which one of them may be meant to be',
      ['--lokfile', lockfile, '--mdoe', 'x', '--bar', '--', NODE, '-e', '0'],
      2,
      /^unknown options '--lokfile', '--mdoe' and '--bar' \(did you mean '--lockfile' for '--lokfile', '--mode' for '--mdoe'\?\)$/,
    ],
    [
      'run, a bad value',
      ['--lockfile', lockfile, '--log-level', 'LOUD', '--', NODE, '-e', '0'],
      2,
      /^option '--log-level <LEVEL>' argument 'LOUD' is invalid\. invalid choice 'LOUD' \(choose from trace, /,
    ],
    [
      'run, two modes',
      ['--lockfile', lockfile, '-s', '--mode', 'exclusive', '--', NODE, '-e', '0'],
      2,
      /^-s and --mode ask for two modes: give one$/,
    ],
    ['run, no command', ['--lockfile', lockfile], 2, /^no command given: put the command to run after '--'$/],
    [
      'status, --interval without --watch',
      ['status', lockfile, '--interval', '2'],
      2,
      /^--interval goes with --watch$/,
    ],
    ['run, no --lockfile', ['--', NODE, '-e', '0'], 2, /^required option '--lockfile <PATH>' not specified$/],
    ['status, no LOCKFILE', ['status'], 2, /^missing required argument 'LOCKFILE'$/],
    [
      'status, an unknown option',
      ['status', '--jsn', lockfile],
      2,
      /^unknown option '--jsn' \(did you mean '--json'\?\)$/,
    ],
    [
      'status, two LOCKFILEs',
      ['status', lockfile, lockfile],
      2,
      /^too many arguments for 'status'\. Expected 1 argument but got 2\.$/,
    ],
    [
      'report, an unknown option',
      ['report', lockfile, '--jsno'],
      2,
      /^unknown option '--jsno' \(did you mean '--json'\?\)$/,
    ],
    [
      'report, an option without its value',
      ['report', lockfile, '--since'],
      2,
      /^option '--since <TIME>' argument missing$/,
    ],
    [
      'trace, an unknown option',
      ['trace', lockfile, '--orgin', 'x'],
      2,
      /^unknown option '--orgin' \(did you mean '--origin'\?\)$/,
    ],
    ['trace, no LOCKFILE', ['trace'], 2, /^missing required argument 'LOCKFILE'$/],
    [
      'python-runner, an unknown option',
      ['python-runner', '--captur-output', '--', 'x.py'],
      2,
      /^python-runner: unrecognized arguments: --captur-output \(did you mean '--capture-output'\?\)$/,
    ],
    [
      "python-runner, missing required options (the reference runner's message)",
      ['python-runner', '--gn-root', '..', '--', 'x.py'],
      2,
      /^python-runner: the following arguments are required: --current-path/,
    ],
    [
      'help, an unknown topic',
      ['help', 'nosuch'],
      2,
      /^no help for 'nosuch': the subcommands are run, status, report, trace, python-runner$/,
    ],
    ['help, two topics', ['help', 'run', 'status'], 2, /^help takes one SUBCOMMAND, not 2$/],
    ['a misspelt subcommand', ['stauts', lockfile], 2, /^unknown command 'stauts' \(did you mean 'status'\?\)$/],
  ];
  for (const [what, argv, status, about] of USAGE_ERRORS) {
    it(`${what}: one error line, status ${status}; a JSON line after --log-format json`, async function () {
      const text = await runCli(argv);
      assert.equal(text.status, status, text.stderr);
      assert.equal(text.stdout, '');
      assertOneErrorLine(text, new RegExp(`^piplock: error: ${about.source.slice(1)}`));
      const json = await runCli(['--log-format', 'json', ...argv]);
      assert.equal(json.status, status, json.stderr);
      assertOneJsonError(json, about);
    });
  }

  it('a bad PIPLOCK_TIMEOUT is a JSON line under --log-format json, for run and after it for python-runner', async function () {
    const env = { ...process.env, PIPLOCK_TIMEOUT: 'soon' };
    const r = await runCli(['--lockfile', lockfile, '--log-format', 'json', '--', NODE, '-e', '0'], { env });
    assert.equal(r.status, 2, r.stderr);
    assertOneJsonError(r, /^PIPLOCK_TIMEOUT: 'soon' is not a duration/);
    const dir = tmpDir();
    const gn = ['--gn-root', dir, '--current-path', dir, '--default-toolchain=//t:t', '--current-toolchain=//t:t'];
    const p = await runCli(['--log-format=json', 'python-runner', ...gn, '--lockfile', lockfile, '--', 'x.py'], {
      env,
    });
    assert.equal(p.status, 2, p.stderr);
    assertOneJsonError(p, /^python-runner: PIPLOCK_TIMEOUT: 'soon' is not a duration/);
  });
});

describe('--log-format before a subcommand', function () {
  it('python-runner, which has no --log-format of its own, writes its log lines as JSON after one', async function () {
    const dir = tmpDir();
    const gn = ['--gn-root', dir, '--current-path', dir, '--default-toolchain=//t:t', '--current-toolchain=//t:t'];
    const lockfile = path.join(dir, 'pip.lock');
    const r = await runCli(
      [
        '--log-format',
        'json',
        'python-runner',
        ...gn,
        '--lockfile',
        lockfile,
        '--python',
        NODE,
        '--log-level',
        'debug',
      ].concat(['--', '-e', '0']),
      { cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.split(/\r?\n/).filter(Boolean);
    assert.ok(lines.length > 0, 'debug logs the command run');
    for (const l of lines) assert.equal((JSON.parse(l) as { name: string }).name, 'piplock', l);
  });
});

describe('--log-level trace', function () {
  it('logs every try of a contended run as a JSON line: try, attempt, waitedMs, outcome, lockfile, mode', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive');
    const waiter = spawn(
      NODE,
      [CLI, '--lockfile', lockfile, '--log-level', 'trace', '--log-format', 'json', '--', NODE, '-e', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    waiter.stderr.on('data', (d) => (stderr += d));
    try {
      // Released once the waiter has found it busy on three rounds of its backoff.
      assert.ok(await eventually(() => /"attempt":3,[^\n]*"outcome":"busy"/.test(stderr), 20_000), stderr);
    } finally {
      await holder.release();
    }
    const { code } = await exited(waiter);
    assert.equal(code, 0, stderr);
    const lines = stderr
      .split(/\r?\n/)
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const tries = lines.filter((l) => l.level === 10);
    assert.ok(tries.length >= 4, `at least three busy tries and the one that took the lock: ${stderr}`);
    tries.forEach((t, i) => {
      assert.equal(t.try, i + 1, 'every try, numbered from 1');
      assert.equal(t.lockfile, path.resolve(lockfile));
      assert.equal(t.mode, 'shared');
      assert.equal(t.pid, waiter.pid);
      assert.equal(typeof t.attempt, 'number');
      assert.equal(typeof t.waitedMs, 'number');
      assert.match(
        String(t.msg),
        new RegExp(`^try ${i + 1} \\(attempt ${String(t.attempt)}\\) for a shared lock after`),
      );
      if (i > 0) {
        assert.ok((t.attempt as number) >= (tries[i - 1]!.attempt as number), 'attempts in order');
        assert.ok((t.waitedMs as number) >= (tries[i - 1]!.waitedMs as number), 'waits in order');
      }
    });
    assert.deepEqual(
      tries.map((t) => t.outcome),
      [...tries.slice(0, -1).map(() => 'busy'), 'taken'],
      'busy until the last try, which took the lock',
    );
    // The debug lines of the busy rounds are there too (trace includes debug), and agree on the rounds.
    const rounds = lines.filter((l) => l.level === 20 && /^lock busy, attempt/.test(String(l.msg)));
    assert.deepEqual(
      rounds.map((l) => l.attempt),
      [...new Set(tries.slice(0, -1).map((t) => t.attempt))],
    );
  });
});
