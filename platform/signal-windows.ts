import type { ReleaseWaiter } from './signal';
import { objectName } from './names';
import { EVENT_MODIFY_STATE, kernel32Sync, WAIT_OBJECT_0 } from './win-sync';

/**
 * Windows release signal: the manual-reset named event
 * `Local\piplock-release-<hash>`. Releasers SetEvent; a waiter waits on it
 * through koffi `.async` (a libuv pool thread, for at most the current poll
 * interval), and resets it when it wakes, before it tries the lock again, so
 * that a release after that try sets it anew.
 */
export class WindowsReleaseWaiter implements ReleaseWaiter {
  private handle: unknown;
  private inFlight = 0;
  private closing = false;

  constructor(lockfile: string) {
    const k = kernel32Sync();
    const h = k.CreateEventW(null, true, false, objectName(lockfile, 'release'));
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
      kernel32Sync().waitAsync(h, Math.max(0, Math.ceil(ms)), (err, r) => {
        this.inFlight--;
        abort?.removeEventListener('abort', onAbort);
        const signalled = !err && r === WAIT_OBJECT_0;
        if (signalled && !this.closing) kernel32Sync().ResetEvent(h);
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
    kernel32Sync().CloseHandle(this.handle);
    this.handle = undefined;
  }
}

export function notifyWindows(lockfile: string): void {
  const k = kernel32Sync();
  const h = k.OpenEventW(EVENT_MODIFY_STATE, false, objectName(lockfile, 'release'));
  if (k.isNull(h)) return; // no waiter has created it
  k.SetEvent(h);
  k.CloseHandle(h);
}
