import { setTimeout as sleep } from 'node:timers/promises';
import { platform, sameIdentity } from '../platform';
import type { Gate, LockHandle, LockMode, ReleaseWaiter } from '../platform';
import { LockError, LockTimeoutError } from './errors';
import { Lock } from './lock';

/** The reference runner's limits: 50 ms x attempt between tries, 30 minutes in all. */
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
  /** Called with a one-line warning, e.g. when the gate was taken from an owner that died. */
  onWarning?: (message: string) => void;
}

/** How often a shared request retries quickly when only the gate was busy (on Windows another shared request may hold it for microseconds). */
const GATE_QUICK_RETRIES = 5;
const GATE_QUICK_RETRY_MS = 2;

type TryResult = { lock: Lock } | { busy: true; transient?: LockError; atGate?: boolean };

/**
 * One non-blocking try. Busy is not an error; a replaced lock file counts as
 * busy, because a lock on a file no longer at `path` excludes nobody.
 */
function tryOnce(path: string, mode: LockMode): TryResult {
  let handle: LockHandle;
  try {
    handle = platform.openLockHandle(path);
  } catch (err) {
    if (err instanceof LockError && err.transient) return { busy: true, transient: err };
    throw err;
  }
  try {
    const got = mode === 'exclusive' ? handle.tryLock() : handle.tryRLock();
    if (got && sameFile(handle, path)) return { lock: new Lock(handle, mode, () => platform.signalRelease(path)) };
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
    now = platform.fileIdentity(path);
  } catch {
    return false;
  }
  return now !== undefined && sameIdentity(handle.identity(), now);
}

/**
 * One request for the lock, tried again and again. Writer preference: an
 * exclusive request takes the gate at its first try and keeps it until it has
 * the main lock; a shared request must pass the gate before each try, so that
 * it queues behind a waiting exclusive one. The main lock keeps the reference
 * runner's semantics; only piplock looks at the gate.
 */
class GatedRequest {
  private gateOpened = false;
  /** Undefined where no gate can be had (a read-only place): the lock works without writer preference. */
  private gate: Gate | undefined;
  private gateHeld = false;

  constructor(
    private readonly path: string,
    private readonly mode: LockMode,
    private readonly onWarning?: (message: string) => void,
  ) {}

  tryOnce(): TryResult {
    let gateWarning: string | undefined;
    if (!this.gateOpened) {
      const opened = tryOpenGate(this.path);
      this.gate = opened.gate;
      gateWarning = opened.warning;
      this.gateOpened = true;
    }
    if (!this.gateHeld && this.gate !== undefined) {
      const g = this.gate.tryEnter(this.mode);
      if (!g) return { busy: true, atGate: true };
      if (g === 'abandoned') this.onWarning?.(`the writer-preference gate of '${this.path}' was abandoned by a process that died while waiting; taken over`);
      this.gateHeld = true;
    }
    let r: TryResult;
    try {
      r = tryOnce(this.path, this.mode);
    } catch (err) {
      this.leave();
      throw err;
    }
    // Only now: a lock file that cannot be opened at all is reported by its error alone.
    if (gateWarning !== undefined) this.onWarning?.(gateWarning);
    // A shared request only passes through; an exclusive one keeps the gate until it has the lock.
    if (this.mode === 'shared' || 'lock' in r) this.leave();
    return r;
  }

  private leave(): void {
    if (!this.gateHeld) return;
    this.gateHeld = false;
    this.gate!.leave();
  }

  /** Ends the request: a writer that gives up lets the shared requests queued behind it go. */
  close(): void {
    const wasHeld = this.gateHeld && this.mode === 'exclusive';
    this.leave();
    this.gate?.close();
    this.gate = undefined;
    this.gateOpened = false;
    if (wasHeld) platform.signalRelease(this.path);
  }
}

/**
 * The gate lives beside the lock file. Where it cannot be made (a read-only
 * file system or directory holding an existing lock file), locking must still
 * work, as flock alone does there; only writer preference is lost.
 */
function tryOpenGate(path: string): { gate?: Gate; warning?: string } {
  try {
    const gate = platform.openGate(path);
    return { gate, warning: gate.warning };
  } catch (err) {
    return { warning: `no writer-preference gate for '${path}' (${err instanceof Error ? err.message : String(err)}); shared requests may overtake a waiting exclusive one` };
  }
}

/** Takes the lock without waiting; null when it is busy (or an exclusive request is waiting, for a shared one). Throws only on real errors. */
export function tryAcquire(path: string, mode: LockMode = 'exclusive'): Lock | null {
  const request = new GatedRequest(path, mode);
  try {
    const r = request.tryOnce();
    return 'lock' in r ? r.lock : null;
  } finally {
    request.close();
  }
}

/**
 * Polls with the reference runner's linear backoff until the lock is taken, the timeout
 * passes (LockTimeoutError) or the signal aborts (its reason is thrown).
 * Between polls it also listens for the release signal of cooperating
 * holders, and retries as soon as one lets go.
 */
export async function acquire(path: string, options: AcquireOptions = {}): Promise<Lock> {
  const mode = options.mode ?? 'exclusive';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const step = options.backoffStepMs ?? DEFAULT_BACKOFF_STEP_MS;
  const transientLimit = options.transientLimitMs ?? DEFAULT_TRANSIENT_LIMIT_MS;
  const { signal } = options;
  const start = performance.now();
  const request = new GatedRequest(path, mode, options.onWarning);
  let waiter: ReleaseWaiter | undefined;
  let transientSince: number | undefined;
  let quickRetries = 0;
  try {
    for (let attempt = 1; ; ) {
      signal?.throwIfAborted();
      let r = request.tryOnce();
      if (!('lock' in r) && waiter === undefined && timeoutMs > 0) {
        // Listen before the next try, so that a release between the two is not missed.
        waiter = platform.listenForRelease(path);
        r = request.tryOnce();
      }
      if ('lock' in r) return r.lock;
      const waited = performance.now() - start;
      const remaining = timeoutMs - waited;
      if (r.atGate && mode === 'shared' && quickRetries < GATE_QUICK_RETRIES && remaining > 0) {
        quickRetries++;
        await pause(waiter, GATE_QUICK_RETRY_MS, signal);
        continue;
      }
      quickRetries = 0;
      if (r.transient) {
        transientSince ??= waited;
        if (waited - transientSince >= transientLimit) throw r.transient;
      } else {
        transientSince = undefined;
      }
      options.onBusy?.(attempt, waited);
      if (remaining <= 0) throw new LockTimeoutError(path, mode, waited);
      await pause(waiter, Math.min(step * attempt, remaining), signal);
      attempt++;
    }
  } finally {
    request.close();
    waiter?.close();
  }
}

async function pause(waiter: ReleaseWaiter | undefined, ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    if (waiter) await waiter.wait(ms, signal);
    else await sleep(ms, undefined, { signal });
  } catch (err) {
    // timers/promises rejects with a generic AbortError; the caller's reason says more.
    throw signal?.aborted ? signal.reason : err;
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
