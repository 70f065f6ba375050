import { platform } from '../../platform';
import type { LockHandle, LockMode, ReleaseWaiter } from '../../platform';
import { monotonicMs } from '../base/duration';
import { LockTimeoutError } from '../base/errors';
import type { Lock } from './lock';
import { GatedRequest } from './request';
import type { TryResult, WarningKind } from './request';

export type { WarningKind } from './request';

/**
 * How often a waiter tries, at most, when it cannot hear releases (no inotify left, say): the hand-off then takes up
 * to this long instead of the growing backoff (586 ms after a few seconds of waiting), for a try per waiter this often.
 */
export const POLL_UNHEARD_MS = 100;

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
  /** Called with a one-line warning, e.g. when the gate was taken from an owner that died, and what it is about. */
  onWarning?: (message: string, kind: WarningKind) => void;
}

/** One try of a request, for the runners' trace log: which try, in which round of the backoff, and what it found. */
export interface TryReport {
  /** 1 for the first try, counting every try (a round may try more than once: at the gate, after listening). */
  try: number;
  /** The backoff round, as onBusy counts it: the round's wait is backoffStepMs x attempt. */
  attempt: number;
  waitedMs: number;
  /** taken; busy; gate: a writer waits ahead (shared requests); transient: an open error that may clear. */
  outcome: 'taken' | 'busy' | 'gate' | 'transient';
}

/** acquireWith's options: the library's, and a report of every try (not part of the library). */
export interface AcquireWithOptions extends AcquireOptions {
  onTry?: (report: TryReport) => void;
}

/**
 * A shared request that found only the gate busy tries again at once, up to GATE_QUICK_RETRIES times within
 * GATE_QUICK_RETRY_MS by the monotonic clock, before it counts as a busy try: on Windows another shared request passing
 * the gate holds its mutex for microseconds. Each retry waits for setImmediate only, never for a timer or a wait's
 * timeout, which Windows ends at a clock tick (15.6 ms by default: five 2 ms timers took 78 ms). A writer that holds the
 * gate costs a request those few tries per busy try, and never a busy attempt more.
 */
export const GATE_QUICK_RETRIES = 10;
const GATE_QUICK_RETRY_MS = 2;

const MODES: readonly string[] = ['shared', 'exclusive'];

/** Library arguments are checked before anything is opened or created: a TypeError names the bad one. */
function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '')
    throw new TypeError(`piplock: the lock file path must be a non-empty string, not ${describe(path)}`);
  if (path.includes('\0')) throw new TypeError('piplock: the lock file path must not contain a NUL character');
}

function checkMode(mode: unknown): asserts mode is LockMode {
  if (!MODES.includes(mode as string))
    throw new TypeError(`piplock: mode must be 'shared' or 'exclusive', not ${describe(mode)}`);
}

function checkOptions(o: AcquireOptions): void {
  if (typeof o !== 'object' || o === null)
    throw new TypeError(`piplock: options must be an object, not ${describe(o)}`);
  if (o.mode !== undefined) checkMode(o.mode);
  const durations: [string, unknown, number][] = [
    ['timeoutMs', o.timeoutMs, 0],
    ['transientLimitMs', o.transientLimitMs, 0],
    ['backoffStepMs', o.backoffStepMs, Number.MIN_VALUE],
  ];
  for (const [name, v, min] of durations) {
    if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v) || v < min)) {
      throw new TypeError(
        `piplock: ${name} must be a number of milliseconds${min > 0 ? ' above 0' : ', 0 or more'}, not ${describe(v)}`,
      );
    }
  }
  if (o.backoffStepMs !== undefined && !Number.isFinite(o.backoffStepMs))
    throw new TypeError('piplock: backoffStepMs must be finite');
  for (const name of ['onBusy', 'onWarning'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function')
      throw new TypeError(`piplock: ${name} must be a function, not ${describe(o[name])}`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal))
    throw new TypeError(`piplock: signal must be an AbortSignal, not ${describe(o.signal)}`);
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
  return acquireWith(path, options);
}

