import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tryAcquire } from '../../src/lock/acquire';
import { startHolder } from '../support/holders';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { eventually, exited, nodeEval, run, runCli, tmpDir, waitForLine } from '../support/procs';
import { sabotaged } from '../support/sabotage';

/** One line on stderr, starting with piplock's prefix, and no stack trace. */
function assertOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.split(/\r?\n/).filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got: ${stderr}`);
  assert.match(lines[0]!, /^piplock: error: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /^\s+at /m);
}

/**
 * The runner under test. PIPLOCK_TEST_SABOTAGE=flock-runner puts flock(1) in
 * its place, a runner that passes its lock to the command and forwards no
 * signals, to show that the inheritance and signal tests fail without
 * piplock's handling (Linux only).
 */
function runner(lockfile: string, mode: 'shared' | 'exclusive', command: string[]): [string, string[]] {
  if (sabotaged('flock-runner')) return ['flock', [mode === 'shared' ? '-s' : '-x', lockfile, ...command]];
  return [NODE, [CLI, '--lockfile', lockfile, '--mode', mode, '--', ...command]];
}

function isFree(lockfile: string): boolean {
  const lock = tryAcquire(lockfile, 'exclusive');
  lock?.release();
  return lock !== null;
}

describe('runner CLI', function () {
  it("exits with the command's status", async function () {
    const dir = tmpDir();
    const r = await runCli(['--lockfile', path.join(dir, 'pip.lock'), '--', ...nodeEval('process.exit(7)')]);
    assert.equal(r.status, 7);
    const ok = await runCli(['run', '--lockfile', path.join(dir, 'pip.lock'), '--', ...nodeEval('0')]);
    assert.equal(ok.status, 0);
  });

  it('lets the command use stdout and stderr, and is silent itself by default', async function () {
    const r = await runCli([
      '--lockfile',
      path.join(tmpDir(), 'pip.lock'),
      '--',
      ...nodeEval("console.log('out'); console.error('err')"),
    ]);
    assert.equal(r.stdout.trim(), 'out');
    assert.equal(r.stderr.trim(), 'err');
  });

  it('creates missing parent directories of the lock file', async function () {
    const lockfile = path.join(tmpDir(), 'a', 'b c', 'pip.lock');
    const r = await runCli(['--lockfile', lockfile, '--', ...nodeEval('0')]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.statSync(lockfile).isFile());
    assert.equal(fs.statSync(lockfile).size, 0, 'the lock file stays empty');
  });

  it('holds the lock, in the mode of the command, while the command runs', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    // Inside the command, an unrelated process (not a nested runner: PIPLOCK_HELD removed) tries both modes once.
    const probe = `const {execFileSync}=require('child_process');
      const env={...process.env}; delete env.PIPLOCK_HELD;
      const t=(m)=>{try{execFileSync(process.execPath,[${JSON.stringify(CLI)},'--lockfile',${JSON.stringify(lockfile)},'--mode',m,'--timeout','0','--',process.execPath,'-e','0'],{stdio:'ignore',env});return 'free'}catch{return 'busy'}};
      console.log(t('shared')+' '+t('exclusive'))`;
    const shared = await runCli(['--lockfile', lockfile, '--mode', 'shared', '--', NODE, '-e', probe]);
    assert.equal(shared.stdout.trim(), 'free busy', shared.stderr);
    const exclusive = await runCli(['--lockfile', lockfile, '--mode', 'exclusive', '--', NODE, '-e', probe]);
    assert.equal(exclusive.stdout.trim(), 'busy busy', exclusive.stderr);
    assert.ok(isFree(lockfile), 'released after the command');
  });

  it('in auto mode locks pip exclusively and anything else shared', async function () {
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    // A stand-in "pip" (a node script named pip.js would not do: the name must be pip).
    const holder = await startHolder(lockfile, 'shared');
    try {
      const pip = await runCli([
        '--lockfile',
        lockfile,
        '--timeout',
        '0',
        '--log-level',
        'debug',
        '--',
        'pip',
        '--version',
      ]);
      assert.equal(pip.status, 1, 'pip waits for the shared holder');
      assert.match(pip.stderr, /busy: cannot take an exclusive lock on '.*' without waiting; held by /);
      const other = await runCli(['--lockfile', lockfile, '--timeout', '0', '--', ...nodeEval('0')]);
      assert.equal(other.status, 0, 'anything else shares');
    } finally {
      await holder.release();
    }
  });

  it('waits while the lock is busy and runs the command once it is released', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive');
    const child = spawn(
      NODE,
      [CLI, '--lockfile', lockfile, '--log-level', 'debug', '--', ...nodeEval("console.log('ran')")],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    assert.ok(
      await eventually(() => /lock busy, attempt 2/.test(err), 10_000),
      `debug shows every busy attempt: ${err}`,
    );
    assert.equal(out, '', 'the command has not run while the lock is held');
    await holder.release();
    const { code } = await exited(child);
    assert.equal(code, 0);
    assert.equal(out.trim(), 'ran');
    assert.match(err, /shared lock taken with .*; running \[/, 'debug shows the exact command run');
  });

  it('writes JSON lines with --log-format json', async function () {
    const r = await runCli([
      '--lockfile',
      path.join(tmpDir(), 'pip.lock'),
      '--log-format',
      'json',
      '--log-level',
      'debug',
      '--',
      ...nodeEval('0'),
    ]);
    const lines = r.stderr.trim().split(/\r?\n/);
    assert.ok(lines.length >= 1);
    for (const line of lines) {
      const rec = JSON.parse(line) as { level: number; msg: string };
      assert.equal(typeof rec.msg, 'string');
    }
  });

  it('a lock timeout exits 1 with one line naming the file, the mode and the wait', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive');
    try {
      const r = await runCli(['--lockfile', lockfile, '--timeout', '300ms', '--', ...nodeEval("console.log('ran')")]);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '', 'the command did not run');
      assertOneLineError(r.stderr, /timed out after [\d.]+ (ms|s) waiting for a shared lock on '.*pip\.lock'/);
    } finally {
      await holder.release();
    }
  });

  it('does not pass the lock to a daemon the command leaves running', async function () {
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const pidFile = path.join(dir, 'daemon.pid');
    // On POSIX the shell hands every open descriptor down to its background job,
    // so only the runner's close-on-exec keeps the lock from the daemon.
    const daemon = IS_WINDOWS
      ? [
          NODE,
          '-e',
          `const d=require('child_process').spawn(process.execPath,['-e','setTimeout(()=>{},20000)'],{detached:true,stdio:'ignore'});
          require('fs').writeFileSync(${JSON.stringify(pidFile)},String(d.pid)); d.unref();`,
        ]
      : ['sh', '-c', `sleep 20 </dev/null >/dev/null 2>&1 & echo $! > '${pidFile}'`];
    const r = await run(...runner(lockfile, 'exclusive', daemon));
    assert.equal(r.status, 0, r.stderr);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    try {
      assert.doesNotThrow(() => process.kill(pid, 0), 'the daemon is still running');
      assert.ok(isFree(lockfile), 'the lock is free although the daemon lives on');
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  describe('signals (POSIX)', function () {
    before(function () {
      // Windows has no signals to forward: Ctrl-C reaches every process on the
      // console by itself, and kill() is TerminateProcess. appveyor covers the
      // console behaviour; see README.
      if (IS_WINDOWS) this.skip();
    });

    it('a command killed by signal N gives 128+N', async function () {
      const r = await runCli([
        '--lockfile',
        path.join(tmpDir(), 'pip.lock'),
        '--',
        ...nodeEval("process.kill(process.pid,'SIGKILL')"),
      ]);
      assert.equal(r.status, 128 + 9);
    });

    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      it(`forwards ${sig} to the command and keeps the lock until the command has exited`, async function () {
        const dir = tmpDir();
        const lockfile = path.join(dir, 'pip.lock');
        const code = `process.on('${sig}',()=>{console.log('got ${sig}');setTimeout(()=>process.exit(42),500)});console.log('ready');setInterval(()=>{},1000)`;
        const proc = spawn(...runner(lockfile, 'shared', [NODE, '-e', code]), { stdio: ['ignore', 'pipe', 'inherit'] });
        await waitForLine(proc, /^ready/);
        const got = waitForLine(proc, new RegExp(`^got ${sig}`));
        proc.kill(sig);
        await got;
        assert.ok(!isFree(lockfile), 'still held while the command handles the signal');
        const { code: status } = await exited(proc);
        assert.equal(status, 42, "the runner exits with the command's status");
        assert.ok(isFree(lockfile));
      });
    }

    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      it(`${sig} to the runner's process group (Ctrl-C in a terminal, ninja interrupting an action) reaches the command once; to the runner alone, once too`, async function () {
        const dir = tmpDir();
        const lockfile = path.join(dir, 'pip.lock');
        const log = path.join(dir, 'signals');
        const go = path.join(dir, 'go');
        fs.writeFileSync(log, '');
        // Counts the signals it gets, one line each, and runs until told to end.
        const code = `const fs=require('fs');process.on('${sig}',()=>fs.appendFileSync(${JSON.stringify(log)},'${sig}\\n'));
console.log('ready');const t=setInterval(()=>{if(fs.existsSync(${JSON.stringify(go)})){clearInterval(t);process.exit(42)}},20)`;
        // Detached: the runner leads a process group of its own, with its command in it, as a shell's job or a ninja
        // action is.
        const proc = spawn(...runner(lockfile, 'shared', [NODE, '-e', code]), {
          stdio: ['ignore', 'pipe', 'inherit'],
          detached: true,
        });
        const count = (): number =>
          fs
            .readFileSync(log, 'utf8')
            .split('\n')
            .filter((l) => l === sig).length;
        try {
          await waitForLine(proc, /^ready/);
          process.kill(-proc.pid!, sig);
          assert.ok(await eventually(() => count() >= 1, 10_000), 'the command got the signal');
          // A forwarded second one would come within milliseconds; half a second is ample on a busy machine.
          await new Promise((r) => setTimeout(r, 500));
          assert.equal(count(), 1, 'the command got the signal once, from the kernel, and not again from the runner');
          process.kill(proc.pid!, sig);
          assert.ok(await eventually(() => count() >= 2, 10_000), 'a signal to the runner alone reaches the command');
          await new Promise((r) => setTimeout(r, 500));
          assert.equal(count(), 2, 'once');
        } finally {
          fs.writeFileSync(go, '');
        }
        const { code: status } = await exited(proc);
        assert.equal(status, 42, "the runner exits with the command's status");
      });
    }
  });

  describe('bad input: one line, non-zero status, no stack trace', function () {
    const lockfile = (): string => path.join(tmpDir(), 'pip.lock');
    const cases: Array<[string, () => string[], number, RegExp]> = [
      ['nothing after --', () => ['--lockfile', lockfile(), '--'], 2, /no command given/],
      ['no command at all', () => ['--lockfile', lockfile()], 2, /no command given/],
      ['no --lockfile', () => ['--', ...nodeEval('0')], 2, /--lockfile/],
      [
        'an unknown option',
        () => ['--lockfile', lockfile(), '--frobnicate', '--', ...nodeEval('0')],
        2,
        /unknown option '--frobnicate'/,
      ],
      [
        'a bad --timeout',
        () => ['--lockfile', lockfile(), '--timeout', 'soon', '--', ...nodeEval('0')],
        2,
        /--timeout.*'soon'/,
      ],
      [
        'a negative --timeout',
        () => ['--lockfile', lockfile(), '--timeout', '-5', '--', ...nodeEval('0')],
        2,
        /--timeout/,
      ],
      [
        'a bad --mode',
        () => ['--lockfile', lockfile(), '--mode', 'sometimes', '--', ...nodeEval('0')],
        2,
        /--mode.*'sometimes'.*auto, shared, exclusive/,
      ],
      [
        'a bad --log-level',
        () => ['--lockfile', lockfile(), '--log-level', 'loud', '--', ...nodeEval('0')],
        2,
        /--log-level.*'loud'/,
      ],
      ['a lock path that is a directory', () => ['--lockfile', tmpDir(), '--', ...nodeEval('0')], 1, /is a directory/],
      [
        'a command that does not exist',
        () => ['--lockfile', lockfile(), '--', 'piplock-no-such-command-xyz'],
        127,
        /command not found: 'piplock-no-such-command-xyz'/,
      ],
    ];
    for (const [what, args, status, pattern] of cases) {
      it(what, async function () {
        const r = await runCli(args());
        assert.equal(r.status, status, r.stderr);
        assertOneLineError(r.stderr, pattern);
      });
    }

    it('a command that is not executable (126)', async function () {
      // Windows has no execute bit: CreateProcess refuses by file type, and libuv reports that as not found.
      if (IS_WINDOWS) this.skip();
      const file = path.join(tmpDir(), 'not-executable');
      fs.writeFileSync(file, 'data\n', { mode: 0o644 });
      const r = await runCli(['--lockfile', path.join(tmpDir(), 'pip.lock'), '--', file]);
      assert.equal(r.status, 126, r.stderr);
      assertOneLineError(r.stderr, /cannot execute '.*not-executable': permission denied/);
    });

    it('on Windows, a batch file is refused in one line that says how to run it (126), before it could run', async function () {
      // cmd.exe parses a batch file's arguments again; Node 20.12.2+ throws spawn EINVAL at once for one without a shell.
      if (!IS_WINDOWS) this.skip();
      const dir = tmpDir();
      const batch = path.join(dir, 'tool.cmd');
      const ran = path.join(dir, 'ran');
      fs.writeFileSync(batch, `@echo ran> "${ran}"\r\n`);
      const r = await runCli(['--lockfile', path.join(dir, 'pip.lock'), '--', batch, 'a&b']);
      assert.equal(r.status, 126, r.stderr);
      assertOneLineError(
        r.stderr,
        /cannot execute '.*tool\.cmd': a batch file runs only under cmd\.exe.*'cmd \/c .*tool\.cmd \.\.\.'/,
      );
      assert.ok(!fs.existsSync(ran), 'the batch file did not run');
    });

    it('on Windows, "command not found" says that PATH is searched for .com and .exe only (127)', async function () {
      if (!IS_WINDOWS) this.skip();
      const r = await runCli(['--lockfile', lockfile(), '--', 'piplock-no-such-command-xyz']);
      assert.equal(r.status, 127, r.stderr);
      assertOneLineError(
        r.stderr,
        /command not found: 'piplock-no-such-command-xyz' \(Windows searches PATH .*PATHEXT/,
      );
    });

    it('a command that the OS refuses at once (ENOTDIR): one line with its own text (126), not a raw "spawn ENOTDIR"', async function () {
      // Node throws most spawn errors at once instead of emitting 'error'. Windows' PATH search answers ENOENT here.
      if (IS_WINDOWS) this.skip();
      const file = path.join(tmpDir(), 'plain-file');
      fs.writeFileSync(file, '');
      const r = await runCli(['--lockfile', lockfile(), '--', path.join(file, 'x')]);
      assert.equal(r.status, 126, r.stderr);
      assertOneLineError(r.stderr, /cannot start '.*plain-file.x': not a directory \(ENOTDIR\)/);
    });

    it('a lock file in a place where it cannot be created', async function () {
      // Root ignores permission bits, so use places no one may create files in.
      const place = IS_WINDOWS
        ? 'Q:\\piplock-no-such-drive\\pip.lock'
        : process.getuid?.() === 0
          ? '/sys/piplock-test/pip.lock'
          : '/proc/piplock-test/pip.lock';
      const r = await runCli(['--lockfile', place, '--', ...nodeEval("console.log('ran')")]);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '', 'the command did not run');
      assertOneLineError(r.stderr, /cannot (create directory|open lock file) '.*piplock-(test|no-such-drive)/);
    });

    it('a lock file that exists but may not be written still locks (read-only open)', async function () {
      if (IS_WINDOWS || process.getuid?.() === 0) this.skip(); // root and Windows ignore the mode bits tested here
      const readOnly = lockfile();
      fs.writeFileSync(readOnly, '', { mode: 0o444 });
      const r = await runCli(['--lockfile', readOnly, '--', ...nodeEval('0')]);
      assert.equal(r.status, 0, r.stderr);
    });
  });
});
