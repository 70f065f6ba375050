import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileIdentity, LockHandle } from './lock-handle';
import { LockError } from './lock-handle';
import { windowsError } from './errors';

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
const ERROR_IO_PENDING = 997;

type Handle = unknown;
interface Kernel32 {
  CreateFileW(name: string, access: number, share: number, sa: null, disposition: number, flags: number, template: null): Handle;
  LockFileEx(h: Handle, flags: number, reserved: number, lenLow: number, lenHigh: number, ov: object): boolean;
  UnlockFileEx(h: Handle, reserved: number, lenLow: number, lenHigh: number, ov: object): boolean;
  CloseHandle(h: Handle): boolean;
  GetFileType(h: Handle): number;
  GetFileInformationByHandle(h: Handle, info: Record<string, number>): boolean;
  GetLastError(): number;
  address(h: Handle): bigint;
}

let k32: Kernel32 | undefined;

function kernel32(): Kernel32 {
  if (k32) return k32;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as typeof import('koffi');
  const lib = koffi.load('kernel32.dll');
  const HANDLE = koffi.pointer('PIPLOCK_HANDLE', koffi.opaque());
  const OVERLAPPED = koffi.struct('PIPLOCK_OVERLAPPED', {
    Internal: 'uintptr_t',
    InternalHigh: 'uintptr_t',
    Offset: 'uint32_t',
    OffsetHigh: 'uint32_t',
    hEvent: 'void *',
  });
  const INFO = koffi.struct('PIPLOCK_BY_HANDLE_FILE_INFORMATION', {
    dwFileAttributes: 'uint32_t',
    ftCreationTimeLow: 'uint32_t',
    ftCreationTimeHigh: 'uint32_t',
    ftLastAccessTimeLow: 'uint32_t',
    ftLastAccessTimeHigh: 'uint32_t',
    ftLastWriteTimeLow: 'uint32_t',
    ftLastWriteTimeHigh: 'uint32_t',
    dwVolumeSerialNumber: 'uint32_t',
    nFileSizeHigh: 'uint32_t',
    nFileSizeLow: 'uint32_t',
    nNumberOfLinks: 'uint32_t',
    nFileIndexHigh: 'uint32_t',
    nFileIndexLow: 'uint32_t',
  });
  const fn = (ret: unknown, name: string, args: unknown[]) =>
    lib.func('__stdcall', name, ret as string, args as string[]) as unknown as (...a: unknown[]) => never;
  k32 = {
    CreateFileW: fn(HANDLE, 'CreateFileW', ['str16', 'uint32_t', 'uint32_t', 'void *', 'uint32_t', 'uint32_t', 'void *']),
    LockFileEx: fn('bool', 'LockFileEx', [HANDLE, 'uint32_t', 'uint32_t', 'uint32_t', 'uint32_t', koffi.inout(koffi.pointer(OVERLAPPED))]),
    UnlockFileEx: fn('bool', 'UnlockFileEx', [HANDLE, 'uint32_t', 'uint32_t', 'uint32_t', koffi.inout(koffi.pointer(OVERLAPPED))]),
    CloseHandle: fn('bool', 'CloseHandle', [HANDLE]),
    GetFileType: fn('uint32_t', 'GetFileType', [HANDLE]),
    GetFileInformationByHandle: fn('bool', 'GetFileInformationByHandle', [HANDLE, koffi.out(koffi.pointer(INFO))]),
    GetLastError: fn('uint32_t', 'GetLastError', []),
    address: (h) => koffi.address(h),
  };
  return k32;
}

function overlappedAtZero(): object {
  return { Internal: 0, InternalHigh: 0, Offset: 0, OffsetHigh: 0, hEvent: null };
}

/**
 * LockFileEx on one byte at offset 0, the byte py-filelock, fasteners,
 * gofrs/flock and fd-lock lock too, so that they all exclude one another.
 * Windows locks are mandatory: nothing may read or write that byte, so the
 * lock file stays empty.
 */
export class WindowsLockHandle implements LockHandle {
  private handle: Handle | undefined;
  private held: 'shared' | 'exclusive' | undefined;

  constructor(readonly path: string) {
    const k = kernel32();
    const h = k.CreateFileW(win32Name(path), GENERIC_READ, FILE_SHARE_ALL, null, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, null);
    if (k.address(h) === 0xffffffffffffffffn) {
      const code = k.GetLastError();
      throw openError(path, code);
    }
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

  private lockAs(mode: 'shared' | 'exclusive', flags: number): boolean {
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
    if (code === ERROR_LOCK_VIOLATION || code === ERROR_IO_PENDING) return false;
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
    const k = kernel32();
    const info: Record<string, number> = {};
    if (this.handle === undefined || !k.GetFileInformationByHandle(this.handle, info)) {
      throw windowsError('inspect', this.path, this.handle === undefined ? 6 : k.GetLastError());
    }
    return {
      dev: BigInt(info.dwVolumeSerialNumber!),
      ino: (BigInt(info.nFileIndexHigh!) << 32n) | BigInt(info.nFileIndexLow!),
    };
  }
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
