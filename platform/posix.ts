/**
 * What every POSIX platform shares: flock(2) on the lock file, flock on
 * `<lockfile>.d/gate` for writer preference, and fs.watch on
 * `<lockfile>.d/release` for the release signal. Not a platform of its own:
 * linux.ts, darwin.ts and freebsd.ts each build theirs from posixPlatform().
 */
import fs = require('node:fs');
import { walkUp } from './ancestry';
import { describeErrno, DirectoryError, LockError, posixError } from './errors';
import { flock, flockName, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from './flock';
import { mkdirs, resolvedPath, sideDir, sideFile } from './paths';
import { sameIdentity } from './types';
import type { FileIdentity, Gate, LockHandle, LockMode, Platform, ReleaseWaiter } from './types';

function isBusy(code: string): boolean {
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

function openFd(file: string, noFollow: boolean): number {
  // O_NONBLOCK so that a FIFO cannot hang the open; it does nothing to regular files.
  const flags = fs.constants.O_CREAT | fs.constants.O_NONBLOCK | (noFollow ? fs.constants.O_NOFOLLOW : 0);
  try {
    return fs.openSync(file, flags | fs.constants.O_RDWR, 0o666);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // flock needs no write access: an existing lock file in a read-only place still works.
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
      try {
        return fs.openSync(
          file,
          fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (noFollow ? fs.constants.O_NOFOLLOW : 0),
        );
      } catch {
        // report the first error, which says why the file could not be created or opened
      }
    }
    throw posixError('open', file, code);
  }
}

export class PosixLockHandle implements LockHandle {
  private fd: number;
  private held: LockMode | undefined;

  constructor(
    readonly path: string,
    /** The C library whose flock koffi calls where fs-ext is missing. */
    private readonly libc: string,
    /** A descriptor of the file opened by another process, instead of opening the path. */
    fd?: number,
    /** Never through a symlink: the side files, which piplock names itself. */
    noFollow = false,
  ) {
    flock(libc);
    this.fd = fd ?? openFd(path, noFollow);
    try {
      const st = fs.fstatSync(this.fd);
      if (st.isDirectory()) throw posixError('open', path, 'EISDIR');
      if (!st.isFile())
        throw new LockError(`cannot use '${path}' as a lock file: it is not a regular file`, 'ENOTREG', 'not-regular');
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

  private lockAs(mode: LockMode, op: number): boolean {
    if (this.fd < 0) throw new LockError(`lock file '${this.path}' is closed`, 'EBADF', 'closed');
    if (this.held === mode) return true;
    const code = flock(this.libc)(this.fd, op | LOCK_NB);
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
    const code = flock(this.libc)(this.fd, LOCK_UN);
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

  private known?: FileIdentity;

  /** Read once: an open file keeps its identity, and a try asks for it twice (gate, identity check). */
  identity(): FileIdentity {
    if (this.known === undefined) {
      const st = fs.fstatSync(this.fd, { bigint: true });
      this.known = { dev: st.dev, ino: st.ino };
    }
    return this.known;
  }

  namedBy(path: string): 'yes' | 'pending' | 'no' {
    try {
      const st = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
      return st !== undefined && sameIdentity(this.identity(), { dev: st.dev, ino: st.ino }) ? 'yes' : 'no';
    } catch {
      return 'no';
    }
  }
}

/** The gate: flock on `<lockfile>.d/gate`, a file nobody but piplock looks at. */
/** The gate file, never through a symlink; its errors name it as the gate, not as the lock file. */
function openGateFile(file: string, libc: string): PosixLockHandle {
  try {
    return new PosixLockHandle(file, libc, undefined, true);
  } catch (err) {
    if (!(err instanceof LockError)) throw err;
    // A symlink in the gate's place gives ELOOP under O_NOFOLLOW.
    const why =
      err.reason === 'not-regular'
        ? 'it is not a regular file'
        : err.code === 'ELOOP'
          ? 'it is a symbolic link'
          : describeErrno(err.code);
    throw new LockError(`cannot use '${file}' as the gate: ${why}`, err.code, err.reason);
  }
}

class PosixGate implements Gate {
  private handle: PosixLockHandle;

  constructor(lockfile: string, libc: string) {
    const file = sideFile(lockfile, 'gate');
    try {
      this.handle = openGateFile(file, libc);
    } catch (err) {
      if (!(err instanceof LockError) || err.reason !== 'not-found') throw err;
      try {
        mkdirs(sideDir(lockfile));
      } catch (e) {
        if (!(e instanceof DirectoryError)) throw e;
        throw new LockError(e.message, e.code, e.reason);
      }
      this.handle = openGateFile(file, libc);
    }
  }

  tryEnter(mode: LockMode): boolean {
    return mode === 'exclusive' ? this.handle.tryLock() : this.handle.tryRLock();
  }

  leave(): void {
    this.handle.unlock();
  }

  close(): void {
    this.handle.close();
  }
}

function releaseFile(lockfile: string): string {
  return sideFile(lockfile, 'release');
}

/**
 * Releasers set the times of `<lockfile>.d/release`, and waiters watch it
 * with fs.watch (inotify on Linux, kqueue on macOS), which costs no thread
 * while waiting. The file stays empty. A watch that cannot be set up (no
 * inotify instance or watch left at a high -j, a read-only directory), or that
 * went deaf (the file deleted with its directory, which a clean step may
 * remove and a runner make again), is set up again at the next wait; meanwhile
 * `unheard` says why, and the caller polls.
 */
export class PosixReleaseWaiter implements ReleaseWaiter {
  private watcher: fs.FSWatcher | undefined;
  private pending = false;
  private wake: (() => void) | undefined;
  private closed = false;
  unheard: string | undefined;

  constructor(
    private readonly lockfile: string,
    /** What bounds the watches, for a watch refused for want of them (EMFILE, ENOSPC): Linux's inotify limits. */
    private readonly limits?: string,
  ) {
    this.watch();
  }

  private watch(): void {
    const file = releaseFile(this.lockfile);
    try {
      // Never through a symlink: a planted one would have piplock create a file at its target, and watch that.
      const flags = fs.constants.O_CREAT | fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW;
      fs.closeSync(fs.openSync(file, flags, 0o666));
      const watcher = fs.watch(file, { persistent: true }, (event) => {
        // 'rename': the file was deleted or moved away; this watch hears nothing more of the one at the path, and the
        // next wait watches the file there anew (unheard says so if it cannot).
        if (event === 'rename') this.unwatch(undefined);
        this.pending = true;
        this.wake?.();
      });
      watcher.on('error', (err: NodeJS.ErrnoException) => {
        this.unwatch(`watching '${file}' failed: ${describeErrno(err.code)}`);
        this.wake?.();
      });
      this.watcher = watcher;
      this.unheard = undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const limited = (code === 'EMFILE' || code === 'ENOSPC') && this.limits !== undefined;
      this.unwatch(`cannot watch '${file}': ${describeErrno(code)}${limited ? `; ${this.limits}` : ''}`);
    }
  }

  private unwatch(why: string | undefined): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.unheard = why;
  }

  wait(ms: number, abort?: AbortSignal): Promise<boolean> {
    if (this.watcher === undefined && !this.closed) this.watch();
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve, reject) => {
      const finish = (signalled: boolean): void => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        this.wake = undefined;
        this.pending = false;
        resolve(signalled);
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        reject(abort!.reason);
      };
      const timer = setTimeout(() => finish(false), ms);
      this.wake = () => finish(true);
      if (abort?.aborted) onAbort();
      else abort?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    this.wake?.();
  }
}

function signalRelease(lockfile: string): void {
  try {
    const now = new Date();
    // lutimes: a symlink planted as the release file gets its own times set, never its target's.
    fs.lutimesSync(releaseFile(lockfile), now, now);
  } catch {
    // a hint only: the waiters' polling still finds the lock free
  }
}

/** Parent links from ps(1): one process, and only when a nested runner must check its ancestry. */
function ancestorsFromPs(): number[] {
  let text: string;
  try {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    text = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [process.ppid];
  }
  const parent = new Map<number, number>();
  for (const line of text.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid !== undefined && ppid !== undefined && Number.isInteger(pid) && Number.isInteger(ppid))
      parent.set(pid, ppid);
  }
  return walkUp(process.ppid, (pid) => parent.get(pid));
}

/**
 * A POSIX platform with flock from the C library `libc`: no kernel lock
 * listing, no start tags and no parent-death signal, which the OS files add
 * where their OS has them.
 */
export function posixPlatform(name: string, libc: string): Platform {
  return {
    name,
    lockBackend: () => flockName(libc),
    openLockHandle: (file) => new PosixLockHandle(file, libc),
    adoptLockHandle: (fd, file) => new PosixLockHandle(file, libc, fd),
    fileIdentity(file) {
      const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
      return st === undefined ? undefined : { dev: st.dev, ino: st.ino };
    },
    canonicalPath: resolvedPath,
    openGate: (lockfile) => new PosixGate(lockfile, libc),
    listenForRelease: (lockfile) => new PosixReleaseWaiter(lockfile),
    signalRelease,
    startTag: () => undefined,
    markAlive: (fd) => flock(libc)(fd, LOCK_EX | LOCK_NB) === undefined,
    markedAlive(fd) {
      const code = flock(libc)(fd, LOCK_SH | LOCK_NB);
      if (code === undefined) {
        flock(libc)(fd, LOCK_UN);
        return false;
      }
      return isBusy(code) ? true : undefined;
    },
    ancestors: ancestorsFromPs,
    kernelLockHolders: () => [],
    prepareSpawn: () => {},
    spawnPlan: (command, args) => ({ command, args: [...args], spawned: () => {} }),
    forwardSignals: ['SIGINT', 'SIGTERM', 'SIGHUP'],
    outliveSignals: [],
    defaultPythons: [['python3'], ['python']],
    caseInsensitiveEnv: false,
    unlinkOpenFiles: true,
  };
}
