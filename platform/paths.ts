import fs = require('node:fs');
import path = require('node:path');
import { DirectoryError, posixReason } from './errors';

/**
 * The files piplock keeps beside a lock file live in one directory,
 * `<lockfile>.d/`: the POSIX gate (`gate`), the POSIX release signal
 * (`release`) and the registry of holders and waiters (`<pid>.json`).
 * The lock file itself stays empty and is never written.
 */
export function sideDir(lockfile: string): string {
  return `${lockfile}.d`;
}

/** A file in sideDir, joined as text only: a `..` in the lock path stays for open(2) to resolve. */
export function sideFile(lockfile: string, name: string): string {
  return `${sideDir(lockfile)}${path.sep}${name}`;
}

/**
 * `file` made absolute the way open(2) resolves it. On POSIX the working
 * directory is put in front and nothing else is touched: `out/../pip.lock`
 * with `out` a symlink names the file beside the symlink's target, not beside
 * `out`, which path.resolve would make of it by dropping `out/..` as text.
 * Windows resolves `..` as text itself (GetFullPathNameW), so there it is
 * path.resolve.
 */
export function absolutePath(file: string): string {
  if (process.platform === 'win32') return path.resolve(file);
  return path.isAbsolute(file) ? file : `${process.cwd()}${path.sep}${file}`;
}

/**
 * The lock file's absolute path with symlinks resolved: those of its
 * directory when the file does not exist yet (the first runner on a new build
 * directory), so that the name is the same before and after it is created.
 */
export function resolvedPath(lockfile: string): string {
  const p = absolutePath(lockfile);
  try {
    return fs.realpathSync.native(p);
  } catch {
    try {
      return path.join(fs.realpathSync.native(path.dirname(p)), path.basename(p));
    } catch {
      return path.resolve(p); // no directory either: the resolved path will do
    }
  }
}

function failed(dir: string, err: unknown): DirectoryError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  return new DirectoryError(dir, code, posixReason(code));
}

/**
 * mkdir -p. Node's own recursive mkdirSync spins forever where mkdir answers
 * ENOENT although the parent exists (under /proc, for one), so this one
 * retries each level at most once. A file where a directory should be is
 * ENOTDIR, not EEXIST: that is the problem to report. Throws DirectoryError.
 */
export function mkdirs(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (isDirectory(dir)) return;
      throw new DirectoryError(dir, 'ENOTDIR', 'not-a-directory');
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw failed(dir, err);
    mkdirs(parent);
    try {
      fs.mkdirSync(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw failed(dir, again);
      if (!isDirectory(dir)) throw new DirectoryError(dir, 'ENOTDIR', 'not-a-directory');
    }
  }
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch (err) {
    throw failed(dir, err);
  }
}
