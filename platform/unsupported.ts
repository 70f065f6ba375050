/**
 * Any OS piplock has no platform file for. Nothing is locked: every call that
 * would lock fails with one line that names the OS, so that a build stops
 * rather than run unguarded. A new OS gets a file beside linux.ts and a line
 * in index.ts.
 */
import { LockError } from './errors';
import type { Platform } from './types';

function unsupported(): never {
  throw new LockError(
    `cannot lock on this operating system ('${process.platform}'): piplock supports Windows, Linux, macOS and FreeBSD`,
    'ENOSYS',
    'no-locking',
  );
}

export const unsupportedPlatform: Platform = {
  name: 'unsupported',
  lockBackend: () => 'none',
  openLockHandle: unsupported,
  adoptLockHandle: unsupported,
  fileIdentity: unsupported,
  canonicalPath: unsupported,
  openGate: unsupported,
  listenForRelease: unsupported,
  signalRelease: () => {},
  startTag: () => undefined,
  ancestors: () => [process.ppid],
  kernelLockHolders: () => [],
  prepareSpawn: () => {},
  spawnPlan: unsupported,
  forwardSignals: ['SIGINT', 'SIGTERM'],
  outliveSignals: [],
  defaultPythons: [['python3'], ['python']],
  caseInsensitiveEnv: false,
  unlinkOpenFiles: true,
};
