import path = require('node:path');
import { describeErrno, mkdirs, platform } from '../platform';
import type { LockMode } from '../platform';
import { acquire, NO_GATE } from './acquire';
import { formatDuration, monotonicMs } from './duration';
import { FAILURE_STATUS, LockError, LockTimeoutError } from './errors';
import { guardLockFile } from './guard';
import type { Logger } from './log';
import { childEnv, nestedDecision } from './nested';
import { Registration } from './registry';

/** The waiting notice: first after --notice-after (default 5 s), then every 30 s. */
export const DEFAULT_NOTICE_AFTER_MS = 5000;
export const NOTICE_EVERY_MS = 30_000;

export interface LockedRunOptions {
  lockfile: string;
  mode: LockMode;
  timeoutMs?: number;
  /** Infinity: no notice. */
  noticeAfterMs?: number;
  /** What `piplock status` shows as this holder's command. */
  command: readonly string[];
  log: Logger;
  /** The child's environment before PIPLOCK_HELD is added. */
  env?: NodeJS.ProcessEnv;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Says on stderr, while the runner waits, how long it has waited and who holds the lock. */
function startNotices(lockfile: string, mode: LockMode, afterMs: number, log: Logger): () => void {
  const start = monotonicMs();
  let every: NodeJS.Timeout | undefined;
  const notice = (): void => {
    // Only now, after seconds of waiting, is the code that reads the registry loaded.
    const { describeHolders } = require('./status') as typeof import('./status');
    const waited = formatDuration(monotonicMs() - start);
    log.warn(`waited ${waited} for ${mode === 'exclusive' ? 'an' : 'a'} ${mode} lock on '${lockfile}'; ${describeHolders(lockfile)}`);
  };
  // Past setTimeout's range (about 24.8 days) there is no notice, rather than one at once.
  if (!(afterMs <= MAX_TIMER_MS)) return () => {};
  const first = setTimeout(() => {
    notice();
    every = setInterval(notice, NOTICE_EVERY_MS);
    every.unref();
  }, afterMs);
  first.unref();
  return () => {
    clearTimeout(first);
    if (every) clearInterval(every);
  };
}

/**
 * What both runners do around their command: skip locking when an ancestor
 * piplock already holds the lock, register as waiting then holding (for
 * `piplock status`), give waiting notices, take the lock, watch the lock file
 * while the command runs, and let go once `start` has settled. `start` gets
 * the child's environment, PIPLOCK_HELD included. Resolves with start's status,
 * or FAILURE_STATUS after saying on stderr why the lock was not taken.
 */
export async function runLocked(o: LockedRunOptions, start: (env: NodeJS.ProcessEnv | undefined) => Promise<number>): Promise<number> {
  const { log, mode } = o;
  const lockfile = path.resolve(o.lockfile);
  const nested = nestedDecision(lockfile, mode);
  if (nested.action === 'refuse') {
    log.error(nested.error);
    return FAILURE_STATUS;
  }
  if (nested.action === 'lock' && nested.warning) log.warn(nested.warning);
  if (nested.action === 'inherited') {
    log.debug(`an ancestor piplock holds the lock; running ${JSON.stringify(o.command)} without locking again`, { lockfile, mode });
    return start(o.env);
  }
  let lock;
  // The files beside the lock (gate, registry) are a help, not a need: where they cannot be written
  // (a full disk, a read-only directory) the runner locks all the same, and says so once.
  let sideFilesWarned = false;
  const sideFilesWarning = (message: string): void => {
    if (sideFilesWarned) return;
    sideFilesWarned = true;
    log.warn(message, { lockfile });
  };
  const registration = new Registration(lockfile, mode, [...o.command], sideFilesWarning);
  let stopNotices: (() => void) | undefined;
  let env: NodeJS.ProcessEnv;
  try {
    mkdirs(path.dirname(lockfile));
    // Everything the command's start needs is ready before the lock is: from the moment it is granted
    // only the spawn stands between the lock and the command (hand-off latency).
    env = childEnv(lockfile, mode, o.env ?? process.env);
    platform.prepareSpawn(o.command[0], { env });
    lock = await acquire(lockfile, {
      mode,
      timeoutMs: o.timeoutMs,
      onWarning: (message) => (message.startsWith(NO_GATE) ? sideFilesWarning(message) : log.warn(message, { lockfile })),
      onBusy: (attempt, waited) => {
        if (attempt === 1) {
          registration.set('waiting');
          stopNotices = startNotices(lockfile, mode, o.noticeAfterMs ?? DEFAULT_NOTICE_AFTER_MS, log);
        }
        log.debug(`lock busy, attempt ${attempt} after ${formatDuration(waited)}`, { lockfile, mode });
      },
    });
  } catch (err) {
    registration.remove();
    if (err instanceof LockError || err instanceof LockTimeoutError) {
      log.error(err.message);
      return FAILURE_STATUS;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.syscall === 'mkdir') {
      log.error(`cannot create directory '${e.path}' for lock file '${lockfile}': ${describeErrno(e.code)}`);
      return FAILURE_STATUS;
    }
    throw err;
  } finally {
    stopNotices?.();
  }
  if (log.enabled('debug')) log.debug(`${mode} lock taken with ${platform.lockBackend()}; running ${JSON.stringify(o.command)}`, { lockfile });
  // The command first; the bookkeeping below can wait the millisecond it takes.
  const running = start(env);
  registration.set('holding');
  // A lock file deleted or replaced while held would let newcomers in: notice it, say so, and lock the new file too.
  const stopGuard = guardLockFile(lock, lockfile, (message) => log.warn(message, { lockfile }));
  try {
    return await running;
  } finally {
    stopGuard();
    registration.remove();
    lock.release();
  }
}
