import { platform } from '../platform';
import type { LockHandle } from '../platform';

export { acquire, tryAcquire, withLock, DEFAULT_BACKOFF_STEP_MS, DEFAULT_TIMEOUT_MS } from './lock/acquire';
export type { AcquireOptions, WarningKind } from './lock/acquire';
export { Lock } from './lock/lock';
export { LockError, LockTimeoutError } from './base/errors';
export type { FileIdentity, LockErrorReason, LockHandle, LockMode } from '../platform';
export { isPipCommand, modeForCommand } from './lock/pip';
export { check } from './runner/holders';
export type { LockInfo, StatusEntry as HolderInfo } from './runner/holders';

/** The bare lock of this platform on one file, without writer preference, release signal or waiting. */
export function openLockHandle(path: string): LockHandle {
  return platform.openLockHandle(path);
}
