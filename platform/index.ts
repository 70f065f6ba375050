/**
 * The platform, chosen once. Each OS module implements `Platform`; nothing
 * else in piplock decides by process.platform how to lock, signal or spawn.
 * Only the chosen module is loaded.
 */
import type { Platform } from './types';

function choose(): Platform {
  if (process.platform === 'win32') return (require('./windows') as typeof import('./windows')).windows;
  if (process.platform === 'linux') return (require('./linux') as typeof import('./linux')).linux;
  return (require('./posix') as typeof import('./posix')).posix;
}

export const platform: Platform = choose();

export { describeErrno } from './error-text';
export { mkdirs } from './mkdirs';
export { sideDir } from './names';
export { sameIdentity } from './types';
export type { FileIdentity, Gate, KernelLockHolder, LockHandle, LockMode, Platform, ReleaseWaiter } from './types';
