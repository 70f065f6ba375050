/**
 * Waiting for release events without tying up libuv's thread pool: every
 * waiter of this process is served by one WaitForMultipleObjects at a time,
 * on one pool thread, instead of one blocked pool thread per waiter. With
 * one thread per waiter, four waiters (the pool's default size) would stall
 * every fs.promises, dns.lookup, zlib and crypto call of the process for as
 * long as they wait.
 *
 * The wait is over the events being waited on plus a wake event of this
 * module, which ends it early whenever the set changes, so that a new
 * waiter is listened to at once and a handle is never closed while it is
 * being waited on.
 */
import { kernel32 } from './kernel32';

const WAIT_OBJECT_0 = 0;
/** WaitForMultipleObjects takes at most 64 handles; one is the wake event. */
const MAX_EVENTS = 63;
/** Even so the wait ends now and then, so that nothing depends on the wake event alone. */
const SLICE_MS = 1000;

interface Entry {
  readonly handle: unknown;
  /** Called once: true when the event was found set (and has been reset). */
  readonly done: (signalled: boolean) => void;
}

let wake: unknown;
const entries = new Set<Entry>();
/** Handles whose owner has finished with them, closed once no wait uses them. */
const toClose: unknown[] = [];
let inFlight: Entry[] | undefined;

function isSet(h: unknown): boolean {
  return kernel32().WaitForSingleObject(h, 0) === WAIT_OBJECT_0;
}

function settle(e: Entry, signalled: boolean): void {
  if (!entries.delete(e)) return;
  e.done(signalled);
}

function closePending(): void {
  const k = kernel32();
  for (const h of toClose.splice(0)) k.CloseHandle(h);
}

function start(): void {
  if (inFlight !== undefined) return;
  closePending();
  if (entries.size === 0) return;
  const k = kernel32();
  wake ??= k.CreateEventW(null, false, false, null);
  const batch = [...entries].slice(0, MAX_EVENTS);
  inFlight = batch;
  k.waitAnyAsync([wake, ...batch.map((e) => e.handle)], SLICE_MS, () => {
    inFlight = undefined;
    // Whichever index the call returned, every set event is taken: manual-reset events stay set until reset. All are
    // looked at before any is reset, since two waiters of one lock file hold two handles of one event.
    const set = batch.filter((e) => entries.has(e) && isSet(e.handle));
    for (const e of set) k.ResetEvent(e.handle);
    for (const e of set) settle(e, true);
    start();
  });
}

/** Ends the current wait early, so that the next one sees the set as it is now. */
function restart(): void {
  if (inFlight !== undefined) kernel32().SetEvent(wake);
  else start();
}

/** Lets the pool thread go at once when no one waits any more. */
function idle(): void {
  if (entries.size === 0 && inFlight !== undefined) kernel32().SetEvent(wake);
}

/**
 * Resolves true when `handle` (a manual-reset event) is set within `ms`,
 * resetting it; false after `ms`. `abort` rejects with its reason.
 */
export function waitForEvent(handle: unknown, ms: number, abort?: AbortSignal): Promise<boolean> {
  return new Promise((resolve, reject) => {
    if (abort?.aborted) return reject(abort.reason);
    if (isSet(handle)) {
      kernel32().ResetEvent(handle);
      return resolve(true);
    }
    const onAbort = (): void => settle(entry, false);
    const entry: Entry = {
      handle,
      done(signalled) {
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        if (abort?.aborted) reject(abort.reason);
        else resolve(signalled);
        idle();
      },
    };
    entries.add(entry);
    const timer = setTimeout(() => settle(entry, false), Math.max(0, ms));
    abort?.addEventListener('abort', onAbort, { once: true });
    restart();
  });
}

/** Closes `handle` once no wait in progress uses it. */
export function closeEvent(handle: unknown): void {
  toClose.push(handle);
  if (inFlight === undefined) closePending();
  else if (inFlight.some((e) => e.handle === handle)) kernel32().SetEvent(wake);
  else {
    const i = toClose.indexOf(handle);
    toClose.splice(i, 1);
    kernel32().CloseHandle(handle);
  }
}
