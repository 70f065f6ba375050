import * as path from 'node:path';
import type { Gate } from './gate';
import type { LockMode } from './lock-handle';
import { sideDir } from './names';
import { PosixLockHandle } from './posix';

/** The gate on POSIX: flock on `<lockfile>.d/gate`, a file nobody but piplock looks at. */
export class PosixGate implements Gate {
  private handle: PosixLockHandle;

  constructor(lockfile: string) {
    const file = path.join(sideDir(lockfile), 'gate');
    try {
      this.handle = new PosixLockHandle(file);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('node:fs').mkdirSync(sideDir(lockfile), { recursive: true });
      this.handle = new PosixLockHandle(file);
    }
  }

  tryEnter(mode: LockMode): boolean {
    return mode === 'exclusive' ? this.handle.tryLock() : this.handle.tryRLock();
  }

  leave(): void {
    this.handle.unlock();
  }

  close(): void {
    this.handle.close();
  }
}
