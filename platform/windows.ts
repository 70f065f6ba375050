/**
 * Windows: LockFileEx on byte 0 of the lock file, a named mutex as the
 * writer-preference gate, a named event as the release signal, and a job
 * object so that the command dies with the runner.
 */
import fs = require('node:fs');
import path = require('node:path');
import { LockError, windowsError } from './errors';
import { kernel32 } from './kernel32';
import { resolvedPath } from './paths';
import { objectName, setReleaseEvent, WindowsGate, WindowsReleaseWaiter } from './windows-objects';
import { walkUp } from './ancestry';
import { guardedSpawnPlan, NOT_FOUND_HINT, processCreationTime } from './windows-process';
import { sameIdentity } from './types';
import type { FileIdentity, LockHandle, LockMode, Platform } from './types';

const GENERIC_READ = 0x80000000;
const FILE_READ_ATTRIBUTES = 0x80;
const FILE_SHARE_ALL = 0x1 | 0x2 | 0x4; // READ | WRITE | DELETE: holders never block one another's open or a delete
const OPEN_EXISTING = 3;
const OPEN_ALWAYS = 4;
const FILE_ATTRIBUTE_NORMAL = 0x80;
const FILE_FLAG_BACKUP_SEMANTICS = 0x02000000; // lets a directory be opened too, so that it has an identity
const FileStandardInfo = 0x1;
const FILE_STANDARD_INFO_SIZE = 24; // LARGE_INTEGER AllocationSize, EndOfFile; DWORD NumberOfLinks; BOOLEAN DeletePending, Directory
const FileIdInfo = 0x12;
const FILE_ID_INFO_SIZE = 24; // ULONGLONG VolumeSerialNumber, FILE_ID_128 FileId
const FILE_TYPE_DISK = 1;
const LOCKFILE_FAIL_IMMEDIATELY = 0x1;
const LOCKFILE_EXCLUSIVE_LOCK = 0x2;

const ERROR_FILE_NOT_FOUND = 2;
const ERROR_PATH_NOT_FOUND = 3;
const ERROR_ACCESS_DENIED = 5;
const STATUS_DELETE_PENDING = 0xc0000056;
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
    const h = k.CreateFileW(
      win32Name(path),
      GENERIC_READ,
      FILE_SHARE_ALL,
      null,
      OPEN_ALWAYS,
      FILE_ATTRIBUTE_NORMAL,
      null,
    );
    if (k.isInvalid(h)) {
      const code = k.GetLastError();
      throw openError(path, code, k.RtlGetLastNtStatus());
    }
    if (k.GetFileType(h) !== FILE_TYPE_DISK) {
      k.CloseHandle(h);
      throw new LockError(`cannot use '${path}' as a lock file: it is not a regular file`, 'ENOTREG', 'not-regular');
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
    if (this.handle === undefined) throw new LockError(`lock file '${this.path}' is closed`, 'EBADF', 'closed');
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

  private known?: FileIdentity;

  /** Read once: an open file keeps its identity, and a try asks for it twice (gate, identity check). */
  identity(): FileIdentity {
    if (this.handle === undefined) throw windowsError('inspect', this.path, ERROR_INVALID_HANDLE);
    this.known ??= handleIdentity(this.handle, this.path);
    return this.known;
  }

  namedBy(file: string): 'yes' | 'pending' | 'no' {
    const h = this.handle;
    if (h === undefined) return 'no';
    try {
      const known = this.identity();
      // Without file IDs an equal identity means one name: whether the open file still has it, its handle tells.
      const deleted = known.unreliable ? deletion(h) : undefined;
      let now: FileIdentity | undefined;
      try {
        now = pathIdentity(file, false);
      } catch (err) {
        // Nobody can open a file pending deletion; that the file is ours, our handle says.
        if (err instanceof LockError && err.busy) return (deleted ?? deletion(h)) === 'pending' ? 'pending' : 'no';
        return 'no';
      }
      if (now === undefined || !sameIdentity(known, now)) return 'no';
      if (!known.unreliable) return 'yes';
      if (deleted !== undefined) return deleted === 'pending' ? 'pending' : 'no';
      return sameIdentity(known, handleIdentity(h, file)) ? 'yes' : 'no'; // not renamed away
    } catch {
      return 'no';
    }
  }
}

