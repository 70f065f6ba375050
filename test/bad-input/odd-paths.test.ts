import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tryAcquire } from '../../src/lock/acquire';
import { startHolder } from '../support/holders';
import { CLI, havePython, IS_WINDOWS, NODE, PYTHON, TEST_SOURCES } from '../support/paths';
import { run, runCli, tmpDir, which } from '../support/procs';
import { sabotaged } from '../support/sabotage';

const ERROR_LINE = /^piplock: error: [^\n]+\n$/;

/** A holder in another process on `holderPath` must make the CLI on `cliPath` wait (refused with --timeout 0). */
async function assertExcludes(holderPath: string, cliPath: string, cwd?: string): Promise<void> {
  const holder = await startHolder(holderPath, 'exclusive');
  try {
    const r = await runCli(['--lockfile', cliPath, '--mode', 'shared', '--timeout', '0', '--', NODE, '-e', '0'], {
      cwd,
    });
    assert.equal(r.status, 1, `refused while held: ${r.stderr}`);
  } finally {
    await holder.release();
  }
  const r = await runCli(['--lockfile', cliPath, '--timeout', '0', '--', NODE, '-e', '0'], { cwd });
  assert.equal(r.status, 0, r.stderr);
}

describe('odd paths and places', function () {
  it('spaces and non-ASCII characters in the lock path and in the command', async function () {
    const dir = path.join(tmpDir(), 'with space', 'ünïcødé ☃ 日本');
    const lockfile = path.join(dir, 'pip lock ü.lock');
    const script = path.join(dir, 'scrîpt with space.js');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(script, 'console.log(JSON.stringify(process.argv.slice(2)))');
    const args = ['ärg with space', '☃', '日本語'];
    const r = await runCli(['--lockfile', lockfile, '--', NODE, script, ...args]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), args);
    assert.ok(fs.existsSync(lockfile), 'the lock file has exactly that name');
    await assertExcludes(lockfile, lockfile);
  });

  it('a lock path longer than 260 characters (the \\\\?\\ form on Windows)', async function () {
    let dir = tmpDir();
    while (dir.length < 300) dir = path.join(dir, 'a-long-directory-name-' + 'x'.repeat(20));
    const lockfile = path.join(dir, 'pip.lock');
    assert.ok(lockfile.length > 260);
    // PIPLOCK_TEST_SABOTAGE=nolongpath: this process's namespaced-path conversion is disabled, so the in-process part fails on Windows.
    const nodePath = require('node:path') as { toNamespacedPath: (p: string) => string };
    const original = nodePath.toNamespacedPath;
    if (sabotaged('nolongpath')) nodePath.toNamespacedPath = (p) => p;
    try {
      const r = await runCli(['--lockfile', lockfile, '--', NODE, '-e', '0']);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(fs.existsSync(lockfile));
      fs.mkdirSync(path.join(dir, 'second'));
      const lock = tryAcquire(lockfile, 'exclusive');
      assert.ok(lock, 'locked in process');
      lock.release();
    } finally {
      nodePath.toNamespacedPath = original;
    }
    await assertExcludes(lockfile, lockfile);
  });

  it('a relative lock path is resolved against the working directory', async function () {
    const dir = tmpDir();
    const r = await runCli(['--lockfile', path.join('out', 'pip.lock'), '--', NODE, '-e', '0'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'out', 'pip.lock')));
    await assertExcludes(path.join(dir, 'out', 'pip.lock'), path.join('out', 'pip.lock'), dir);
    await assertExcludes(path.join(dir, 'out', 'pip.lock'), path.join('.', 'out', '..', 'out', 'pip.lock'), dir);
  });

  it('a lock path that is a symlink locks its target (documented)', async function () {
    // Under Wine a symlink made by Node is not a Windows reparse point, and locking through it does not behave as
    // on Windows; real Windows also needs a privilege to make one. Untested there.
    if (IS_WINDOWS) this.skip();
    const dir = tmpDir();
    const target = path.join(dir, 'real.lock');
    const link = path.join(dir, 'pip.lock');
    fs.writeFileSync(target, '');
    try {
      fs.symlinkSync(target, link);
    } catch (err) {
      if (IS_WINDOWS) this.skip(); // symlinks need a privilege (or developer mode) on Windows
      throw err;
    }
    await assertExcludes(target, link);
    await assertExcludes(link, target);
    // A dangling symlink: opening it creates the target, as open(O_CREAT) does.
    const dangling = path.join(dir, 'dangling.lock');
    fs.symlinkSync(path.join(dir, 'created-by-open.lock'), dangling);
    const r = await runCli(['--lockfile', dangling, '--', NODE, '-e', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'created-by-open.lock')));
  });

  it('a FIFO is refused as a lock file, without hanging', async function () {
    if (IS_WINDOWS) this.skip(); // no FIFOs in Windows file systems (named pipes live in \\.\pipe\)
    const fifo = path.join(tmpDir(), 'pip.lock');
    execFileSync('mkfifo', [fifo]);
    const r = await runCli(['--lockfile', fifo, '--', NODE, '-e', '0']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, ERROR_LINE);
    assert.match(r.stderr, /it is not a regular file/);
  });

  it('a device is refused as a lock file', async function () {
    const device = IS_WINDOWS ? 'NUL' : '/dev/null';
    const r = await runCli(['--lockfile', device, '--', NODE, '-e', '0']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, ERROR_LINE);
    assert.match(r.stderr, /not a regular file|cannot (open|lock|create)/);
  });

  describe('read-only places (tests run as root here: permission bits do not stop root)', function () {
    function rootTools(this: Mocha.Context): void {
      if (IS_WINDOWS) this.skip(); // a read-only volume cannot be made under Wine; the Windows error 19/5 text is covered by platform/errors.ts
      if (process.getuid?.() !== 0 || !which('unshare') || !which('setpriv')) this.skip(); // needs root for a private read-only mount, or to drop to nobody
      const probe = spawnSync('unshare', ['-m', 'true']);
      if (probe.status !== 0) this.skip(); // no mount namespaces in this container
    }

    it('a read-only directory (as user nobody): one clear error, nothing locked', async function () {
      rootTools.call(this);
      const dir = tmpDir();
      fs.chmodSync(dir, 0o755);
      const ro = path.join(dir, 'ro');
      fs.mkdirSync(ro, { mode: 0o555 });
      fs.chmodSync(ro, 0o555);
      // The test's tmp dir may sit under a directory nobody cannot enter.
      let p = dir;
      while (p !== path.dirname(p)) {
        p = path.dirname(p);
        if ((fs.statSync(p).mode & 0o001) === 0) this.skip(); // user nobody cannot reach the test directory
      }
      const r = await run('setpriv', [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        NODE,
        CLI,
        '--lockfile',
        path.join(ro, 'pip.lock'),
        '--',
        NODE,
        '-e',
        '0',
      ]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, ERROR_LINE);
      assert.match(r.stderr, /permission denied \(EACCES\)/);
    });

    it('a read-only file system: a missing lock file is a clear error; an existing one still locks', async function () {
      rootTools.call(this);
      const dir = tmpDir();
      const empty = path.join(dir, 'empty');
      const withLock = path.join(dir, 'with-lock');
      fs.mkdirSync(empty);
      fs.mkdirSync(withLock);
      fs.writeFileSync(path.join(withLock, 'pip.lock'), '');
      const script = [
        `mount -t tmpfs -o ro none '${empty}'`,
        `mount --bind -o ro '${withLock}' '${withLock}'`,
        `'${NODE}' '${CLI}' --lockfile '${empty}/pip.lock' -- '${NODE}' -e 0; echo "status $?" >&2`,
        `'${NODE}' '${CLI}' --lockfile '${withLock}/pip.lock' -- '${NODE}' -e 'console.log("ran")'; echo "status $?" >&2`,
      ].join('\n');
      const r = await run('unshare', ['-m', 'sh', '-c', script]);
      const lines = r.stderr.split('\n');
      const missing = lines.slice(0, lines.indexOf('status 1') + 1).join('\n');
      assert.match(r.stderr, /^piplock: error: [^\n]*\nstatus 1\n/, r.stderr);
      assert.match(missing, /read-only file system \(EROFS\)/);
      assert.match(
        r.stdout,
        /^ran$/m,
        `an existing lock file on a read-only file system locks (read-only open): ${r.stderr}`,
      );
    });
  });

  it('a file system without lock support (flock fails with ENOLCK): one clear error naming it', async function () {
    if (IS_WINDOWS) this.skip(); // Windows' counterpart (error 50 from a network share) cannot be produced under Wine
    if (process.arch !== 'x64' || !havePython()) this.skip(); // the seccomp stand-in is written for Linux x86-64, in Python
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const helper = path.join(TEST_SOURCES, 'support', 'programs', 'enolck.py');
    const r = await run(PYTHON, [helper, NODE, CLI, '--lockfile', lockfile, '--', NODE, '-e', 'console.log("ran")']);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '', 'the command did not run');
    assert.match(r.stderr, ERROR_LINE);
    assert.match(r.stderr, /the file system does not support locking \(ENOLCK\)/);
    const lock = tryAcquire(lockfile, 'exclusive');
    assert.ok(lock, 'nothing left locked');
    lock.release();
  });

  it('a corrupt or truncated holder-registry entry is ignored, never a crash', async function () {
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const reg = `${lockfile}.d`;
    fs.mkdirSync(reg, { recursive: true });
    fs.writeFileSync(lockfile, '');
    const junk: Record<string, string> = {
      '111.json': '{"pid": 111, "mode": "exclu',
      '112.json': '',
      '113.json': 'null',
      '114.json': '[1,2]',
      '115.json': '{"pid":"not a number","mode":5}',
      '116.json': '\u0000\u00ff\u0001garbage',
      'notanumber.json': '{}',
    };
    for (const [name, text] of Object.entries(junk)) fs.writeFileSync(path.join(reg, name), text);
    const status = await runCli(['status', lockfile]);
    assert.equal(status.status, 0, status.stderr);
    assert.doesNotMatch(status.stderr, /TypeError|at .*\.js:\d+/);
    const json = await runCli(['status', lockfile, '--json']);
    assert.equal(json.status, 0, json.stderr);
    const r = await runCli(['--lockfile', lockfile, '--', NODE, '-e', 'console.log("ran")']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ran');
  });
});
