import type { Gate } from './gate';
import { LockError } from './lock-handle';
import { objectName } from './names';
import { kernel32Sync, WAIT_ABANDONED, WAIT_OBJECT_0, WAIT_TIMEOUT } from './win-sync';

/**
 * The gate on Windows: the named mutex `Local\piplock-<hash of the canonical,
 * lower-cased lock path>`. Taken with WaitForSingleObject(h, 0) and released
 * on the main thread, which owns it. The mutex is recursive per thread: two
 * acquires in one process do not exclude each other at the gate.
 */
export class WindowsGate implements Gate {
  private handle: unknown;
  private held = 0;

  constructor(lockfile: string) {
    const k = kernel32Sync();
    const name = objectName(lockfile);
    this.handle = k.CreateMutexW(null, false, name);
    if (k.isNull(this.handle)) {
      const code = k.GetLastError();
      throw new LockError(`cannot create the gate mutex '${name}' for lock file '${lockfile}': Windows error ${code}`, String(code));
    }
  }

  tryEnter(): boolean | 'abandoned' {
    if (this.handle === undefined) return false;
    if (this.held > 0) return true;
    const r = kernel32Sync().WaitForSingleObject(this.handle, 0);
    if (r === WAIT_TIMEOUT) return false;
    if (r === WAIT_OBJECT_0 || r === WAIT_ABANDONED) {
      this.held++;
      return r === WAIT_ABANDONED ? 'abandoned' : true;
    }
    throw new LockError(`waiting for the gate mutex failed: Windows error ${kernel32Sync().GetLastError()}`, 'EGATE');
  }

  leave(): void {
    const k = kernel32Sync();
    while (this.held > 0) {
      this.held--;
      k.ReleaseMutex(this.handle);
    }
  }

  close(): void {
    if (this.handle === undefined) return;
    this.leave();
    kernel32Sync().CloseHandle(this.handle);
    this.handle = undefined;
  }
}
