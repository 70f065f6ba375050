import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHolder } from '../support/holders';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { run, runCli, tmpDir } from '../support/procs';

describe('piplock status says free only when a try on the lock says so', function () {
  it('a holder it cannot see (from another PID namespace, whose /proc/locks hides it): held, not free', async function () {
    if (process.platform !== 'linux' || spawnSync('unshare', ['-p', '-f', '--mount-proc', 'true']).status !== 0) {
      console.log('      pending: unshare -p -f --mount-proc is not allowed here (Linux, CAP_SYS_ADMIN)');
      this.skip();
    }
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive', { bare: true });
    try {
      const r = await run('unshare', ['-p', '-f', '--mount-proc', '--', NODE, CLI, 'status', lockfile]);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /free/);
      assert.match(r.stdout, /held, by a process piplock cannot see/);
    } finally {
      await holder.release();
    }
    const after = await runCli(['status', lockfile]);
    assert.match(after.stdout, /: free \(no holders, no waiters\)/);
  });

  it('a lock file that does not exist (a mistyped path): says so, status 1, and creates nothing', async function () {
    const dir = tmpDir();
    const typo = path.join(dir, 'out', 'pip.lok');
    const r = await runCli(['status', typo]);
    assert.equal(r.status, 1, r.stdout);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^piplock: error: no lock file '.*pip\.lok': nothing has locked it yet, or the path is mistyped\r?\n$/,
    );
    assert.equal(fs.existsSync(path.join(dir, 'out')), false, 'nothing created');
    const empty = await runCli(['status', '']);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /^piplock: error: status: the lock file is an empty string\r?\n$/);
  });

  for (const [what, make] of [
    ['a directory', (dir: string): string => dir],
    ...(IS_WINDOWS ? [] : [['/dev/null', (): string => '/dev/null'] as const]),
  ] as const) {
    it(`${what}: one error line and status 1, not "free"`, async function () {
      const r = await runCli(['status', make(tmpDir())]);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /^piplock: error: cannot use '.*' as a lock file: it is (a directory|not a regular file)\n$/,
      );
    });
  }

  it('lists a runner with a command line of 100 KiB, shortened', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const long = 'x'.repeat(100 * 1024);
    const holder = await startHolder(lockfile, 'exclusive', { bare: true });
    try {
      const waiting = runCli(['--lockfile', lockfile, '--timeout', '20s', '--', NODE, '-e', '0', long]);
      let listed = false;
      for (let i = 0; i < 100 && !listed; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const s = await runCli(['status', '--json', lockfile]);
        listed = (JSON.parse(s.stdout) as { entries: { registered: boolean }[] }).entries.some((e) => e.registered);
      }
      assert.ok(listed, 'the waiting runner is listed');
      await holder.release();
      assert.equal((await waiting).status, 0);
    } finally {
      await holder.release();
    }
  });

  it('an entry whose since is out of range is ignored, and --json still answers', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    fs.writeFileSync(lockfile, '');
    fs.mkdirSync(`${lockfile}.d`);
    const entry = { pid: process.pid, mode: 'shared', state: 'holding', command: ['x'], since: 1e300 };
    fs.writeFileSync(path.join(`${lockfile}.d`, `${process.pid}.json`), JSON.stringify(entry));
    const r = await runCli(['status', '--json', lockfile]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { entries: unknown[] }).entries, []);
  });

  it('prints control characters of an argv escaped: no terminal escapes, no fake lines', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive', { bare: true });
    try {
      const waiting = runCli([
        '--lockfile',
        lockfile,
        '--timeout',
        '20s',
        '--',
        NODE,
        '-e',
        '0',
        '\x1b[2J\nPID 1 fake',
      ]);
      let out = '';
      for (let i = 0; i < 100 && !out.includes('fake'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        out = (await runCli(['status', lockfile])).stdout;
      }
      assert.match(out, /\$'\\x1b\[2J\\x0aPID 1 fake'/);
      assert.ok(!out.includes('\x1b'), 'no raw escape');
      await holder.release();
      assert.equal((await waiting).status, 0);
    } finally {
      await holder.release();
    }
  });
});
