/**
 * The named kernel objects of one lock file on Windows: the gate mutex and
 * the release event. Mutex ownership is per thread, so the mutex calls are
 * made synchronously, on the main thread; only event waits go through koffi's
 * `.async`, and always with a bounded timeout.
 */
import { LockError, windowsReason } from './errors';
import { kernel32 } from './kernel32';
import type { SecurityAttributes } from './kernel32';
import type { FileIdentity, Gate, ReleaseWaiter } from './types';

const WAIT_OBJECT_0 = 0;
const WAIT_ABANDONED = 0x80;
const WAIT_TIMEOUT = 0x102;
const EVENT_MODIFY_STATE = 0x0002;

/**
 * Every user and every integrity level may open the objects: full access for
 * Everyone and Anonymous, and a Low mandatory label, so that an elevated
 * runner, a service's and a desktop user's all meet at one gate. Mutexes and
 * events in Global\ need no privilege.
 */
const OPEN_TO_ALL = 'D:(A;;GA;;;WD)(A;;GA;;;AN)S:(ML;;NW;;;LW)';

/**
 * `piplock-<kind>-<volume serial>-<file ID>` of the lock file, without a
 * namespace: the identity, unlike the path, is the same for every spelling of
 * the file (case, 8.3 names, hard links, subst drives) and differs for two
 * files whose names differ only in case.
 */
export function objectName(id: FileIdentity, kind: 'gate' | 'release'): string {
  return `piplock-${kind}-${id.dev.toString(16)}-${id.ino.toString(16)}`;
}

function securityAttributes(): SecurityAttributes {
  const k = kernel32();
  const sd = k.securityDescriptor(OPEN_TO_ALL);
  return sd === undefined ? null : { nLength: k.SECURITY_ATTRIBUTES_SIZE, lpSecurityDescriptor: sd, bInheritHandle: 0 };
}

/**
 * Creates (or opens) `Global\name`, shared by every Windows logon session;
 * where that is refused, `Local\name`, seen only by processes of the caller's
 * logon session, with a warning saying so.
 */
function createNamed(
  name: string,
  create: (sa: SecurityAttributes, fullName: string) => unknown,
): { handle: unknown; warning?: string } {
  const k = kernel32();
  const sa = securityAttributes();
  const global = create(sa, `Global\\${name}`);
  if (!k.isNull(global)) return { handle: global };
  const code = k.GetLastError();
  const local = create(sa, `Local\\${name}`);
  if (k.isNull(local)) return { handle: local };
  return {
    handle: local,
    warning: `cannot create 'Global\\${name}' (Windows error ${code}); using 'Local\\${name}', which runners in other logon sessions do not share`,
  };
}

/**
 * The gate: a named mutex, taken with WaitForSingleObject(h, 0). The mutex
 * is recursive per thread: two acquires in one process do not exclude each
 * other at the gate.
 */
export class WindowsGate implements Gate {
  private handle: unknown;
  private held = 0;
  readonly warning?: string;

  constructor(lockfile: string, id: FileIdentity) {
    const k = kernel32();
    const name = objectName(id, 'gate');
    const made = createNamed(name, (sa, fullName) => k.CreateMutexW(sa, false, fullName));
    if (k.isNull(made.handle)) {
      const code = k.GetLastError();
      throw new LockError(
        `cannot create the gate mutex '${name}' for lock file '${lockfile}': Windows error ${code}`,
        String(code),
        windowsReason(code),
      );
    }
    this.handle = made.handle;
    if (made.warning !== undefined) this.warning = `the writer-preference gate of '${lockfile}': ${made.warning}`;
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
    throw new LockError(`waiting for the gate mutex failed: Windows error ${k.GetLastError()}`, 'EGATE', 'other');
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

  /** Without a name (no lock file yet), it only sleeps. */
  constructor(name: string | undefined) {
    if (name === undefined) return;
    const k = kernel32();
    const h = createNamed(name, (sa, fullName) => k.CreateEventW(sa, true, false, fullName)).handle;
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

/** Sets the release event of a lock file, in both namespaces, where any waiter has created it. */
export function setReleaseEvent(name: string): void {
  const k = kernel32();
  for (const ns of ['Global', 'Local']) {
    const h = k.OpenEventW(EVENT_MODIFY_STATE, false, `${ns}\\${name}`);
    if (k.isNull(h)) continue;
    k.SetEvent(h);
    k.CloseHandle(h);
  }
}