/**
 * Whether the file behind `h` is deleted: 'pending' (its name stays until
 * every handle closes; legacy delete semantics), 'unlinked' (no name left:
 * POSIX delete semantics), or undefined (linked, or not known).
 */
function deletion(h: unknown): 'pending' | 'unlinked' | undefined {
  const info = Buffer.alloc(FILE_STANDARD_INFO_SIZE);
  if (!kernel32().GetFileInformationByHandleEx(h, FileStandardInfo, info, FILE_STANDARD_INFO_SIZE)) return undefined;
  if (info[20] !== 0) return 'pending';
  return info.readUInt32LE(16) === 0 ? 'unlinked' : undefined;
}

/**
 * The identity of an open file: FILE_ID_INFO's 64-bit volume serial and
 * 128-bit file ID, unique on ReFS too, where the 64-bit index is not. Where the
 * file system has no FileIdInfo (FAT, some network redirectors, Samba), or
 * gives a FileId of 0, which its documentation says "must be ignored", the
 * 32-bit serial and 64-bit index of GetFileInformationByHandle. Where that
 * index is 0 too (WinFsp, Dokan, some network or virtual drives), there is no
 * ID: the identity is derived from the file's name, and marked unreliable.
 * Both sides of a comparison come through here, so they always agree on the
 * form.
 */
export function handleIdentity(h: unknown, file: string): FileIdentity {
  const k = kernel32();
  const id = Buffer.alloc(FILE_ID_INFO_SIZE);
  if (k.GetFileInformationByHandleEx(h, FileIdInfo, id, FILE_ID_INFO_SIZE)) {
    const fileId = id.readBigUInt64LE(8) | (id.readBigUInt64LE(16) << 64n);
    if (fileId !== 0n) return { dev: id.readBigUInt64LE(0), ino: fileId };
  } else {
    const code = k.GetLastError();
    // A bad handle is a bug here; any other answer means no FILE_ID_INFO on this file system (1, 50, 87, Samba's 124, ...).
    if (code === ERROR_INVALID_HANDLE) throw windowsError('inspect', file, code);
  }
  const info: Record<string, number> = {};
  if (!k.GetFileInformationByHandle(h, info)) throw windowsError('inspect', file, k.GetLastError());
  const dev = BigInt(info.dwVolumeSerialNumber!);
  const index = (BigInt(info.nFileIndexHigh!) << 32n) | BigInt(info.nFileIndexLow!);
  if (index !== 0n) return { dev, ino: index };
  return { dev, ino: nameKey(k.finalPath(h) ?? canonicalPath(file)), unreliable: true };
}

/** 128 bits of SHA-256 of a file's name as the file system spells it: one per name, for a file system without file IDs. */
function nameKey(name: string): bigint {
  const digest = (require('node:crypto') as typeof import('node:crypto'))
    .createHash('sha256')
    .update(name, 'utf8')
    .digest();
  return digest.readBigUInt64LE(0) | (digest.readBigUInt64LE(8) << 64n);
}

/**
 * The identity of what `file` names now, read through the same call as
 * LockHandle.identity(), never through Node's stat: some libuv versions give
 * stat a 64-bit volume serial that GetFileInformationByHandle does not.
 * FILE_READ_ATTRIBUTES is all it needs, so a file the caller may not read
 * still has one. `create` makes an empty file where there is none.
 */
