/**
 * The Windows lock (LockFileEx through koffi) with real processes.
 * Runs only under Windows Node: on Windows itself, or on Linux through
 * `npm run test:windows` (Windows Node under Wine). Elsewhere every test here
 * is reported as pending.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { platform, type LockHandle, type LockMode } from '../../platform';
import { LockError } from '../../src/base/errors';
import * as holders from '../support/holders';
import { READER_WRITER } from '../support/matrix';
import { IS_WINDOWS } from '../support/paths';

// The holders here lock with a bare platform handle: this file tests the platform layer, not the library.
const BARE = { bare: true, try: true } as const;
const startHolder = (file: string, mode: LockMode): Promise<holders.Holder> => holders.startHolder(file, mode, BARE);
const tryInChild = (file: string, mode: LockMode): Promise<holders.HolderState> => holders.tryInChild(file, mode, BARE);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('platform: Windows lock (LockFileEx)', function () {
  let dir: string;
  let seq = 0;
  const handles: LockHandle[] = [];

  /** A fresh lock file path in the test folder. */
  function lockPath(name = 'lock'): string {
    return path.join(dir, `${name}-${++seq}.lock`);
  }

  function open(file: string): LockHandle {
    const h = platform.openLockHandle(file);
    handles.push(h);
    return h;
  }

  before(function () {
    if (!IS_WINDOWS) this.skip(); // LockFileEx exists only there (Windows, or Windows Node under Wine)
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-win-'));
  });

  afterEach(async function () {
    for (const h of handles.splice(0)) h.close();
    await holders.killHolders();
  });

  after(function () {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const { held, asked, coexist } of READER_WRITER) {
    it(`${coexist ? 'admits' : 'excludes'} ${asked} while another process holds ${held}`, async function () {
      const file = lockPath();
      const holder = await startHolder(file, held);
      assert.equal(await tryInChild(file, asked), coexist ? 'locked' : 'busy', 'another process');
      const h = open(file);
      assert.equal(asked === 'exclusive' ? h.tryLock() : h.tryRLock(), coexist, 'this process');
      h.unlock();
      await holder.release();
      assert.equal(asked === 'exclusive' ? h.tryLock() : h.tryRLock(), true, 'free once the holder let go');
    });
  }

  it('refuses other processes while this process holds the lock, in either mode', async function () {
    const file = lockPath();
    const h = open(file);
    assert.equal(h.tryLock(), true);
    assert.equal(await tryInChild(file, 'shared'), 'busy');
    assert.equal(await tryInChild(file, 'exclusive'), 'busy');
    h.unlock();
    assert.equal(h.tryRLock(), true);
    assert.equal(await tryInChild(file, 'exclusive'), 'busy');
    assert.equal(await tryInChild(file, 'shared'), 'locked');
  });

  it('frees the lock when the holder is killed (TerminateProcess)', async function () {
    const file = lockPath();
    const holder = await startHolder(file, 'exclusive');
    const h = open(file);
    assert.equal(h.tryLock(), false);
    await holder.kill();
    // Windows releases a dead process's locks "after a time that depends on
    // available system resources": allow a moment, though it is immediate in practice.
    let got = h.tryLock();
    for (let i = 0; !got && i < 40; i++) {
      await sleep(50);
      got = h.tryLock();
    }
    assert.equal(got, true);
  });

  it('frees the lock when the holding handle is closed', function () {
    const file = lockPath();
    const a = open(file);
    const b = open(file);
    assert.equal(a.tryLock(), true);
    assert.equal(b.tryLock(), false);
    a.close();
    a.close();
    assert.equal(b.tryLock(), true);
  });

  it('makes a second handle in the same process conflict', function () {
    const file = lockPath();
    const a = open(file);
    const b = open(file);
    assert.equal(a.tryLock(), true);
    assert.equal(b.tryRLock(), false);
    assert.equal(b.tryLock(), false);
    a.unlock();
    assert.equal(a.tryRLock(), true);
    assert.equal(b.tryRLock(), true);
    assert.equal(b.tryLock(), false);
  });

  it('takes unlocking twice, or without a lock, as no error', function () {
    const h = open(lockPath());
    h.unlock();
    assert.equal(h.tryLock(), true);
    h.unlock();
    h.unlock();
    assert.equal(h.tryRLock(), true);
    h.unlock();
    h.unlock();
    h.close();
    h.unlock();
  });

  it('works with a path longer than 260 characters', async function () {
    let deep = dir;
    while (deep.length < 300) deep = path.join(deep, 'a-rather-long-folder-name-to-pass-MAX_PATH');
    fs.mkdirSync(deep, { recursive: true });
    const file = path.join(deep, 'long-path.lock');
    assert.ok(file.length > 260, `${file.length} characters`);
    const h = open(file);
    assert.ok(fs.statSync(file).isFile());
    assert.equal(h.tryLock(), true);
    assert.equal(await tryInChild(file, 'shared'), 'busy');
    h.unlock();
    assert.equal(await tryInChild(file, 'exclusive'), 'locked');
    assert.deepEqual(h.identity(), platform.fileIdentity(file));
  });

  it('works with a non-ASCII path with spaces', async function () {
    const sub = path.join(dir, 'dössier ünïcode 锁 ✓');
    fs.mkdirSync(sub);
    const file = path.join(sub, 'lock file é.lock');
    const h = open(file);
    assert.ok(fs.readdirSync(sub).includes('lock file é.lock'));
    assert.equal(h.tryRLock(), true);
    assert.equal(await tryInChild(file, 'shared'), 'locked');
    assert.equal(await tryInChild(file, 'exclusive'), 'busy');
  });

  it('refuses a directory with a LockError that says so', function () {
    const sub = path.join(dir, `a-directory-${++seq}`);
    fs.mkdirSync(sub);
    assert.throws(
      () => open(sub),
      (err: unknown) => err instanceof LockError && /is a directory/.test(err.message) && err.code === 'EISDIR',
    );
  });

  // Compared with platform.fileIdentity, not Node's stat, which some libuv versions answer with another volume serial
  // than the handle's; the identity check never reads stat.
  it('reports the identity that fileIdentity reads for the path, and another for another file', function () {
    const file = lockPath();
    const h = open(file);
    assert.deepEqual(h.identity(), platform.fileIdentity(file));
    const other = lockPath();
    open(other);
    assert.notDeepEqual(h.identity(), platform.fileIdentity(other));
  });

  it('refuses NUL as not a regular file, and creates no file named NUL', function () {
    const cwd = process.cwd();
    const here = path.join(dir, `cwd-${++seq}`);
    fs.mkdirSync(here);
    process.chdir(here);
    try {
      for (const name of ['NUL', 'nul', '\\\\.\\NUL']) {
        assert.throws(
          () => open(name),
          (err: unknown) => err instanceof LockError && /not a regular file/.test(err.message),
          name,
        );
      }
      assert.deepEqual(fs.readdirSync(here), []);
    } finally {
      process.chdir(cwd);
    }
  });
});
