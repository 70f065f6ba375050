import { platform } from '../../platform';
import type { Lock } from '../lock/lock';
import { relock } from '../lock/request';

/** How often a holder checks that its lock file is still in place. One stat: negligible. */
export const WATCH_INTERVAL_MS = 200;

/**
 * While a lock is held, checks that the path still names the locked file.
 * A lock file deleted or renamed under a holder breaks exclusion: a newcomer
 * opens (creates) a different file at the path and locks that one. Nothing
 * can stop that from the holder's side, so the watch narrows it: it says so
 * on stderr, and takes the lock, in the same mode, on the file now at the
 * path as well (creating it if need be), so that from then on newcomers wait
 * again. If someone got there first, it says exclusion is broken and tries
 * again at the next check. Returns a function that stops the watch and
 * releases what it took.
 */
export function watchLockFile(
  lock: Lock,
  path: string,
  warn: (message: string) => void,
  intervalMs = WATCH_INTERVAL_MS,
): () => void {
  if (lock.released) return () => {};
  const extra: Lock[] = [];
  // Each thing is said once, not at every check.
  const said = new Set<string>();
  const say = (kind: 'replaced' | 'busy' | 'error' | 'pending', message: string): void => {
    if (said.has(kind)) return;
    said.add(kind);
    warn(message);
  };
  const check = (): void => {
    const where = lock.namedBy(path);
    if (where === 'yes' || extra.some((l) => l.namedBy(path) === 'yes')) return;
    if (where === 'pending') {
      // Windows without POSIX delete semantics: nobody can open the file until its holders close it, so newcomers wait.
      say(
        'pending',
        `the lock file '${path}' was deleted while held; its name stays until every holder lets go, and newcomers wait until then`,
      );
      return;
    }
    let now;
    try {
      now = platform.fileIdentity(path);
    } catch {
      now = undefined;
    }
    say(
      'replaced',
      `the lock file '${path}' was ${now === undefined ? 'removed' : 'replaced'} while held; taking the ${lock.mode} lock on the new file too`,
    );
    try {
      // Directly, not through the gate: a writer waiting there would keep this holder out for as long as it waits.
      const again = relock(path, lock.mode);
      if (again === null) {
        say(
          'busy',
          `the new lock file '${path}' is locked by another process: piplock runners that locked it wait for this one to finish; other programs (flock(1), the reference runner) are not kept out until this runner has locked it too or lets go`,
        );
        return;
      }
      extra.push(again);
    } catch (err) {
      say(
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
