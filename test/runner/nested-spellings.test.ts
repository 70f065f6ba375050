import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { platform } from '../../platform';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { runCli, tmpDir } from '../support/procs';

/** The outer runner's command: runs the inner piplock with ARGS, prints PIPLOCK_HELD as JSON first, exits with the inner status. */
function inner(args: string[]): string[] {
  const code = `process.stdout.write(JSON.stringify(process.env.PIPLOCK_HELD ?? null) + '\\n');
const r = require('child_process').spawnSync(process.argv[1], process.argv.slice(2), { stdio: 'inherit' });
process.exit(r.status === null ? 99 : r.status);`;
  return [NODE, '-e', code, NODE, CLI, ...args];
}

/** Exclusive inside exclusive, the outer runner locking `outer`, the inner one `innerPath`: the inner one must not wait for its ancestor. */
async function nestedExclusive(outer: string, innerPath: string): Promise<string> {
  const r = await runCli([
    '--lockfile',
    outer,
    '--mode',
    'exclusive',
    '--',
    ...inner(['--lockfile', innerPath, '--mode', 'exclusive', '--timeout', '3s', '--', NODE, '-e', '0']),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout.split('\n')[0]!) as string;
}

describe('nested runners that spell the lock file differently from their ancestor', function () {
  it("PIPLOCK_HELD names the locked file's identity, read once the file is open", async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const held = await nestedExclusive(lockfile, lockfile);
    const id = platform.fileIdentity(lockfile)!;
    assert.match(held, new RegExp(`^exclusive:\\d+:\\d*:${id.dev}\\.${id.ino}:`));
  });

  it('a lock path that is a dangling symlink: the outer runner names the file it created', async function () {
    const dir = tmpDir();
    const link = path.join(dir, 'link.lock');
    try {
      fs.symlinkSync(path.join(dir, 'real.lock'), link);
    } catch (err) {
      console.log(`      pending: no symlinks here (${(err as NodeJS.ErrnoException).code})`);
      this.skip();
    }
    await nestedExclusive(link, link);
  });

  it('a hard link of the lock file', async function () {
    const dir = tmpDir();
    const a = path.join(dir, 'a.lock');
    const b = path.join(dir, 'b.lock');
    fs.writeFileSync(a, '');
    fs.linkSync(a, b);
    await nestedExclusive(a, b);
  });

  it('a newline in the path', async function () {
    if (IS_WINDOWS) {
      console.log('      pending: Windows file names cannot hold a newline');
      this.skip();
    }
    const lockfile = path.join(tmpDir(), 'a\nb.lock');
    const held = await nestedExclusive(lockfile, lockfile);
    assert.ok(!held.includes('\n'), 'one line');
  });

  it('a bind mount of the directory', async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) {
      console.log('      pending: bind mounts need root on Linux');
      this.skip();
    }
    const dir = tmpDir();
    const real = path.join(dir, 'real');
    const mnt = path.join(dir, 'mnt');
    fs.mkdirSync(real);
    fs.mkdirSync(mnt);
    if (spawnSync('mount', ['--bind', real, mnt]).status !== 0) {
      console.log('      pending: mount --bind is not allowed here');
      this.skip();
    }
    try {
      await nestedExclusive(path.join(real, 'pip.lock'), path.join(mnt, 'pip.lock'));
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
