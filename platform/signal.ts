import * as fs from 'node:fs';
import { sideDir } from './names';

/**
 * The release signal of one lock file: cooperating holders notify it when
 * they let go, and a waiter retries at once instead of at its next poll.
 * The seed's poll schedule stays the fallback (foreign holders, a missed
 * wake-up), so a signal is only ever a hint.
 */
export interface ReleaseWaiter {
  /**
   * Resolves true when a release was signalled since the last wait (or
   * during this one), false after `ms`. Never ties up a thread for longer
   * than `ms`.
   */
  wait(ms: number, abort?: AbortSignal): Promise<boolean>;
  close(): void;
}

/** Starts listening for releases of `lockfile`; call before the try that precedes the first wait. */
export function listenForRelease(lockfile: string): ReleaseWaiter {
  if (process.platform === 'win32') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return new (require('./signal-windows') as typeof import('./signal-windows')).WindowsReleaseWaiter(lockfile);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return new (require('./signal-posix') as typeof import('./signal-posix')).PosixReleaseWaiter(lockfile);
}

/**
 * Tells waiters on `lockfile` that a lock or the gate was let go. Cheap, and
 * never throws. On POSIX it sets the times of `<lockfile>.d/release` (which
 * signal-posix.ts watches) right here, so that a runner that never waited does
 * not load the waiting side.
 */
export function signalRelease(lockfile: string): void {
  try {
    if (process.platform === 'win32') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('./signal-windows') as typeof import('./signal-windows')).notifyWindows(lockfile);
    } else {
      const now = new Date();
      fs.utimesSync(`${sideDir(lockfile)}/release`, now, now);
    }
  } catch {
    // a hint only: the waiters' polling still finds the lock free
  }
}
