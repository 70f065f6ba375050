import { platform } from '../platform';
import type { LockHandle } from '../platform';

export { acquire, tryAcquire, withLock, DEFAULT_BACKOFF_STEP_MS, DEFAULT_TIMEOUT_MS } from './acquire';
export type { AcquireOptions } from './acquire';
export { Lock } from './lock';
export { LockError, LockTimeoutError } from './errors';
export type { LockHandle, LockMode } from '../platform';
export { isPipCommand, modeForCommand } from './classify';

/** The bare lock of this platform on one file, without writer preference, release signal or waiting. */
export function openLockHandle(path: string): LockHandle {
  return platform.openLockHandle(path);
}
