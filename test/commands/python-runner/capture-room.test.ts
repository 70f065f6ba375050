import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gnArgs } from '../../support/bad-input';
import { NODE } from '../../support/paths';
import { runCli, tmpDir } from '../../support/procs';

/** A $TMPDIR with no room for a file (a 64 KiB tmpfs with no inode to spare), or the reason there is none. */
function tinyTmp(dir: string): string | { why: string } {
  if (process.platform !== 'linux' || process.getuid?.() !== 0)
    return { why: 'mounting a small tmpfs needs root on Linux' };
  const tiny = path.join(dir, 'tiny');
  fs.mkdirSync(tiny);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,nr_inodes=1', 'tmpfs', tiny]).status !== 0)
    return { why: 'mount -t tmpfs is not allowed here' };
  return tiny;
}

describe('python-runner --capture-output does not depend on the room in $TMPDIR', function () {
  let dir: string;
  let tiny: string;
  before(function () {
    dir = tmpDir();
    const t = tinyTmp(dir);
    if (typeof t !== 'string') {
      console.log(`      pending: ${t.why}`);
      this.skip();
    }
    tiny = t;
  });
  after(function () {
    if (tiny) spawnSync('umount', [tiny]);
  });

  // 1 MiB of output, then the line that says what went wrong, then the status.
  const script = (status: number): string => {
    const file = path.join(dir, `out-${status}.js`);
    fs.writeFileSync(
      file,
      `process.stdout.write('x'.repeat(1024 * 1024) + '\\n', () => { process.stderr.write('the error\\n', () => process.exit(${status})); });`,
    );
    return file;
  };
  const runner = (status: number, extra: string[] = []): ReturnType<typeof runCli> =>
    runCli(
      [
        'python-runner',
        ...gnArgs(dir),
        '--python',
        NODE,
        '--lockfile',
        path.join(dir, 'pip.lock'),
        '--capture-output',
        ...extra,
        '--',
        script(status),
      ],
      { env: { ...process.env, TMPDIR: tiny } },
    );

  it('a failing action keeps its status and the end of its output', async function () {
    const r = await runner(7);
    assert.equal(r.status, 7, r.stderr);
    assert.match(r.stdout, /the error\n$/);
    assert.equal(r.stdout.length, 1024 * 1024 + 1 + 'the error\n'.length);
  });

  it('a succeeding action succeeds, silent, and touches its stamp', async function () {
    const stamp = path.join(dir, 'stamp');
    const r = await runner(0, ['--touch', stamp]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(fs.existsSync(stamp));
  });
});
