import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { platform } from '../../platform';
import { childEnv, HELD_ENV, nestedDecision, parseHeld } from '../../src/nested';
import { IS_WINDOWS } from '../support/paths';
import { tmpDir } from '../support/procs';

describe('PIPLOCK_HELD: the locks a runner tells its child about', function () {
  it('reads nothing from an unset or empty value', function () {
    assert.deepEqual(parseHeld(undefined), []);
    assert.deepEqual(parseHeld(''), []);
  });

  it('reads one lock per line, the path after the first colon (a Windows drive letter stays in the path)', function () {
    assert.deepEqual(parseHeld('shared:/b/pip.lock\nexclusive:c:\\out\\pip.lock'), [
      { mode: 'shared', path: '/b/pip.lock' },
      { mode: 'exclusive', path: 'c:\\out\\pip.lock' },
    ]);
  });

  it('skips lines that are not <shared|exclusive>:<path>', function () {
    assert.deepEqual(parseHeld('bogus:/x\n:/x\nno colon\nShared:/x\n\nexclusive:/kept'), [{ mode: 'exclusive', path: '/kept' }]);
  });
});

describe('a nested runner decides from its ancestors\' locks', function () {
  let dir: string;
  let lockfile: string;
  let canonical: string;
  before(function () {
    dir = tmpDir();
    lockfile = path.join(dir, 'pip.lock');
    canonical = platform.canonicalPath(lockfile);
  });
  const env = (value: string): NodeJS.ProcessEnv => ({ [HELD_ENV]: value });

  it('locks when no ancestor holds anything, or holds only other files', function () {
    assert.equal(nestedDecision(lockfile, 'shared', {}), 'lock');
    assert.equal(nestedDecision(lockfile, 'exclusive', env('')), 'lock');
    assert.equal(nestedDecision(lockfile, 'exclusive', env(`exclusive:${platform.canonicalPath(path.join(dir, 'other.lock'))}`)), 'lock');
  });

  it('inherits a lock an ancestor holds in a mode that covers the request', function () {
    assert.equal(nestedDecision(lockfile, 'shared', env(`shared:${canonical}`)), 'inherited');
    assert.equal(nestedDecision(lockfile, 'shared', env(`exclusive:${canonical}`)), 'inherited');
    assert.equal(nestedDecision(lockfile, 'exclusive', env(`exclusive:${canonical}`)), 'inherited');
    assert.equal(nestedDecision(lockfile, 'exclusive', env(`shared:${canonical}\nexclusive:${canonical}`)), 'inherited');
  });

  it('knows the lock under another spelling of the same file (relative, with ..)', function () {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      assert.equal(nestedDecision(path.join('sub', '..', 'pip.lock'), 'shared', env(`shared:${canonical}`)), 'inherited');
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses exclusive inside a shared ancestor: it would wait for itself', function () {
    assert.deepEqual(nestedDecision(lockfile, 'exclusive', env(`shared:${canonical}`)), {
      error: `cannot take an exclusive lock on '${lockfile}': this process runs under a shared lock on it, held by an ancestor piplock (PIPLOCK_HELD), and would wait for itself`,
    });
  });

  it("tells the child its lock last, keeps the ancestors' other locks, and drops an older line for the same file", function () {
    const other = platform.canonicalPath(path.join(dir, 'other.lock'));
    const before = { PATH: '/bin', [HELD_ENV]: `shared:${other}\nshared:${canonical}` };
    const after = childEnv(lockfile, 'exclusive', before);
    assert.deepEqual(after, { PATH: '/bin', [HELD_ENV]: `shared:${other}\nexclusive:${canonical}` });
    assert.equal(before[HELD_ENV], `shared:${other}\nshared:${canonical}`, 'the given environment is left alone');
    assert.deepEqual(childEnv(lockfile, 'shared', {}), { [HELD_ENV]: `shared:${canonical}` });
  });

  it('names the lock by its canonical path in the child', function () {
    assert.equal(childEnv(path.join(dir, '.', 'pip.lock'), 'shared', {})[HELD_ENV], `shared:${canonical}`);
    assert.ok(path.isAbsolute(canonical));
    assert.equal(canonical, fold(path.join(fs.realpathSync.native(dir), 'pip.lock')));
  });
});

/** The case folding canonicalPath does where the file system ignores case. */
function fold(p: string): string {
  return IS_WINDOWS || process.platform === 'darwin' ? p.toLowerCase() : p;
}

describe('the canonical path of a lock file', function () {
  it('resolves a relative path against the working directory', function () {
    const dir = tmpDir();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      assert.equal(platform.canonicalPath('pip.lock'), fold(path.join(fs.realpathSync.native(dir), 'pip.lock')));
      assert.equal(platform.canonicalPath(path.join('a', '..', 'pip.lock')), fold(path.join(fs.realpathSync.native(dir), 'pip.lock')));
    } finally {
      process.chdir(cwd);
    }
  });

  it('resolves a symlinked (or junction) directory, for a file that exists and for one not yet created', function () {
    const base = tmpDir();
    const real = path.join(base, 'real');
    const link = path.join(base, 'link');
    fs.mkdirSync(real);
    try {
      fs.symlinkSync(real, link, 'junction'); // 'junction' is for Windows, where it needs no privilege; POSIX ignores it
    } catch (err) {
      if (IS_WINDOWS) this.skip(); // no junctions here: the code that resolves them is the same on POSIX
      throw err;
    }
    const expected = fold(path.join(fs.realpathSync.native(real), 'pip.lock'));
    assert.equal(platform.canonicalPath(path.join(link, 'pip.lock')), expected, 'not yet created');
    fs.writeFileSync(path.join(real, 'pip.lock'), '');
    assert.equal(platform.canonicalPath(path.join(link, 'pip.lock')), expected, 'existing');
  });

  it('resolves a symlink to the file itself to its target', function () {
    if (IS_WINDOWS) this.skip(); // file symlinks need a privilege on Windows, and Wine makes them as POSIX links
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'real.lock'), '');
    fs.symlinkSync(path.join(dir, 'real.lock'), path.join(dir, 'pip.lock'));
    assert.equal(platform.canonicalPath(path.join(dir, 'pip.lock')), fold(path.join(fs.realpathSync.native(dir), 'real.lock')));
  });

  it('keeps a path whose directory does not exist either, made absolute', function () {
    const dir = tmpDir();
    const missing = path.join(dir, 'no', 'such', 'dir', 'pip.lock');
    assert.equal(platform.canonicalPath(missing), fold(path.resolve(missing)));
  });

  it('folds case only where the file system ignores it (Windows, macOS)', function () {
    const dir = tmpDir();
    const upper = platform.canonicalPath(path.join(dir, 'PIP.lock'));
    const lower = platform.canonicalPath(path.join(dir, 'pip.lock'));
    if (IS_WINDOWS || process.platform === 'darwin') assert.equal(upper, lower);
    else assert.notEqual(upper, lower);
    assert.ok(upper.endsWith(fold('PIP.lock')), upper);
  });
});
