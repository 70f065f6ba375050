/**
 * Windows: LockFileEx on byte 0 of the lock file, a named mutex as the
 * writer-preference gate, a named event as the release signal, and a job
 * object so that the command dies with the runner.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockError } from '../src/errors';
import { windowsError } from './error-text';
import { kernel32 } from './kernel32';
import { resolvedPath } from './names';
import { objectName, setReleaseEvent, WindowsGate, WindowsReleaseWaiter } from './windows-objects';
import { walkUp } from './ancestry';
import { guardedSpawnPlan, processCreationTime } from './windows-process';
import type { FileIdentity, LockHandle, LockMode, Platform } from './types';

const GENERIC_READ = 0x80000000;
const FILE_SHARE_ALL = 0x1 | 0x2 | 0x4; // READ | WRITE | DELETE: holders never block one another's open or a delete
const OPEN_ALWAYS = 4;
const FILE_ATTRIBUTE_NORMAL = 0x80;
const FILE_TYPE_DISK = 1;
const LOCKFILE_FAIL_IMMEDIATELY = 0x1;
const LOCKFILE_EXCLUSIVE_LOCK = 0x2;

const ERROR_ACCESS_DENIED = 5;
const ERROR_SHARING_VIOLATION = 32;
const ERROR_LOCK_VIOLATION = 33;
const ERROR_NOT_LOCKED = 158;
const ERROR_INVALID_HANDLE = 6;

function overlappedAtZero(): object {
  return { Internal: 0, InternalHigh: 0, Offset: 0, OffsetHigh: 0, hEvent: null };
}

/**
 * LockFileEx on one byte at offset 0, the byte py-filelock, fasteners,
 * gofrs/flock and fd-lock lock too, so that they all exclude one another.
 * Windows locks are mandatory: nothing may read or write that byte, so the
 * lock file stays empty. The handle is not overlapped, so LockFileEx with
 * LOCKFILE_FAIL_IMMEDIATELY answers at once.
 */
export class WindowsLockHandle implements LockHandle {
  private handle: unknown;
  private held: LockMode | undefined;

  constructor(readonly path: string) {
    const k = kernel32();
    const h = k.CreateFileW(win32Name(path), GENERIC_READ, FILE_SHARE_ALL, null, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, null);
    if (k.isInvalid(h)) throw openError(path, k.GetLastError());
    if (k.GetFileType(h) !== FILE_TYPE_DISK) {
      k.CloseHandle(h);
      throw new LockError(`cannot use '${path}' as a lock file: it is not a regular file`, 'ENOTREG');
    }
    this.handle = h;
  }

  tryLock(): boolean {
    return this.lockAs('exclusive', LOCKFILE_EXCLUSIVE_LOCK);
  }

  tryRLock(): boolean {
    return this.lockAs('shared', 0);
  }

  private lockAs(mode: LockMode, flags: number): boolean {
    const k = kernel32();
    if (this.handle === undefined) throw new LockError(`lock file '${this.path}' is closed`, 'EBADF');
    if (this.held === mode) return true;
    // LockFileEx stacks locks on one handle; switching modes means letting go first.
    if (this.held !== undefined) this.unlock();
    if (k.LockFileEx(this.handle, flags | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, overlappedAtZero())) {
      this.held = mode;
      return true;
    }
    const code = k.GetLastError();
    if (code === ERROR_LOCK_VIOLATION) return false;
    throw windowsError('lock', this.path, code);
  }

  unlock(): void {
    const k = kernel32();
    if (this.handle === undefined || this.held === undefined) return;
    this.held = undefined;
    if (k.UnlockFileEx(this.handle, 0, 1, 0, overlappedAtZero())) return;
    const code = k.GetLastError();
    // Windows documents ERROR_NOT_LOCKED; Wine answers ERROR_LOCK_VIOLATION. Either way nothing is held.
    if (code === ERROR_NOT_LOCKED || code === ERROR_LOCK_VIOLATION) return;
    throw windowsError('unlock', this.path, code);
  }

  close(): void {
    if (this.handle === undefined) return;
    const h = this.handle;
    this.handle = undefined;
    this.held = undefined;
    kernel32().CloseHandle(h);
  }

  identity(): FileIdentity {
    if (this.handle === undefined) throw windowsError('inspect', this.path, ERROR_INVALID_HANDLE);
    return handleIdentity(this.handle, this.path);
  }
}

function handleIdentity(h: unknown, file: string): FileIdentity {
  const k = kernel32();
  const info: Record<string, number> = {};
  if (!k.GetFileInformationByHandle(h, info)) throw windowsError('inspect', file, k.GetLastError());
  return {
    dev: BigInt(info.dwVolumeSerialNumber!),
    ino: (BigInt(info.nFileIndexHigh!) << 32n) | BigInt(info.nFileIndexLow!),
  };
}

/** Go's os package uses the same bound: CreateDirectoryW's limit, a little under MAX_PATH (260). */
const LONG_PATH = 248;

/**
 * The name to give CreateFileW. The \\?\ form lifts the MAX_PATH limit, but it
 * also turns off the Win32 name rules: NUL, CON or COM1 would then name a new
 * regular file instead of the device, and pass the regular-file check. Like
 * Go's os package, give that form only to paths too long for the plain one.
 */
function win32Name(p: string): string {
  if (p.length === 0) return p;
  const full = path.resolve(p);
  return full.length < LONG_PATH ? p : path.toNamespacedPath(full);
}

function openError(p: string, code: number): LockError {
  if (code === ERROR_ACCESS_DENIED) {
    // A directory gives ACCESS_DENIED too, and that one never clears.
    let isDir = false;
    try {
      isDir = fs.statSync(p).isDirectory();
    } catch {
      // not there, or not ours to look at: keep the Windows error
    }
    if (isDir) return new LockError(`cannot open lock file '${p}': is a directory`, 'EISDIR');
  }
  const transient = code === ERROR_ACCESS_DENIED || code === ERROR_SHARING_VIOLATION;
  return windowsError('open', p, code, transient);
}

/** NTFS ignores case by default. */
function canonicalPath(lockfile: string): string {
  return resolvedPath(lockfile).toLowerCase();
}

export const windows: Platform = {
  lockBackend: () => 'LockFileEx (koffi)',
  openLockHandle: (file) => new WindowsLockHandle(file),
  fileIdentity(file) {
    const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
    return st === undefined ? undefined : { dev: st.dev, ino: st.ino };
  },
  canonicalPath,
  openGate: (lockfile) => new WindowsGate(lockfile, objectName(canonicalPath(lockfile))),
  listenForRelease: (lockfile) => new WindowsReleaseWaiter(objectName(canonicalPath(lockfile), 'release')),
  signalRelease(lockfile) {
    try {
      setReleaseEvent(objectName(canonicalPath(lockfile), 'release'));
    } catch {
      // a hint only: the waiters' polling still finds the lock free
    }
  },
  startTag: processCreationTime,
  ancestors() {
    const parents = kernel32().parentPids();
    return parents === undefined ? [process.ppid] : walkUp(process.ppid, (pid) => parents.get(pid));
  },
  kernelLockHolders: () => [],
  prepareSpawn: () => {},
  spawnPlan: guardedSpawnPlan,
  // A console Ctrl-C or Ctrl-Break already reaches the command; forwarding would kill it outright.
  forwardSignals: [],
  outliveSignals: ['SIGINT', 'SIGBREAK', 'SIGHUP'],
  defaultPythons: [['py', '-3'], ['python']],
  caseInsensitiveEnv: true,
  unlinkOpenFiles: false,
};
