import { LockError } from '../src/errors';

const POSIX_TEXT: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOENT: 'no such file or directory',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOLCK: 'the file system does not support locking (ENOLCK)',
  EOPNOTSUPP: 'the file system does not support locking (EOPNOTSUPP)',
  ENOTSUP: 'the file system does not support locking (ENOTSUP)',
  EINVAL: 'the file system does not support locking (EINVAL)',
  EBADF: 'bad file descriptor',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
};

/** One-line error for a failed system call on a lock file, e.g. "cannot open lock file 'x': permission denied (EACCES)". */
export function describeErrno(code: string | undefined): string {
  const name = code ?? 'EUNKNOWN';
  const text = POSIX_TEXT[name];
  return text === undefined ? name : text.includes(name) ? text : `${text} (${name})`;
}

export function posixError(action: string, path: string, code: string | undefined): LockError {
  return new LockError(`cannot ${action} lock file '${path}': ${describeErrno(code)}`, code ?? 'EUNKNOWN');
}

const WINDOWS_TEXT: Record<number, string> = {
  2: 'the file was not found',
  3: 'the path was not found',
  5: 'access is denied',
  19: 'the media is write protected',
  32: 'the file is being used by another process',
  50: 'the request is not supported by the file system',
  87: 'the parameter is incorrect',
  123: 'the file name syntax is incorrect',
  161: 'the path is invalid',
  206: 'the file name is too long',
};

export function windowsError(action: string, path: string, code: number, transient = false): LockError {
  const text = WINDOWS_TEXT[code] ?? 'unexpected error';
  return new LockError(`cannot ${action} lock file '${path}': ${text} (Windows error ${code})`, String(code), transient);
}
