/**
 * What the OS refuses on the way, each said in one `piplock: error:` line with the status it means, never Node's
 * own text (`spawn E2BIG`, `ENOENT: no such file or directory, uv_cwd`, `ENOSPC: ..., write`): issue 18's low items.
 * POSIX: Windows has no deletable working directory, no /dev/full, and its own command-line limit.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { run, tmpDir, which } from '../support/procs';

function assertOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  assert.match(lines[0]!, /^piplock: error: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /uv_cwd|\bspawn E|^\w+: [a-z ]+, \w+$/m, 'none of Node’s own texts');
}

const GN = (dir: string): string[] => [
  'python-runner',
  '--gn-root',
  dir,
  '--current-path',
  dir,
  '--default-toolchain',
  '//t:t',
  '--current-toolchain',
  '//t:t',
  '--python',
  NODE,
];

describe('what the OS refuses on the way: one line each, with the status it means', function () {
  before(function () {
    if (IS_WINDOWS) this.skip();
  });

  it("a command line the OS finds too long for the command (E2BIG, past ARG_MAX with the runner's additions): status 126", async function () {
    // The command's environment and argv are the runner's plus a few hundred bytes: PIPLOCK_HELD, and the setpriv
    // parent-death wrapper. Without setpriv the command's are shorter than the runner's own, and cannot be too long.
    if (which('setpriv') === undefined) this.skip();
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const args = [CLI, '--lockfile', lockfile, '--', 'true'];
    const env = (size: number): NodeJS.ProcessEnv => {
      const e: NodeJS.ProcessEnv = { ...process.env };
      for (let i = 0; size > 0; i++, size -= 100_000) e[`FILL${i}`] = 'x'.repeat(Math.min(size, 100_000));
      return e;
    };
    const runner = (size: number) => spawnSync(NODE, args, { env: env(size), encoding: 'utf8' });
    // The largest environment with which the runner itself still starts, found by halving (the limit depends on the
    // stack size): the command's, a little larger, is then too long.
    let [lo, hi] = [0, 1 << 26];
    if (runner(hi).error === undefined) this.skip(); // no limit that low here
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (runner(mid).error === undefined) lo = mid;
      else hi = mid;
    }
    const r = runner(lo);
    assert.equal(r.status, 126, r.stderr);
    assertOneLineError(r.stderr, /cannot start 'true': argument list too long \(E2BIG\)/);
  });

  it('a symlink loop in a parent directory of the lock file (ELOOP): status 1, for run, status and python-runner', async function () {
    const dir = tmpDir();
    fs.symlinkSync('loop', path.join(dir, 'loop'));
    const lockfile = path.join(dir, 'loop', 'pip.lock');
    fs.writeFileSync(path.join(dir, 'x.py'), '');
    for (const args of [
      ['--lockfile', lockfile, '--', NODE, '-e', '0'],
      ['status', lockfile],
      [...GN(dir), '--lockfile', lockfile, '--', path.join(dir, 'x.py')],
    ]) {
      const r = await run(NODE, [CLI, ...args]);
      assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
      assertOneLineError(r.stderr, /'[^']*loop[^']*'.*too many levels of symbolic links \(ELOOP\)/);
    }
  });

  it('a working directory that was deleted: a relative lock path is one error line, status 1; an absolute one locks', async function () {
    const dir = tmpDir();
    const gone = path.join(dir, 'gone');
    const absolute = path.join(dir, 'pip.lock');
    fs.writeFileSync(path.join(dir, 'x.py'), '');
    const inGone = (args: string[]): ReturnType<typeof run> =>
      run('sh', ['-c', `mkdir '${gone}' && cd '${gone}' && rmdir '${gone}' && exec "$@"`, 'sh', NODE, CLI, ...args]);
    for (const args of [
      ['--lockfile', 'pip.lock', '--', NODE, '-e', '0'],
      ['status', 'pip.lock'],
      [...GN(dir), '--lockfile', 'pip.lock', '--', path.join(dir, 'x.py')],
    ]) {
      const r = await inGone(args);
      assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
      assertOneLineError(r.stderr, /the working directory .*deleted/);
    }
    const r = await inGone(['--lockfile', absolute, '--', NODE, '-e', 'console.log("ran")']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ran\n');
  });

  it('output to a full device (status > /dev/full): one error line, status 1', async function () {
    if (!fs.existsSync('/dev/full')) this.skip(); // Linux
    const lockfile = path.join(tmpDir(), 'pip.lock');
    fs.writeFileSync(lockfile, '');
    for (const args of [['status', lockfile], ['status', '--json', lockfile], ['--version'], ['--help']]) {
      const r = await run('sh', ['-c', 'exec "$@" > /dev/full', 'sh', NODE, CLI, ...args]);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assertOneLineError(r.stderr, /cannot write .*standard output.*no space left on device \(ENOSPC\)/);
    }
  });

  it('output to a pipe whose reader has gone (| head -1): silent, status 141 as after SIGPIPE', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    // One acquisition, so that report has an event log to print.
    const once = await run(NODE, [CLI, '--lockfile', lockfile, '--', NODE, '-e', '0']);
    assert.equal(once.status, 0, once.stderr);
    for (const args of [
      ['status', lockfile],
      ['status', '--watch', '--interval', '50ms', lockfile],
      ['report', lockfile],
      ['--version'],
      ['--version', '--verbose'],
      ['--help'],
      ['help', 'status'],
      ['python-runner', '--help'],
    ]) {
      const child = spawn(NODE, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      // Gone before piplock writes a byte: it cannot have started yet.
      child.stdout!.destroy();
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      assert.equal(status, 141, `${args.join(' ')}: ${stderr}`);
      assert.equal(stderr, '', args.join(' '));
    }
  });
});