function pathIdentity(file: string, create: boolean): FileIdentity | undefined {
  const k = kernel32();
  const h = k.CreateFileW(
    win32Name(file),
    FILE_READ_ATTRIBUTES,
    FILE_SHARE_ALL,
    null,
    create ? OPEN_ALWAYS : OPEN_EXISTING,
    create ? FILE_ATTRIBUTE_NORMAL : FILE_FLAG_BACKUP_SEMANTICS,
    null,
  );
  if (k.isInvalid(h)) {
    const code = k.GetLastError();
    if (code === ERROR_FILE_NOT_FOUND || code === ERROR_PATH_NOT_FOUND) return undefined;
    const pending = code === ERROR_ACCESS_DENIED && k.RtlGetLastNtStatus() === STATUS_DELETE_PENDING;
    throw windowsError('inspect', file, code, false, pending);
  }
  try {
    if (create && k.GetFileType(h) !== FILE_TYPE_DISK)
      throw new LockError(`cannot use '${file}' as a lock file: it is not a regular file`, 'ENOTREG', 'not-regular');
    return handleIdentity(h, file);
  } finally {
    k.CloseHandle(h);
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

/**
 * ERROR_ACCESS_DENIED has several causes that only the NTSTATUS behind it
 * tells apart. STATUS_DELETE_PENDING (a file deleted while another process
 * still has it open, without POSIX delete semantics) clears when that process
 * closes it: retried. STATUS_ACCESS_DENIED (the file's DACL, a read-only
 * directory, a directory at the path) does not: reported at once. A sharing
 * violation (an antivirus scanner or backup tool holding the file without
 * sharing it) clears by itself: retried.
 */
function openError(p: string, code: number, status: number): LockError {
  if (code === ERROR_ACCESS_DENIED) {
    if (status === STATUS_DELETE_PENDING) return windowsError('open', p, code, false, true);
    let isDirectory = false;
    try {
      isDirectory = fs.statSync(p).isDirectory();
    } catch {
      // not there, or not ours to look at: the Windows error says enough
    }
    if (isDirectory) return new LockError(`cannot open lock file '${p}': is a directory`, 'EISDIR', 'is-a-directory');
  }
  return windowsError('open', p, code, code === ERROR_SHARING_VIOLATION);
}

/**
 * The lock file's path as the file system spells it: realpath.native is
 * GetFinalPathNameByHandleW, which gives the name's case as stored, so two
 * spellings of one file give one path and two files whose names differ only
 * in case (a case-sensitive directory) give two. A file not there yet keeps
 * its name as given, in its resolved directory.
 */
function canonicalPath(lockfile: string): string {
  return resolvedPath(lockfile);
}

function gateIdentity(lockfile: string): FileIdentity {
  const id = pathIdentity(lockfile, true);
  // Only a directory that went away between the lock file's open and this one.
  if (id === undefined)
    throw new LockError(`cannot create lock file '${lockfile}': its directory is gone`, 'ENOENT', 'not-found');
  return id;
}

/**
 * The identity the release event is named after (see objectName()); none
 * where the file cannot be read now, for the release signal is only a hint.
 */
function releaseIdentity(lockfile: string): FileIdentity | undefined {
  try {
    return pathIdentity(lockfile, false);
  } catch {
    return undefined;
  }
}

export const windows: Platform = {
  name: 'win32',
  lockBackend: () => 'LockFileEx (koffi)',
  openLockHandle: (file) => new WindowsLockHandle(file),
  // The GN launcher runs actions in its own Python only where it can fork; on Windows it never passes a handle.
  adoptLockHandle: () => {
    throw new LockError('a lock file handle passed by another process is not supported on Windows', 'ENOSYS', 'other');
  },
  fileIdentity: (file) => pathIdentity(file, false),
  canonicalPath,
  // Named after the file the caller has open, or else the file at the path, created if missing, as the lock try would.
  openGate: (lockfile, identity) => new WindowsGate(lockfile, identity ?? gateIdentity(lockfile), win32Name(lockfile)),
  listenForRelease(lockfile) {
    const id = releaseIdentity(lockfile);
    return new WindowsReleaseWaiter(win32Name(lockfile), id === undefined ? undefined : objectName(id, 'release'));
  },
  signalRelease(lockfile) {
    try {
      const id = releaseIdentity(lockfile);
      if (id !== undefined) setReleaseEvent(objectName(id, 'release'));
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
  notFoundHint: NOT_FOUND_HINT,
  // A console Ctrl-C or Ctrl-Break already reaches the command; forwarding would kill it outright.
  forwardSignals: [],
  outliveSignals: ['SIGINT', 'SIGBREAK', 'SIGHUP'],
  defaultPythons: [['py', '-3'], ['python']],
  caseInsensitiveEnv: true,
  unlinkOpenFiles: false,
};
