export { acquire, tryAcquire, withLock, DEFAULT_BACKOFF_STEP_MS, DEFAULT_TIMEOUT_MS } from './acquire';
export type { AcquireOptions } from './acquire';
export { Lock } from './lock';
export { LockTimeoutError } from './errors';
export { LockError, openLockHandle } from '../platform';
export type { LockHandle, LockMode } from '../platform';
export { isPipCommand, modeForCommand } from './classify';
