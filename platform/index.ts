/**
 * The platform, chosen once: one file per OS implements `Platform`, and only
 * the chosen one is loaded. This is the one place that decides by
 * process.platform how to lock, signal or spawn.
 */
import type { Platform } from './types';

function choose(): Platform {
  switch (process.platform) {
    case 'win32':
      return (require('./windows') as typeof import('./windows')).windows;
    case 'linux':
      return (require('./linux') as typeof import('./linux')).linux;
    case 'darwin':
      return (require('./darwin') as typeof import('./darwin')).darwin;
    case 'freebsd':
      return (require('./freebsd') as typeof import('./freebsd')).freebsd;
    default:
      return (require('./unsupported') as typeof import('./unsupported')).unsupportedPlatform;
  }
}

export const platform: Platform = choose();

export { DirectoryError, LockError, describeErrno } from './errors';
export type { LockErrorReason } from './errors';
export { absolutePath, mkdirs, sideDir, sideFile } from './paths';
export { identityText, sameIdentity } from './types';
export type {
  FileIdentity,
  Gate,
  KernelLockHolder,
  LockHandle,
  LockMode,
  Platform,
  ReleaseWaiter,
  SignalWitness,
  SpawnPlan,
} from './types';
