import * as fs from 'node:fs';
import * as path from 'node:path';

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
 * The lock file's canonical path: symlinks resolved (those of its directory
 * when the file does not exist yet),
 * lower-cased on Windows and macOS (case-insensitive by default), so that two
 * spellings of one file give the same kernel object names.
 */
export function canonicalLockPath(lockfile: string): string {
  let p = path.resolve(lockfile);
  try {
    p = fs.realpathSync.native(p);
  } catch {
    // Not there yet (the first runner on a new build directory): its directory, resolved, and its
    // name, so that the name is the same before and after the file is created.
    try {
      p = path.join(fs.realpathSync.native(path.dirname(p)), path.basename(p));
    } catch {
      // no directory either: the resolved path will do
    }
  }
  return process.platform === 'win32' || process.platform === 'darwin' ? p.toLowerCase() : p;
}

/** FNV-1a, 64 bits, as 16 hex digits: a short stable name for kernel objects, without loading node:crypto. */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  const buf = Buffer.from(text, 'utf8');
  for (const b of buf) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/** Name of a per-lock-file kernel object, e.g. `Local\piplock-<hash>` (the gate mutex). */
export function objectName(lockfile: string, kind = ''): string {
  return `Local\\piplock-${kind ? `${kind}-` : ''}${fnv1a64(canonicalLockPath(lockfile))}`;
}
