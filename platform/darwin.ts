/** macOS: POSIX locking with flock from libSystem; its default file systems ignore case. */
import { posixPlatform } from './posix';
import { resolvedPath } from './paths';
import type { Platform } from './types';

const base = posixPlatform('darwin', '/usr/lib/libSystem.B.dylib');

export const darwin: Platform = {
  ...base,
  // APFS and HFS+ ignore case by default: one spelling per file for PIPLOCK_HELD.
  canonicalPath: (lockfile) => resolvedPath(lockfile).toLowerCase(),
};
