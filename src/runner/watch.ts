import { platform, sameIdentity } from '../../platform';
import type { FileIdentity, LockMode } from '../../platform';
import type { Lock } from '../lock/lock';
import { relock } from '../lock/request';

/** How often a holder checks that its lock file is still in place. One stat: negligible. */
export const WATCH_INTERVAL_MS = 200;

/**
 * While a lock is held, checks that the path still names the locked file.
 * A lock file deleted or renamed under a holder would let a newcomer open
 * (create) a different file at the path and lock that one. Two things keep
 * exclusion then. A runner that has locked a file waits, before its command
 * starts, for the live holders of an earlier file at the same path (the
 * registry records the file each holder holds: hold.ts). And this watch
 * takes the lock, in the same mode, on the file now at the path as well
 * (creating it if need be), so that from then on newcomers wait at the lock
 * itself, and programs that are not piplock (flock(1), the reference runner)
 * are kept out again. It locks the new file directly, never through the gate,
 * which a waiting writer holds. It says each thing once. Returns a function
 * that stops the watch and releases what it took.
 */
export function watchLockFile(
  lock: Lock,
  path: string,
  warn: (message: string) => void,
  intervalMs = WATCH_INTERVAL_MS,
): () => void {
  return watchFile(lock.identity(), lock.mode, path, warn, intervalMs);
}

/** The watch of the file with identity `first` (undefined: nothing to watch), held in `mode`. */
export function watchFile(
  first: FileIdentity | undefined,
  mode: LockMode,
  path: string,
  warn: (message: string) => void,
  intervalMs = WATCH_INTERVAL_MS,
): () => void {
  if (first === undefined) return () => {};
  const known: FileIdentity[] = [first];
  const extra: Lock[] = [];
  const said = new Set<string>();
  const once = (kind: 'replaced' | 'busy' | 'error', message: string): void => {
    if (said.has(kind)) return;
    said.add(kind);
    warn(message);
  };
  const check = (): void => {
    let now: FileIdentity | undefined;
    try {
      now = platform.fileIdentity(path);
    } catch {
      now = undefined;
    }
    if (now !== undefined && known.some((k) => sameIdentity(k, now))) return;
    once(
      'replaced',
      `the lock file '${path}' was ${now === undefined ? 'removed' : 'replaced'} while held; taking the ${mode} lock on the new file too`,
    );
    try {
      const again = relock(path, mode);
      if (again === null) {
        once(
          'busy',
          `the new lock file '${path}' is locked by another process: piplock runners that locked it wait for this one to finish; other programs (flock(1), the reference runner) are not kept out until this runner has locked it too or lets go`,
        );
        return;
      }
      extra.push(again);
      known.push(again.identity()!);
    } catch (err) {
      once(
        'error',
        `the lock file '${path}' was replaced while held and cannot be locked again: ${(err as Error).message}`,
      );
    }
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const l of extra.splice(0)) l.release();
  };
}
