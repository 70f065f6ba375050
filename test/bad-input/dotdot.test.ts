import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHolder } from '../support/holders';
import { IS_WINDOWS, NODE } from '../support/paths';
import { runCli, tmpDir } from '../support/procs';

describe('a lock path with .. after a symlink', function () {
  it('names the file open(2) opens: out/../pip.lock with out a symlink is the file beside its target', async function () {
    if (IS_WINDOWS) {
      console.log(
        '      pending: Windows itself resolves .. as text, before any link (GetFullPathName), so there both agree',
      );
      this.skip();
    }
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'real', 'out'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'build'));
    fs.symlinkSync(path.join(dir, 'real', 'out'), path.join(dir, 'build', 'out'));
    const cwd = path.join(dir, 'build');
    // What flock(1) or the reference runner, given the same string, lock.
    const holder = await startHolder(path.join(dir, 'real', 'pip.lock'), 'exclusive', { bare: true });
    try {
      const r = await runCli(
        ['--lockfile', 'out/../pip.lock', '--mode', 'shared', '--timeout', '0', '--', NODE, '-e', '0'],
        { cwd },
      );
      assert.equal(r.status, 1, `the runner must find the file flock(1) holds busy: ${r.stderr}`);
      assert.match(r.stderr, /busy: cannot take a shared lock/);
      assert.ok(!fs.existsSync(path.join(cwd, 'pip.lock')), 'no file beside the symlink');
    } finally {
      await holder.release();
    }
    const s = await runCli(['status', 'out/../pip.lock'], { cwd });
    assert.equal(s.status, 0, s.stderr);
    assert.ok(!fs.existsSync(path.join(cwd, 'pip.lock.d')));
  });
});
