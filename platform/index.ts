import * as fs from 'node:fs';
import type { FileIdentity, LockHandle } from './lock-handle';

export type { FileIdentity, LockHandle, LockMode } from './lock-handle';
export { LockError } from './lock-handle';
export { describeErrno } from './errors';

/** Opens (creating if needed) the lock file with the implementation for this platform. */
export function openLockHandle(path: string): LockHandle {
  if (process.platform === 'win32') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { WindowsLockHandle } = require('./windows') as typeof import('./windows');
    return new WindowsLockHandle(path);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PosixLockHandle } = require('./posix') as typeof import('./posix');
  return new PosixLockHandle(path);
}

/** Identity of the file a path names now, or undefined when nothing is there. */
export function pathIdentity(path: string): FileIdentity | undefined {
  const st = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
  return st === undefined ? undefined : { dev: st.dev, ino: st.ino };
}

/** Human-readable name of the mechanism in use, for logs and `--version`-style output. */
export function backendName(): string {
  if (process.platform === 'win32') return 'LockFileEx (koffi)';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./posix') as typeof import('./posix')).posixBackend();
}
