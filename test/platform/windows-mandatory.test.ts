/**
 * Windows byte-range locks are mandatory: while piplock holds byte 0 of the
 * lock file, another process's ReadFile or WriteFile on that byte fails with
 * ERROR_LOCK_VIOLATION. That is why the lock file stays empty.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHolder } from '../support/holders';
import { IS_WINDOWS } from '../support/paths';
import { tmpDir } from '../support/procs';
import { win32 } from '../support/win32';

const GENERIC_READ = 0x80000000;
const GENERIC_WRITE = 0x40000000;
const FILE_SHARE_ALL = 0x7;
const OPEN_EXISTING = 3;
const ERROR_LOCK_VIOLATION = 33;

/** ReadFile or WriteFile of byte 0 through a new handle of this process: 'ok' or the Windows error. */
function touchByteZero(file: string, how: 'read' | 'write'): 'ok' | number {
  const w = win32();
  const h = w.CreateFileW(file, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_ALL, null, OPEN_EXISTING, 0, null);
  assert.ok(!w.isInvalid(h), `opened ${file}: ${w.GetLastError()}`);
  try {
    const done = [0];
    const ok =
      how === 'read' ? w.ReadFile(h, Buffer.alloc(1), 1, done, null) : w.WriteFile(h, Buffer.from('x'), 1, done, null);
    return ok !== 0 ? 'ok' : w.GetLastError();
  } finally {
    w.CloseHandle(h);
  }
}

describe('Windows: mandatory locking', function () {
  before(function () {
    if (!IS_WINDOWS) this.skip(); // POSIX locks (flock, fcntl) are advisory
    const wine = win32().wineVersion;
    if (wine !== undefined) {
      // Wine does not enforce byte-range locks on ReadFile/WriteFile; appveyor runs this on Windows.
      console.log(`      pending: Wine ${wine} does not enforce mandatory locking`);
      this.skip();
    }
  });

  for (const mode of ['exclusive', 'shared'] as const) {
    it(`while the lock is held ${mode}, another process's ${mode === 'exclusive' ? 'ReadFile and WriteFile' : 'WriteFile'} on byte 0 fails with ERROR_LOCK_VIOLATION`, async function () {
      const file = path.join(tmpDir(), 'pip.lock');
      fs.writeFileSync(file, 'a'); // a byte to read: piplock's own lock files stay empty
      const holder = await startHolder(file, mode);
      try {
        assert.equal(touchByteZero(file, 'write'), ERROR_LOCK_VIOLATION);
        assert.equal(touchByteZero(file, 'read'), mode === 'exclusive' ? ERROR_LOCK_VIOLATION : 'ok');
      } finally {
        await holder.release();
      }
      assert.equal(touchByteZero(file, 'read'), 'ok', 'free once released');
      assert.equal(touchByteZero(file, 'write'), 'ok', 'free once released');
    });
  }
});
