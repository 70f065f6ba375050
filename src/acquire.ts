import { setTimeout as sleep } from 'node:timers/promises';
import { LockError, openLockHandle, pathIdentity } from '../platform';
import type { LockHandle, LockMode } from '../platform';
import { LockTimeoutError } from './errors';
import { Lock } from './lock';

/** The seed's limits: 50 ms x attempt between tries, 30 minutes in all. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;
export const DEFAULT_BACKOFF_STEP_MS = 50;
/** How long an open error that may clear by itself (antivirus, a peer deleting the file) is retried before it is reported. */
export const DEFAULT_TRANSIENT_LIMIT_MS = 5000;

export interface AcquireOptions {
  /** Default: exclusive. */
  mode?: LockMode;
  /** Give up after this long. 0 tries once. Default: 30 minutes. */
  timeoutMs?: number;
  /** The n-th wait is n x this. Default: 50 ms. */
  backoffStepMs?: number;
  signal?: AbortSignal;
  /** Called after every try that found the lock busy. */
  onBusy?: (attempt: number, waitedMs: number) => void;
  transientLimitMs?: number;
}

type TryResult = { lock: Lock } | { busy: true; transient?: LockError };

/**
 * One non-blocking try. Busy is not an error; a replaced lock file counts as
 * busy, because a lock on a file no longer at `path` excludes nobody.
 */
function tryOnce(path: string, mode: LockMode): TryResult {
  let handle: LockHandle;
  try {
    handle = openLockHandle(path);
  } catch (err) {
    if (err instanceof LockError && err.transient) return { busy: true, transient: err };
    throw err;
  }
  try {
    const got = mode === 'exclusive' ? handle.tryLock() : handle.tryRLock();
    if (got && sameFile(handle, path)) return { lock: new Lock(handle, mode) };
    handle.close();
    return { busy: true };
  } catch (err) {
    handle.close();
    throw err;
  }
}

function sameFile(handle: LockHandle, path: string): boolean {
  let now;
  try {
    now = pathIdentity(path);
  } catch {
    return false;
  }
  if (now === undefined) return false;
  const held = handle.identity();
  return held.dev === now.dev && held.ino === now.ino;
}

/** Takes the lock without waiting; null when it is busy. Throws only on real errors. */
export function tryAcquire(path: string, mode: LockMode = 'exclusive'): Lock | null {
  const r = tryOnce(path, mode);
  return 'lock' in r ? r.lock : null;
}

/**
 * Polls with the seed's linear backoff until the lock is taken, the timeout
 * passes (LockTimeoutError) or the signal aborts (its reason is thrown).
 */
export async function acquire(path: string, options: AcquireOptions = {}): Promise<Lock> {
  const mode = options.mode ?? 'exclusive';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const step = options.backoffStepMs ?? DEFAULT_BACKOFF_STEP_MS;
  const transientLimit = options.transientLimitMs ?? DEFAULT_TRANSIENT_LIMIT_MS;
  const { signal } = options;
  const start = performance.now();
  let transientSince: number | undefined;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const r = tryOnce(path, mode);
    if ('lock' in r) return r.lock;
    const waited = performance.now() - start;
    if (r.transient) {
      transientSince ??= waited;
      if (waited - transientSince >= transientLimit) throw r.transient;
    } else {
      transientSince = undefined;
    }
    options.onBusy?.(attempt, waited);
    const remaining = timeoutMs - waited;
    if (remaining <= 0) throw new LockTimeoutError(path, mode, waited);
    try {
      await sleep(Math.min(step * attempt, remaining), undefined, { signal });
    } catch (err) {
      // timers/promises rejects with a generic AbortError; the caller's reason says more.
      throw signal?.aborted ? signal.reason : err;
    }
  }
}

/** Runs fn while holding the lock, and releases it however fn ends. */
export async function withLock<T>(path: string, options: AcquireOptions, fn: (lock: Lock) => T | Promise<T>): Promise<T> {
  const lock = await acquire(path, options);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
