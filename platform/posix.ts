import * as fs from 'node:fs';
import * as os from 'node:os';
import type { FileIdentity, LockHandle } from './lock-handle';
import { LockError } from './lock-handle';
import { posixError } from './errors';

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

/** flock(2) with errno surfaced as a Node-style code; returns the code or undefined on success. */
type Flock = (fd: number, op: number) => string | undefined;

let flockImpl: Flock | undefined;
let flockBackendName: string | undefined;

function fsExtFlock(): Flock {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fsExt = require('fs-ext') as { flockSync(fd: number, flags: string): void };
  const names: Record<number, string> = {
    [LOCK_SH | LOCK_NB]: 'shnb',
    [LOCK_EX | LOCK_NB]: 'exnb',
    [LOCK_UN]: 'un',
  };
  return (fd, op) => {
    try {
      fsExt.flockSync(fd, names[op]!);
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    }
  };
}

function koffiFlock(): Flock {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as typeof import('koffi');
  const libc = koffi.load(process.platform === 'darwin' ? '/usr/lib/libSystem.B.dylib' : 'libc.so.6');
  const flock = libc.func('int flock(int fd, int op)') as (fd: number, op: number) => number;
  const byNumber = new Map<number, string>();
  for (const [name, num] of Object.entries(os.constants.errno)) if (!byNumber.has(num)) byNumber.set(num, name);
  return (fd, op) => {
    if (flock(fd, op) === 0) return undefined;
    const errno = koffi.errno();
    return byNumber.get(errno) ?? `errno ${errno}`;
  };
}

/**
 * fs-ext is a compiled addon and an optional dependency; where it is absent or
 * failed to build, libc's flock through koffi does the same job.
 * PIPLOCK_FLOCK=koffi forces the fallback so that it can be tested.
 */
function getFlock(): Flock {
  if (flockImpl) return flockImpl;
  if (process.env.PIPLOCK_FLOCK !== 'koffi') {
    try {
      flockImpl = fsExtFlock();
      flockBackendName = 'fs-ext';
      return flockImpl;
    } catch {
      // fall through to koffi
    }
  }
  flockImpl = koffiFlock();
  flockBackendName = 'koffi';
  return flockImpl;
}

export function posixBackend(): string {
  getFlock();
  return `flock (${flockBackendName})`;
}

function isBusy(code: string): boolean {
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

function openFd(path: string): number {
  // O_NONBLOCK so that a FIFO cannot hang the open; it does nothing to regular files.
  const flags = fs.constants.O_CREAT | fs.constants.O_NONBLOCK;
  try {
    return fs.openSync(path, flags | fs.constants.O_RDWR, 0o666);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // flock needs no write access: an existing lock file in a read-only place still works.
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
      try {
        return fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      } catch {
        // report the first error, which says why the file could not be created or opened
      }
    }
    throw posixError('open', path, code);
  }
}

export class PosixLockHandle implements LockHandle {
  private fd: number;
  private held: 'shared' | 'exclusive' | undefined;

  constructor(readonly path: string) {
    getFlock();
    this.fd = openFd(path);
    try {
      const st = fs.fstatSync(this.fd);
      if (st.isDirectory()) throw posixError('open', path, 'EISDIR');
      if (!st.isFile()) throw new LockError(`cannot use '${path}' as a lock file: it is not a regular file`, 'ENOTREG');
    } catch (err) {
      fs.closeSync(this.fd);
      throw err;
    }
  }

  tryLock(): boolean {
    return this.lockAs('exclusive', LOCK_EX);
  }

  tryRLock(): boolean {
    return this.lockAs('shared', LOCK_SH);
  }

  private lockAs(mode: 'shared' | 'exclusive', op: number): boolean {
    if (this.fd < 0) throw new LockError(`lock file '${this.path}' is closed`, 'EBADF');
    if (this.held === mode) return true;
    const code = getFlock()(this.fd, op | LOCK_NB);
    if (code === undefined) {
      this.held = mode;
      return true;
    }
    // flock converts a held lock by dropping it first: a failed conversion leaves nothing held.
    this.held = undefined;
    if (isBusy(code)) return false;
    throw posixError('lock', this.path, code);
  }

  unlock(): void {
    if (this.fd < 0 || this.held === undefined) return;
    const code = getFlock()(this.fd, LOCK_UN);
    this.held = undefined;
    if (code !== undefined) throw posixError('unlock', this.path, code);
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    this.held = undefined;
    fs.closeSync(fd);
  }

  identity(): FileIdentity {
    const st = fs.fstatSync(this.fd, { bigint: true });
    return { dev: st.dev, ino: st.ino };
  }
}
