import { loadKoffi } from './koffi';

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** flock(2) with errno surfaced as a Node-style code; returns the code or undefined on success. */
export type Flock = (fd: number, op: number) => string | undefined;

let flockImpl: Flock | undefined;
let flockSource: string | undefined;

function fsExtFlock(): Flock {
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

function koffiFlock(libcName: string): Flock {
  const koffi = loadKoffi();
  const libc = koffi.load(libcName);
  const flock = libc.func('int flock(int fd, int op)') as (fd: number, op: number) => number;
  // Built at the first failure: a free lock never needs it.
  let byNumber: Map<number, string> | undefined;
  return (fd, op) => {
    if (flock(fd, op) === 0) return undefined;
    const errno = koffi.errno();
    if (!byNumber) {
      byNumber = new Map();
      const { constants } = require('node:os') as typeof import('node:os');
      for (const [name, num] of Object.entries(constants.errno)) if (!byNumber.has(num)) byNumber.set(num, name);
    }
    return byNumber.get(errno) ?? `errno ${errno}`;
  };
}

/**
 * fs-ext is a compiled addon and an optional dependency; where it is absent or
 * failed to build, flock from the C library `libc` (named by the OS's
 * platform file) through koffi does the same job. PIPLOCK_FLOCK=koffi forces
 * the fallback so that it can be tested. Chosen once per process.
 */
export function flock(libc: string): Flock {
  if (flockImpl) return flockImpl;
  if (process.env.PIPLOCK_FLOCK !== 'koffi') {
    try {
      flockImpl = fsExtFlock();
      flockSource = 'fs-ext';
      return flockImpl;
    } catch {
      // fall through to koffi
    }
  }
  flockImpl = koffiFlock(libc);
  flockSource = 'koffi';
  return flockImpl;
}

/** "flock (fs-ext)" or "flock (koffi)". */
export function flockName(libc: string): string {
  flock(libc);
  return `flock (${flockSource})`;
}
