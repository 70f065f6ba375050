/**
 * The koffi side of the Windows platform: struct layouts for this process's
 * architecture, two copies of piplock in one process, and which open errors
 * are retried.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { platform } from '../../platform';
import { acquire } from '../../src/lock/acquire';
import { LockError, LockTimeoutError } from '../../src/base/errors';
import { IS_WINDOWS, ROOT } from '../support/paths';
import { tmpDir } from '../support/procs';
import { sabotaged } from '../support/sabotage';
import { win32 } from '../support/win32';

const DELETE = 0x00010000;
const FILE_SHARE_ALL = 0x7;
const OPEN_EXISTING = 3;
const FileDispositionInfo = 4;
const ERROR_ACCESS_DENIED = 5;
const STATUS_DELETE_PENDING = 0xc0000056;
const STATUS_ACCESS_DENIED = 0xc0000022;

describe('Windows: kernel32 through koffi', function () {
  before(function () {
    // Windows Node only: koffi's Windows declarations are not loaded elsewhere.
    if (!IS_WINDOWS) this.skip();
  });

  it('lays out JOBOBJECT_EXTENDED_LIMIT_INFORMATION for this architecture (144 bytes on x64 and arm64, 112 on ia32)', function () {
    const { kernel32 } = require('../../platform/kernel32') as typeof import('../../platform/kernel32');
    const expected: Record<string, number> = { x64: 144, arm64: 144, ia32: 112 };
    assert.ok(process.arch in expected, `an architecture Windows Node ships for: ${process.arch}`);
    assert.equal(kernel32().jobLimitsSize, expected[process.arch]);
  });

  it('two copies of piplock in one process each take locks, and exclude each other', async function () {
    // A second copy of dist/ under the repository, so that it finds the same node_modules (koffi).
    // .cache/ (git-ignored) is not there in a fresh checkout.
    fs.mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
    const copy = fs.mkdtempSync(path.join(ROOT, '.cache', 'second-copy-'));
    try {
      fs.cpSync(path.join(ROOT, 'dist', 'platform'), path.join(copy, 'platform'), { recursive: true });
      fs.cpSync(path.join(ROOT, 'dist', 'src'), path.join(copy, 'src'), { recursive: true });
      const other = require(path.join(copy, 'src', 'lock', 'acquire.js')) as typeof import('../../src/lock/acquire');
      const otherPlatform = (require(path.join(copy, 'platform', 'index.js')) as typeof import('../../platform'))
        .platform;
      assert.notEqual(otherPlatform, platform, 'a separate copy');
      const lockfile = path.join(tmpDir(), 'pip.lock');
      const mine = await acquire(lockfile, { mode: 'shared', timeoutMs: 0 });
      const theirs = await other.acquire(lockfile, { mode: 'shared', timeoutMs: 0 });
      assert.equal(other.tryAcquire(lockfile, 'exclusive'), null, 'the copy sees the shared locks');
      mine.release();
      assert.equal(other.tryAcquire(lockfile, 'exclusive'), null, 'its own shared lock still excludes');
      theirs.release();
      const x = other.tryAcquire(lockfile, 'exclusive');
      assert.ok(x, 'free once both let go');
      assert.equal(
        (await acquire(lockfile, { mode: 'shared', timeoutMs: 0 }).catch((e: unknown) => e)) instanceof
          LockTimeoutError,
        true,
      );
      x.release();
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  describe('open errors: reported at once or retried', function () {
    this.timeout(30_000);
    // A limit far beyond the test's timeout: an error that is retried makes the test time out.
    const RETRY_LONGER_THAN_THE_TEST = 600_000;

    // PIPLOCK_TEST_SABOTAGE=nodeletepending: this process's kernel32 binding, which the platform reads the NTSTATUS
    // behind an error through, says STATUS_ACCESS_DENIED where the open answered STATUS_DELETE_PENDING, so that a file
    // pending deletion is an access-denied error like a DACL's, and the pending-deletion tests fail.
    let restore: (() => void) | undefined;
    before(function () {
      if (!sabotaged('nodeletepending')) return;
      const { kernel32 } = require('../../platform/kernel32') as typeof import('../../platform/kernel32');
      const k = kernel32();
      const status = k.RtlGetLastNtStatus;
      k.RtlGetLastNtStatus = () => {
        const s = status();
        return s === STATUS_DELETE_PENDING ? STATUS_ACCESS_DENIED : s;
      };
      restore = () => (k.RtlGetLastNtStatus = status);
    });
    after(() => restore?.());

    it('a directory at the path is reported at once', async function () {
      const dir = tmpDir();
      const err = await acquire(dir, { timeoutMs: 600_000, transientLimitMs: RETRY_LONGER_THAN_THE_TEST }).catch(
        (e: unknown) => e,
      );
      assert.ok(err instanceof LockError && err.code === 'EISDIR', String(err));
    });

    it('a file whose DACL denies the user is reported at once', async function () {
      const file = path.join(tmpDir(), 'pip.lock');
      fs.writeFileSync(file, '');
      const icacls = spawnSync('icacls', [file, '/deny', '*S-1-1-0:(R)'], { encoding: 'utf8' });
      let enforced = false;
      try {
        fs.closeSync(fs.openSync(file, 'r'));
      } catch {
        enforced = true;
      }
      if (!enforced) {
        // Wine keeps no file ACLs (icacls status ${icacls.status}): appveyor runs this on Windows.
        console.log(`      pending: this system does not enforce a DACL set with icacls (status ${icacls.status})`);
        this.skip();
      }
      try {
        const err = await acquire(file, { timeoutMs: 600_000, transientLimitMs: RETRY_LONGER_THAN_THE_TEST }).catch(
          (e: unknown) => e,
        );
        assert.ok(err instanceof LockError && err.code === String(ERROR_ACCESS_DENIED), String(err));
      } finally {
        spawnSync('icacls', [file, '/remove:d', '*S-1-1-0']);
      }
    });

    it('a file pending deletion (legacy semantics) is retried until it is gone, then locked', async function () {
      const w = win32();
      const file = path.join(tmpDir(), 'pip.lock');
      fs.writeFileSync(file, '');
      const h = w.CreateFileW(file, DELETE, FILE_SHARE_ALL, null, OPEN_EXISTING, 0, null);
      assert.ok(!w.isInvalid(h), `opened for delete: ${w.GetLastError()}`);
      let closed = false;
      try {
        // FILE_DISPOSITION_INFO.DeleteFile = TRUE: the name stays until this handle closes.
        assert.equal(
          w.SetFileInformationByHandle(h, FileDispositionInfo, Buffer.from([1]), 1) !== 0,
          true,
          `marked: ${w.GetLastError()}`,
        );
        const probe = w.CreateFileW(file, 0x80, FILE_SHARE_ALL, null, OPEN_EXISTING, 0, null);
        if (!w.isInvalid(probe)) {
          w.CloseHandle(probe);
          // Wine opens a file pending deletion instead of refusing it: appveyor runs this on Windows.
          console.log('      pending: this system opens a file that is pending deletion (Wine)');
          this.skip();
        }
        assert.equal(w.GetLastError(), ERROR_ACCESS_DENIED);
        const waiting = acquire(file, { timeoutMs: 20_000, transientLimitMs: RETRY_LONGER_THAN_THE_TEST });
        // An error before the await below fails the test there, not as an unhandled rejection.
        waiting.catch(() => {});
        await new Promise((r) => setTimeout(r, 500));
        w.CloseHandle(h);
        closed = true;
        const lock = await waiting;
        assert.ok(fs.existsSync(file), 'a new lock file');
        lock.release();
      } finally {
        if (!closed) w.CloseHandle(h);
      }
    });

    it('a file pending deletion is busy, not an error: a waiter keeps waiting up to its timeout, past the 5 s of transient errors', async function () {
      this.timeout(60_000);
      const w = win32();
      const file = path.join(tmpDir(), 'pip.lock');
      fs.writeFileSync(file, '');
      const h = w.CreateFileW(file, DELETE, FILE_SHARE_ALL, null, OPEN_EXISTING, 0, null);
      assert.ok(!w.isInvalid(h), `opened for delete: ${w.GetLastError()}`);
      try {
        // Legacy delete semantics on any Windows version: the name stays, and nobody may open it, until this handle closes.
        assert.ok(
          w.SetFileInformationByHandle(h, FileDispositionInfo, Buffer.from([1]), 1) !== 0,
          `marked: ${w.GetLastError()}`,
        );
        const probe = w.CreateFileW(file, 0x80, FILE_SHARE_ALL, null, OPEN_EXISTING, 0, null);
        if (!w.isInvalid(probe)) {
          w.CloseHandle(probe);
          // Wine opens a file pending deletion instead of refusing it: appveyor runs this on Windows.
          console.log('      pending: this system opens a file that is pending deletion (Wine)');
          this.skip();
        }
        const started = performance.now();
        await assert.rejects(acquire(file, { timeoutMs: 8000 }), (err) => {
          assert.ok(err instanceof LockTimeoutError, `timed out, not ${String(err)}`);
          return true;
        });
        assert.ok(performance.now() - started >= 7000, 'waited for its timeout, not the transient limit');
      } finally {
        w.CloseHandle(h);
      }
    });
  });
});
