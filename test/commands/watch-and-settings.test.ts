import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sideDir } from '../../platform';
import { check } from '../../src/index';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { exited, run, runCli, tmpDir, waitForLine } from '../support/procs';

const HOLD = "process.stdout.write('held\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";

async function startRunner(lockfile: string, mode: string, label: string): Promise<ChildProcess> {
  const runner = spawn(NODE, [CLI, '--lockfile', lockfile, '--mode', mode, '--label', label, '--', NODE, '-e', HOLD], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  await waitForLine(runner, /^held/);
  return runner;
}

async function waitingEntries(lockfile: string, n: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check(lockfile).waiters.length >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('seeing the lock live: status --watch and check()', function () {
  it('check() answers who holds and who waits, with their labels', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const pip = await startRunner(lockfile, 'exclusive', '//:pip_install');
    const waiter = runCli(['--lockfile', lockfile, '--mode', 'shared', '--label', '//pkg:gen', '--', NODE, '-e', '0']);
    try {
      await waitingEntries(lockfile, 1);
      const info = check(lockfile);
      assert.equal(info.path, path.resolve(lockfile));
      assert.deepEqual(
        info.holders.map((h) => [h.label, h.mode]),
        [['//:pip_install', 'exclusive']],
      );
      assert.deepEqual(
        info.waiters.map((h) => [h.label, h.mode]),
        [['//pkg:gen', 'shared']],
      );
    } finally {
      pip.stdin!.end();
      await exited(pip);
    }
    assert.equal((await waiter).status, 0);
    assert.deepEqual(check(lockfile), { path: path.resolve(lockfile), holders: [], waiters: [] });
  });

  it('status --watch prints a snapshot per interval when not on a terminal, with whom each waiter waits for, and ends cleanly', async function () {
    if (IS_WINDOWS) {
      console.log('      pending: Ctrl-C cannot be sent to one process of a Wine console from here');
      this.skip();
    }
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const pip = await startRunner(lockfile, 'exclusive', '//:pip_install');
    const waiter = runCli(['--lockfile', lockfile, '--mode', 'shared', '--label', '//pkg:gen', '--', NODE, '-e', '0']);
    await waitingEntries(lockfile, 1);
    const watch = spawn(NODE, [CLI, 'status', '--watch', '--interval', '200ms', lockfile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    watch.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      for (let i = 0; i < 200 && (out.match(/holding, /g) ?? []).length < 3; i++)
        await new Promise((r) => setTimeout(r, 50));
      watch.kill('SIGINT');
      const end = await exited(watch);
      assert.equal(end.code, 0, 'Ctrl-C ends it with status 0');
    } finally {
      pip.stdin!.end();
      await exited(pip);
    }
    await waiter;
    const snapshots = out.split(/\n(?=\d{4}-\d\d-\d\dT)/);
    assert.ok(snapshots.length >= 3, `one snapshot per interval: ${out}`);
    assert.ok(!out.includes('\u001b['), 'no terminal control sequences when not on a terminal');
    const last = snapshots[snapshots.length - 1]!;
    assert.match(last, /1 holding, 1 waiting/);
    assert.match(last, /holding +exclusive +[\d.]+ (ms|s) +\d+ +\/\/:pip_install +/);
    assert.match(
      last,
      /waiting +shared +[\d.]+ (ms|s) +\d+ +\/\/pkg:gen +\/\/:pip_install/,
      'the waiter, and whom it waits for',
    );
  });

  it('settings from the environment: PIPLOCK_TIMEOUT and PIPLOCK_LOG_LEVEL, a flag wins, a bad value is one error line', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const pip = await startRunner(lockfile, 'exclusive', '//:pip_install');
    try {
      const env = { ...process.env, PIPLOCK_TIMEOUT: '0' };
      const once = await runCli(['--lockfile', lockfile, '--', NODE, '-e', '0'], { env });
      assert.equal(once.status, 1);
      assert.match(once.stderr, /^piplock: error: busy: cannot take a shared lock/);
      const flagWins = await runCli(['--lockfile', lockfile, '--timeout', '300ms', '--', NODE, '-e', '0'], { env });
      assert.equal(flagWins.status, 1);
      assert.match(flagWins.stderr, /timed out after/);
      const rp = await runCli(
        [
          'python-runner',
          '--gn-root',
          '.',
          '--current-path',
          '.',
          '--default-toolchain',
          '//t:t',
          '--current-toolchain',
          '//t:t',
          '--lockfile',
          lockfile,
          '--python',
          NODE,
          '--',
          '-e',
          '0',
        ],
        { env },
      );
      assert.equal(rp.status, 1, 'python-runner reads PIPLOCK_TIMEOUT too');
      assert.match(rp.stderr, /busy: cannot take a shared lock/);
      const bad = await runCli(['--lockfile', lockfile, '--', NODE, '-e', '0'], {
        env: { ...process.env, PIPLOCK_TIMEOUT: 'soon' },
      });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /^piplock: error: PIPLOCK_TIMEOUT: 'soon' is not a duration/);
    } finally {
      pip.stdin!.end();
      await exited(pip);
    }
    const debug = await runCli(['--lockfile', lockfile, '--', NODE, '-e', '0'], {
      env: { ...process.env, PIPLOCK_LOG_LEVEL: 'DEBUG' },
    });
    assert.equal(debug.status, 0, debug.stderr);
    assert.match(debug.stderr, /piplock: debug: shared lock taken/);
    const quiet = await runCli(['--lockfile', lockfile, '--log-level', 'warn', '--', NODE, '-e', '0'], {
      env: { ...process.env, PIPLOCK_LOG_LEVEL: 'debug' },
    });
    assert.equal(quiet.stderr, '', 'the flag wins over the variable');
    assert.ok(fs.existsSync(sideDir(lockfile)));
  });

  it('status --watch ends without an error line or a stack trace when its reader goes away (| head)', async function () {
    if (IS_WINDOWS) {
      console.log('      pending: Windows Node cannot write to a pipe of the Wine lane');
      this.skip();
    }
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await run('sh', [
      '-c',
      `"$0" "$1" status --watch --interval 50ms "$2" | head -n 1; echo "status \${PIPESTATUS:-$?}"`,
      NODE,
      CLI,
      lockfile,
    ]);
    assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /, r.stderr);
    assert.match(r.stdout, /no holders, no waiters/);
  });

  it('a --label with a control character is a usage error', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await runCli(['--lockfile', lockfile, '--label', '//:a\nb', '--', NODE, '-e', '0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^piplock: error: --label: "\/\/:a\\nb" has a control character\r?\n$/);
  });
});
