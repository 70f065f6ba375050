import path = require('node:path');
import { describeErrno, mkdirs, platform } from '../../platform';
import type { LockMode } from '../../platform';
import { formatDuration } from '../base/duration';
import { DirectoryError, FAILURE_STATUS, LockError, LockTimeoutError } from '../base/errors';
import type { Logger } from '../base/log';
import { acquire } from '../lock/acquire';
import { childEnv, nestedDecision } from './held-env';
import { DEFAULT_NOTICE_AFTER_MS, startNotices } from './notices';
import { Registration } from './registry';
import { watchLockFile } from './watch';

export interface HoldOptions {
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

/**
 * What both runners do around their command: skip locking when an ancestor
 * piplock already holds the lock, register as waiting then holding (for
 * `piplock status`), give waiting notices, take the lock, watch the lock file
 * while the command runs, and let go once `start` has settled. `start` gets
 * the child's environment, PIPLOCK_HELD included. Resolves with start's status,
 * or FAILURE_STATUS after saying on stderr why the lock was not taken.
 */
export async function holdWhile(
  o: HoldOptions,
  start: (env: NodeJS.ProcessEnv | undefined) => Promise<number>,
): Promise<number> {
  const { log, mode } = o;
  const lockfile = path.resolve(o.lockfile);
  const nested = nestedDecision(lockfile, mode);
  if (nested.action === 'refuse') {
    log.error(nested.error);
    return FAILURE_STATUS;
  }
  if (nested.action === 'lock' && nested.warning) log.warn(nested.warning);
  if (nested.action === 'inherited') {
    log.debug(`an ancestor piplock holds the lock; running ${JSON.stringify(o.command)} without locking again`, {
      lockfile,
      mode,
    });
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
      onWarning: (message, kind) =>
        kind === 'side-files' ? sideFilesWarning(message) : log.warn(message, { lockfile }),
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
    if (err instanceof DirectoryError) {
      log.error(`cannot create directory '${err.path}' for lock file '${lockfile}': ${describeErrno(err.code)}`);
      return FAILURE_STATUS;
    }
    throw err;
  } finally {
    stopNotices?.();
  }
  if (log.enabled('debug'))
    log.debug(`${mode} lock taken with ${platform.lockBackend()}; running ${JSON.stringify(o.command)}`, { lockfile });
  // The command first; the bookkeeping below can wait the millisecond it takes.
  const running = start(env);
  registration.set('holding');
  // A lock file deleted or replaced while held would let newcomers in: notice it, say so, and lock the new file too.
  const stopWatch = watchLockFile(lock, lockfile, (message) => log.warn(message, { lockfile }));
  try {
    return await running;
  } finally {
    stopWatch();
    registration.remove();
    lock.release();
  }
}
