import { platform, sameIdentity } from '../platform';
import type { Gate, LockHandle, LockMode, ReleaseWaiter } from '../platform';
import { monotonicMs } from './duration';
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
  /** Undefined where no gate can be had (a read-only or full place): the lock works without writer preference. */
  private gate: Gate | undefined;
  private gateHeld = false;

  constructor(
    private readonly path: string,
    private readonly mode: LockMode,
    private readonly onWarning?: (message: string) => void,
  ) {}

  /**
   * One non-blocking try. Busy is not an error; a replaced lock file counts as
   * busy, because a lock on a file no longer at `path` excludes nobody. The
   * lock file is opened, and so checked to be a regular file, before anything
   * is made beside it.
   */
  tryOnce(): TryResult {
    let handle: LockHandle;
    try {
      handle = platform.openLockHandle(this.path);
    } catch (err) {
      if (err instanceof LockError && err.transient) return { busy: true, transient: err };
      throw err;
    }
    try {
      if (!this.enterGate(handle)) {
        handle.close();
        return { busy: true, atGate: true };
      }
      const got = (this.mode === 'exclusive' ? handle.tryLock() : handle.tryRLock()) && sameFile(handle, this.path);
      // A shared request only passes through; an exclusive one keeps the gate until it has the lock.
      if (this.mode === 'shared' || got) this.leave();
      if (got) return { lock: new Lock(handle, this.mode, () => platform.signalRelease(this.path)) };
      handle.close();
      return { busy: true };
    } catch (err) {
      handle.close();
      this.leave();
      throw err;
    }
  }

  private enterGate(handle: LockHandle): boolean {
    if (!this.gateOpened) {
      this.gateOpened = true;
      try {
        this.gate = platform.openGate(this.path, handle.identity());
        if (this.gate.warning !== undefined) this.onWarning?.(this.gate.warning);
      } catch (err) {
        // Only a place where nothing can be written, or a squatted name, costs the gate; anything else (EMFILE, a bug) is an error.
        if (!(err instanceof LockError) || !UNWRITABLE.has(err.code)) throw err;
        this.onWarning?.(`${NO_GATE} '${this.path}' without writer preference: ${err.message}`);
      }
    }
    if (this.gateHeld || this.gate === undefined) return true;
    const g = this.gate.tryEnter(this.mode);
    if (!g) return false;
    if (g === 'abandoned') this.onWarning?.(`the writer-preference gate of '${this.path}' was abandoned by a process that died while waiting; taken over`);
    this.gateHeld = true;
    return true;
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
 * Why a gate may not be had where the lock file is usable: a place that is read-only, not ours, or full; on Windows
 * also a gate name that another program took for an object of another type (ERROR_INVALID_HANDLE).
 */
const UNWRITABLE = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'ENOENT', '5', '6', '19', '112']);

/** How the warning about a gate that cannot be had begins. */
export const NO_GATE = 'locking';

const MODES: readonly string[] = ['shared', 'exclusive'];

/** Library arguments are checked before anything is opened or created: a TypeError names the bad one. */
function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '') throw new TypeError(`piplock: the lock file path must be a non-empty string, not ${describe(path)}`);
  if (path.includes('\0')) throw new TypeError('piplock: the lock file path must not contain a NUL character');
}

function checkMode(mode: unknown): asserts mode is LockMode {
  if (!MODES.includes(mode as string)) throw new TypeError(`piplock: mode must be 'shared' or 'exclusive', not ${describe(mode)}`);
}

function checkOptions(o: AcquireOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError(`piplock: options must be an object, not ${describe(o)}`);
  if (o.mode !== undefined) checkMode(o.mode);
  const durations: [string, unknown, number][] = [
    ['timeoutMs', o.timeoutMs, 0],
    ['transientLimitMs', o.transientLimitMs, 0],
    ['backoffStepMs', o.backoffStepMs, Number.MIN_VALUE],
  ];
  for (const [name, v, min] of durations) {
    if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v) || v < min)) {
      throw new TypeError(`piplock: ${name} must be a number of milliseconds${min > 0 ? ' above 0' : ', 0 or more'}, not ${describe(v)}`);
    }
  }
  if (o.backoffStepMs !== undefined && !Number.isFinite(o.backoffStepMs)) throw new TypeError('piplock: backoffStepMs must be finite');
  for (const name of ['onBusy', 'onWarning'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function') throw new TypeError(`piplock: ${name} must be a function, not ${describe(o[name])}`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError(`piplock: signal must be an AbortSignal, not ${describe(o.signal)}`);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === undefined || v === null) return String(v);
  return typeof v;
}

/** Takes the lock without waiting; null when it is busy (or an exclusive request is waiting, for a shared one). Throws only on real errors. */
export function tryAcquire(path: string, mode: LockMode = 'exclusive'): Lock | null {
  checkPath(path);
  checkMode(mode);
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
  checkPath(path);
  checkOptions(options);
  const mode = options.mode ?? 'exclusive';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const step = options.backoffStepMs ?? DEFAULT_BACKOFF_STEP_MS;
  const transientLimit = options.transientLimitMs ?? DEFAULT_TRANSIENT_LIMIT_MS;
  const { signal } = options;
  const start = monotonicMs();
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
      const waited = monotonicMs() - start;
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
    // Loaded at the first wait without a release signal, which a free lock never needs.
    else await (require('node:timers/promises') as typeof import('node:timers/promises')).setTimeout(ms, undefined, { signal });
  } catch (err) {
    // timers/promises rejects with a generic AbortError; the caller's reason says more.
    throw signal?.aborted ? signal.reason : err;
  }
}

/** Runs fn while holding the lock, and releases it however fn ends. */
export async function withLock<T>(path: string, options: AcquireOptions, fn: (lock: Lock) => T | Promise<T>): Promise<T> {
  if (typeof fn !== 'function') throw new TypeError(`piplock: withLock needs a function to run, not ${describe(fn)}`);
  const lock = await acquire(path, options);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
