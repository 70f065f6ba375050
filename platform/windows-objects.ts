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
import { closeEvent, waitForEvent } from './windows-events';
import { EVENT_RIGHTS, GATE_RIGHTS, objectSddl } from './windows-security';

const WAIT_OBJECT_0 = 0;
const WAIT_ABANDONED = 0x80;
const WAIT_TIMEOUT = 0x102;
const EVENT_MODIFY_STATE = 0x0002;
const CREATE_EVENT_MANUAL_RESET = 0x1;
const ERROR_ACCESS_DENIED = 5;
const ERROR_INVALID_HANDLE = 6;

/**
 * `piplock-<kind>-<volume serial>-<file ID>` of the lock file, without a
 * namespace: the identity, unlike the path, is the same for every spelling of
 * the file (case, 8.3 names, hard links, subst drives) and differs for two
 * files whose names differ only in case.
 */
export function objectName(id: FileIdentity, kind: 'gate' | 'release'): string {
  return `piplock-${kind}-${id.dev.toString(16)}-${id.ino.toString(16)}`;
}

const fileSecurity = new Map<string, string | undefined>();

/** Who may open the objects of the lock file named `file` (as CreateFileW takes it): see objectSddl(). */
function securityAttributes(file: string, rights: number): SecurityAttributes {
  const k = kernel32();
  // Read once per lock file and process: its gate and its release event ask for it in turn.
  if (!fileSecurity.has(file)) fileSecurity.set(file, k.fileSecurity(file));
  const sd = k.securityDescriptor(objectSddl(fileSecurity.get(file), rights));
  return sd === undefined ? null : { nLength: k.SECURITY_ATTRIBUTES_SIZE, lpSecurityDescriptor: sd, bInheritHandle: 0 };
}

/**
 * Creates (or opens) `Global\name`, shared by every Windows logon session.
 * A name that exists but refuses this process (access denied), or names an
 * object of another type, was made by someone else: a squat, reported to the
 * caller, which then locks without writer preference; falling back to
 * Local\ there would split writer preference between logon sessions without
 * a word. Where Global\ itself is refused otherwise, `Local\name`, seen
 * only by processes of the caller's logon session, with a warning saying so.
 */
function createNamed(
  file: string,
  name: string,
  rights: number,
  create: (sa: SecurityAttributes, fullName: string) => unknown,
): { handle: unknown; warning?: string; code?: number } {
  const k = kernel32();
  const sa = securityAttributes(file, rights);
  const global = create(sa, `Global\\${name}`);
  if (!k.isNull(global)) return { handle: global };
  const code = k.GetLastError();
  if (code === ERROR_ACCESS_DENIED || code === ERROR_INVALID_HANDLE) return { handle: global, code };
  const local = create(sa, `Local\\${name}`);
  if (k.isNull(local)) return { handle: local, code: k.GetLastError() };
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

  /** `file` is the lock file's name as CreateFileW takes it (\\?\ where long), for its security descriptor. */
  constructor(lockfile: string, id: FileIdentity, file: string) {
    const k = kernel32();
    const name = objectName(id, 'gate');
    const made = createNamed(file, name, GATE_RIGHTS, (sa, fullName) => k.CreateMutexExW(sa, fullName, 0, GATE_RIGHTS));
    if (k.isNull(made.handle)) {
      const code = made.code!;
      const squatted = code === ERROR_ACCESS_DENIED || code === ERROR_INVALID_HANDLE;
      const why = squatted
        ? `'Global\\${name}' is taken by another program's object, which this process may not use`
        : `cannot create the gate mutex '${name}'`;
      throw new LockError(
        `${why} (Windows error ${code})`,
        String(code),
        squatted ? 'name-taken' : windowsReason(code),
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
 * waiter waits on it through windows-events (one pool thread for every
 * waiter of the process), and resets it when it wakes, before it tries the
 * lock again, so that a release after that try sets it anew.
 */
export class WindowsReleaseWaiter implements ReleaseWaiter {
  private handle: unknown;

  /** Without a name (no lock file yet), or where the name is squatted, it only sleeps. */
  constructor(file: string, name: string | undefined) {
    if (name === undefined) return;
    const k = kernel32();
    const h = createNamed(file, name, EVENT_RIGHTS, (sa, fullName) =>
      k.CreateEventExW(sa, fullName, CREATE_EVENT_MANUAL_RESET, EVENT_RIGHTS),
    ).handle;
    this.handle = k.isNull(h) ? undefined : h;
  }

  wait(ms: number, abort?: AbortSignal): Promise<boolean> {
    if (this.handle === undefined) {
      return new Promise((resolve, reject) => {
        if (abort?.aborted) return reject(abort.reason);
        const timer = setTimeout(() => resolve(false), ms);
        abort?.addEventListener('abort', () => (clearTimeout(timer), reject(abort.reason)), { once: true });
      });
    }
    return waitForEvent(this.handle, Math.ceil(ms), abort);
  }

  close(): void {
    if (this.handle === undefined) return;
    closeEvent(this.handle);
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
