/**
 * The platform's errors. Every failure of a system call on a lock file or a
 * file beside it comes up as a LockError: one line of text for the user, the
 * OS's own code for a log, and a `reason` that is the same on every OS, so
 * that the layers above decide without knowing errno names or Windows error
 * numbers.
 */

/** Why a platform call failed, in words that do not depend on the OS. */
export type LockErrorReason =
  | 'access-denied'
  | 'read-only'
  | 'no-space'
  | 'not-found'
  | 'not-a-directory'
  | 'is-a-directory'
  | 'not-regular'
  | 'name-too-long'
  | 'too-many-links'
  | 'no-locking'
  | 'too-many-files'
  | 'name-taken'
  | 'closed'
  | 'other';

/**
 * A failure that is the user's or the system's, not a bug: the message names
 * the file and the problem.
 */
export class LockError extends Error {
  constructor(
    message: string,
    /** The OS's code: an errno name (ENOENT), or a Windows error number as a string ('5'). */
    readonly code: string,
    /** The same cause on every OS. */
    readonly reason: LockErrorReason = 'other',
    /** True for conditions that may clear on their own (antivirus, a peer deleting the file). */
    readonly transient = false,
    /** True where the lock file is in a state that only its holders end (Windows: deleted, still open): busy, not an error. */
    readonly busy = false,
  ) {
    super(message);
    this.name = 'LockError';
  }
}

/** mkdir -p failed: `path` is the directory that could not be made. */
export class DirectoryError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    readonly reason: LockErrorReason,
  ) {
    super(`cannot create directory '${path}': ${describeErrno(code)}`);
    this.name = 'DirectoryError';
  }
}

const POSIX: Record<string, [string, LockErrorReason]> = {
  EACCES: ['permission denied', 'access-denied'],
  EPERM: ['operation not permitted', 'access-denied'],
  EROFS: ['read-only file system', 'read-only'],
  EISDIR: ['is a directory', 'is-a-directory'],
  ENOTDIR: ['not a directory', 'not-a-directory'],
  ENOENT: ['no such file or directory', 'not-found'],
  ENAMETOOLONG: ['file name too long', 'name-too-long'],
  ELOOP: ['too many levels of symbolic links', 'too-many-links'],
  ENOSPC: ['no space left on device', 'no-space'],
  EDQUOT: ['disk quota exceeded', 'no-space'],
  ENOLCK: ['the file system does not support locking (ENOLCK)', 'no-locking'],
  EOPNOTSUPP: ['the file system does not support locking (EOPNOTSUPP)', 'no-locking'],
  ENOTSUP: ['the file system does not support locking (ENOTSUP)', 'no-locking'],
  EINVAL: ['the file system does not support locking (EINVAL)', 'no-locking'],
  EBADF: ['bad file descriptor', 'closed'],
  EMFILE: ['too many open files in this process', 'too-many-files'],
  ENFILE: ['too many open files in the system', 'too-many-files'],
  EIO: ['input/output error', 'other'],
};

/** One-line text for an errno name, e.g. "permission denied (EACCES)". */
export function describeErrno(code: string | undefined): string {
  const name = code ?? 'EUNKNOWN';
  const text = POSIX[name]?.[0];
  return text === undefined ? name : text.includes(name) ? text : `${text} (${name})`;
}

export function posixReason(code: string | undefined): LockErrorReason {
  return (code !== undefined && POSIX[code]?.[1]) || 'other';
}

/** e.g. "cannot open lock file 'x': permission denied (EACCES)". */
export function posixError(action: string, path: string, code: string | undefined): LockError {
  return new LockError(
    `cannot ${action} lock file '${path}': ${describeErrno(code)}`,
    code ?? 'EUNKNOWN',
    posixReason(code),
  );
}

const WINDOWS: Record<number, [string, LockErrorReason]> = {
  2: ['the file was not found', 'not-found'],
  3: ['the path was not found', 'not-found'],
  5: ['access is denied', 'access-denied'],
  // A named object whose name another program took for an object of another type.
  6: ['the handle is invalid', 'name-taken'],
  19: ['the media is write protected', 'read-only'],
  32: ['the file is being used by another process', 'other'],
  50: ['the request is not supported by the file system', 'no-locking'],
  87: ['the parameter is incorrect', 'other'],
  112: ['there is not enough space on the disk', 'no-space'],
  123: ['the file name syntax is incorrect', 'other'],
  161: ['the path is invalid', 'other'],
  206: ['the file name is too long', 'name-too-long'],
};

export function windowsReason(code: number): LockErrorReason {
  return WINDOWS[code]?.[1] ?? 'other';
}

export function windowsError(action: string, path: string, code: number, transient = false, busy = false): LockError {
  const text = WINDOWS[code]?.[0] ?? 'unexpected error';
  return new LockError(
    `cannot ${action} lock file '${path}': ${text} (Windows error ${code})`,
    String(code),
    windowsReason(code),
    transient,
    busy,
  );
}
