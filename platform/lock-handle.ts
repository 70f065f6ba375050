export type LockMode = 'shared' | 'exclusive';

/** Identity of the file behind a handle or a path; equal identities mean the same file. */
export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
}

/**
 * One open lock file. The lock belongs to this handle: closing the handle or
 * the death of the process releases it, so there is never a stale lock.
 *
 * Every method is non-blocking. `tryLock`/`tryRLock` return false when the lock
 * is busy and throw a `LockError` only on real errors.
 */
export interface LockHandle {
  readonly path: string;
  /** Exclusive lock. False when another handle holds the lock in any mode. */
  tryLock(): boolean;
  /** Shared lock. False when another handle holds the lock exclusively. */
  tryRLock(): boolean;
  unlock(): void;
  /** Closes the handle, which drops any lock it holds. Idempotent. */
  close(): void;
  /** Identity of the open file, to detect a lock file replaced under us. */
  identity(): FileIdentity;
}

/**
 * A failure that is the user's or the system's, not a bug: the message names
 * the file and the problem and is meant to be shown as is.
 */
export class LockError extends Error {
  constructor(
    message: string,
    /** errno name (ENOENT) or Windows error number as a string ('5'). */
    readonly code: string,
    /** True for conditions that may clear on their own (antivirus, a peer deleting the file). */
    readonly transient = false,
  ) {
    super(message);
    this.name = 'LockError';
  }
}
