import type { LockMode } from './lock-handle';

/**
 * The writer-preference gate of one lock file. An exclusive requester holds
 * it from its first busy try until it has the main lock; a shared requester
 * must pass it (take and drop it at once) before each try, so that it queues
 * behind a waiting writer. Every method is non-blocking.
 */
export interface Gate {
  /**
   * Takes the gate: true, false when it is busy, or 'abandoned' when it was
   * taken from an owner that died while holding it (Windows only).
   * POSIX gates have a shared mode; the Windows mutex is exclusive only, and
   * a shared requester holds it for a few microseconds.
   */
  tryEnter(mode: LockMode): boolean | 'abandoned';
  leave(): void;
  /** Lets go of the gate if held and closes it. Idempotent. */
  close(): void;
}

export function openGate(lockfile: string): Gate {
  if (process.platform === 'win32') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return new (require('./gate-windows') as typeof import('./gate-windows')).WindowsGate(lockfile);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return new (require('./gate-posix') as typeof import('./gate-posix')).PosixGate(lockfile);
}
