/**
 * The named kernel objects of one lock file on Windows: the gate mutex and
 * the release event. Mutex ownership is per thread, so the mutex calls are
 * made synchronously, on the main thread; only event waits go through koffi's
 * `.async`, and always with a bounded timeout.
 */
import { LockError } from '../src/errors';
import { kernel32 } from './kernel32';
import type { Gate, ReleaseWaiter } from './types';

const WAIT_OBJECT_0 = 0;
const WAIT_ABANDONED = 0x80;
const WAIT_TIMEOUT = 0x102;
const EVENT_MODIFY_STATE = 0x0002;

/** FNV-1a, 64 bits, as 16 hex digits: a short stable name for kernel objects, without loading node:crypto. */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/** `Local\piplock-<kind>-<hash of the canonical lock path>`. */
export function objectName(canonicalLockPath: string, kind = ''): string {
  return `Local\\piplock-${kind ? `${kind}-` : ''}${fnv1a64(canonicalLockPath)}`;
}

/**
 * The gate: a named mutex, taken with WaitForSingleObject(h, 0). The mutex
 * is recursive per thread: two acquires in one process do not exclude each
 * other at the gate.
 */
export class WindowsGate implements Gate {
  private handle: unknown;
  private held = 0;

  constructor(lockfile: string, name: string) {
    const k = kernel32();
    this.handle = k.CreateMutexW(null, false, name);
    if (k.isNull(this.handle)) {
      const code = k.GetLastError();
      throw new LockError(`cannot create the gate mutex '${name}' for lock file '${lockfile}': Windows error ${code}`, String(code));
    }
  }

  tryEnter(): boolean | 'abandoned' {
    if (this.handle === undefined) return false;
    if (this.held > 0) return true;
    const k = kernel32();
    const r = k.WaitForSingleObject(this.handle, 0);
    if (r === WAIT_TIMEOUT) return false;
    if (r === WAIT_OBJECT_0 || r === WAIT_ABANDONED) {
      this.held++;
      return r === WAIT_ABANDONED ? 'abandoned' : true;
    }
    throw new LockError(`waiting for the gate mutex failed: Windows error ${k.GetLastError()}`, 'EGATE');
  }

  leave(): void {
    const k = kernel32();
    while (this.held > 0) {
      this.held--;
      k.ReleaseMutex(this.handle);
    }
  }

  close(): void {
    if (this.handle === undefined) return;
    this.leave();
    kernel32().CloseHandle(this.handle);
    this.handle = undefined;
  }
}

/**
 * The release signal: a manual-reset named event. Releasers SetEvent; a
 * waiter waits on it through koffi `.async` (a libuv pool thread, for at most
 * the current poll interval), and resets it when it wakes, before it tries
 * the lock again, so that a release after that try sets it anew.
 */
export class WindowsReleaseWaiter implements ReleaseWaiter {
  private handle: unknown;
  private inFlight = 0;
  private closing = false;

  constructor(name: string) {
    const k = kernel32();
    const h = k.CreateEventW(null, true, false, name);
    this.handle = k.isNull(h) ? undefined : h;
  }

  wait(ms: number, abort?: AbortSignal): Promise<boolean> {
    const h = this.handle;
    if (h === undefined) return new Promise((resolve) => setTimeout(() => resolve(false), ms));
    return new Promise((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        reject(abort!.reason);
      };
      if (abort?.aborted) return onAbort();
      abort?.addEventListener('abort', onAbort, { once: true });
      this.inFlight++;
      kernel32().waitAsync(h, Math.max(0, Math.ceil(ms)), (err, r) => {
        this.inFlight--;
        abort?.removeEventListener('abort', onAbort);
        const signalled = !err && r === WAIT_OBJECT_0;
        if (signalled && !this.closing) kernel32().ResetEvent(h);
        if (this.closing && this.inFlight === 0) this.closeNow();
        if (settled) return;
        settled = true;
        resolve(signalled);
      });
    });
  }

  close(): void {
    this.closing = true;
    if (this.inFlight === 0) this.closeNow();
    // else: closed when the pending wait returns, within its bounded timeout
  }

  private closeNow(): void {
    if (this.handle === undefined) return;
    kernel32().CloseHandle(this.handle);
    this.handle = undefined;
  }
}

/** Sets the release event of a lock file, if any waiter has created it. */
export function setReleaseEvent(name: string): void {
  const k = kernel32();
  const h = k.OpenEventW(EVENT_MODIFY_STATE, false, name);
  if (k.isNull(h)) return;
  k.SetEvent(h);
  k.CloseHandle(h);
}
