import fs = require('node:fs');
import path = require('node:path');

/**
 * The files piplock keeps beside a lock file live in one directory,
 * `<lockfile>.d/`: the POSIX gate (`gate`), the POSIX release signal
 * (`release`) and the registry of holders and waiters (`<pid>.json`).
 * The lock file itself stays empty and is never written.
 */
export function sideDir(lockfile: string): string {
  return `${lockfile}.d`;
}

/**
 * The lock file's absolute path with symlinks resolved: those of its
 * directory when the file does not exist yet (the first runner on a new build
 * directory), so that the name is the same before and after it is created.
 */
export function resolvedPath(lockfile: string): string {
  const p = path.resolve(lockfile);
  try {
    return fs.realpathSync.native(p);
  } catch {
    try {
      return path.join(fs.realpathSync.native(path.dirname(p)), path.basename(p));
    } catch {
      return p; // no directory either: the resolved path will do
    }
  }
}