/**
 * acquire(), trying first `adopted`, a handle on the lock file that another
 * process opened and passed down (the GN launcher): the Lock's `adopted` says
 * whether the lock was taken on it. Not part of the library.
 */
export async function acquireWith(path: string, options: AcquireWithOptions, adopted?: LockHandle): Promise<Lock> {
  checkPath(path);
  checkOptions(options);
  const mode = options.mode ?? 'exclusive';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const step = options.backoffStepMs ?? DEFAULT_BACKOFF_STEP_MS;
  const transientLimit = options.transientLimitMs ?? DEFAULT_TRANSIENT_LIMIT_MS;
  const { signal } = options;
  const start = monotonicMs();
  const request = new GatedRequest(path, mode, options.onWarning, adopted);
  let waiter: ReleaseWaiter | undefined;
  let transientSince: number | undefined;
  let quickRetries = 0;
  let quickSince: number | undefined;
  let unheardWarned = false;
  let tries = 0;
  const { onTry } = options;
  const tryOnce = (attempt: number): TryResult => {
    const r = request.tryOnce();
    if (onTry) {
      const outcome = 'lock' in r ? 'taken' : r.transient ? 'transient' : r.atGate ? 'gate' : 'busy';
      onTry({ try: ++tries, attempt, waitedMs: monotonicMs() - start, outcome });
    }
    return r;
  };
  try {
    for (let attempt = 1; ;) {
      signal?.throwIfAborted();
      let r = tryOnce(attempt);
      if (!('lock' in r) && waiter === undefined && timeoutMs > 0) {
        // Listen before the next try, so that a release between the two is not missed.
        waiter = platform.listenForRelease(path);
        r = tryOnce(attempt);
      }
      if ('lock' in r) return r.lock;
      const waited = monotonicMs() - start;
      const remaining = timeoutMs - waited;
      if (r.atGate && mode === 'shared' && quickRetries < GATE_QUICK_RETRIES && remaining > 0) {
        quickSince ??= monotonicMs();
        if (monotonicMs() - quickSince < GATE_QUICK_RETRY_MS) {
          quickRetries++;
          // Lets I/O and timers run between tries; the signal is checked at the top of the loop.
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
      }
      quickRetries = 0;
      quickSince = undefined;
      if (r.transient) {
        transientSince ??= waited;
        if (waited - transientSince >= transientLimit) throw r.transient;
      } else {
        transientSince = undefined;
      }
      options.onBusy?.(attempt, waited);
      if (remaining <= 0) throw new LockTimeoutError(path, mode, waited);
      // A release that cannot be heard is found by polling, at a short interval rather than the growing one.
      const unheard = waiter?.unheard;
      if (unheard !== undefined && !unheardWarned) {
        unheardWarned = true;
        options.onWarning?.(
          `the release signal cannot be heard (${unheard}): polling every ${POLL_UNHEARD_MS} ms`,
          'release-signal',
        );
      }
      const interval = unheard === undefined ? step * attempt : Math.min(step * attempt, POLL_UNHEARD_MS);
      await pause(waiter, Math.min(interval, remaining), signal);
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
    else
      await (require('node:timers/promises') as typeof import('node:timers/promises')).setTimeout(ms, undefined, {
        signal,
      });
  } catch (err) {
    // timers/promises rejects with a generic AbortError; the caller's reason says more.
    throw signal?.aborted ? signal.reason : err;
  }
}

/** Runs fn while holding the lock, and releases it however fn ends. */
export async function withLock<T>(
  path: string,
  options: AcquireOptions,
  fn: (lock: Lock) => T | Promise<T>,
): Promise<T> {
  if (typeof fn !== 'function') throw new TypeError(`piplock: withLock needs a function to run, not ${describe(fn)}`);
  const lock = await acquire(path, options);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
