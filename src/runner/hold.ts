import path = require('node:path');
import { describeErrno, mkdirs, platform } from '../../platform';
import type { LockHandle, LockMode } from '../../platform';
import { formatDuration } from '../base/duration';
import { DirectoryError, FAILURE_STATUS, LockError, LockTimeoutError } from '../base/errors';
import type { Logger } from '../base/log';
import { acquireWith } from '../lock/acquire';
import type { Lock } from '../lock/lock';
import { childEnv, nestedDecision } from './held-env';
import { appendEvent, eventLogEnabled } from './event-log';
import type { EventHolder, EventRecord } from './event-log';
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
  /** The GN label of the action, for `piplock status`, the event log and notices. */
  label?: string;
  /** Whether to append this acquisition to the event log. Default: unless PIPLOCK_EVENT_LOG=0. */
  eventLog?: boolean;
  /**
   * After a wait at least this long, one line on stderr once the lock is
   * granted or given up: who waited how long, and for whom. Infinity (the
   * default): none. For builds that show an action's output only when it ends.
   */
  waitedLineAfterMs?: number;
  /**
   * A handle on the lock file opened by the process that will run the
   * command (the GN launcher), locked instead of one of this runner's own
   * where it can be: start() is told whether it was (Lock.adopted).
   */
  adopted?: LockHandle;
  /** The process that PIPLOCK_HELD names as the holder: an ancestor of the command. Default: this one. */
  holder?: number;
}

/**
 * What both runners do around their command: skip locking when an ancestor
 * piplock already holds the lock, register as waiting then holding (for
 * `piplock status`), give waiting notices, take the lock, watch the lock file
 * while the command runs, and let go once `start` has settled. `start` gets
 * the child's environment, PIPLOCK_HELD included, and the lock (none when an
 * ancestor holds it), which it may hand over (Lock.handOver) rather than have
 * it released. Resolves with start's status, or FAILURE_STATUS after saying
 * on stderr why the lock was not taken.
 */
export async function holdWhile(
  o: HoldOptions,
  start: (env: NodeJS.ProcessEnv | undefined, lock?: Lock) => Promise<number>,
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
  const registration = new Registration(lockfile, mode, [...o.command], sideFilesWarning, o.label);
  const record: EventRecord = {
    v: 1,
    pid: process.pid,
    mode,
    ...(o.label !== undefined ? { label: o.label } : {}),
    command: [...o.command],
    asked: Date.now(),
    outcome: 'error',
  };
  const logEvent = (o.eventLog ?? eventLogEnabled()) ? () => appendEvent(lockfile, record, sideFilesWarning) : () => {};
  let stopNotices: (() => void) | undefined;
  let env: NodeJS.ProcessEnv;
  try {
    mkdirs(path.dirname(lockfile));
    // Everything the command's start needs is ready before the lock is: from the moment it is granted
    // only the spawn stands between the lock and the command (hand-off latency).
    env = childEnv(lockfile, mode, o.env ?? process.env, o.holder);
    // Not for a command that the launcher runs: it is spawned only if the launcher's file cannot be locked.
    if (o.adopted === undefined) platform.prepareSpawn(o.command[0], { env });
    lock = await acquireWith(
      lockfile,
      {
        mode,
        timeoutMs: o.timeoutMs,
        onWarning: (message, kind) =>
          kind === 'side-files' ? sideFilesWarning(message) : log.warn(message, { lockfile }),
        onBusy: (attempt, waited) => {
          if (attempt === 1) {
            registration.set('waiting');
            record.heldBy = holdersNow(lockfile);
            stopNotices = startNotices(lockfile, mode, o.noticeAfterMs ?? DEFAULT_NOTICE_AFTER_MS, log);
          }
          log.debug(`lock busy, attempt ${attempt} after ${formatDuration(waited)}`, { lockfile, mode });
        },
      },
      o.adopted,
    );
  } catch (err) {
    registration.remove();
    // A timeout, or an error after waiting, is part of the build's story; a lock that could not be
    // taken at all (a refused path) gets its one error line and nothing written beside it.
    if (err instanceof LockTimeoutError) record.outcome = 'timeout';
    if (err instanceof LockTimeoutError || record.heldBy !== undefined) {
      record.ended = Date.now();
      logEvent();
    }
    waitedLine(o, record, Date.now());
    if (err instanceof LockTimeoutError) {
      log.error(timeoutMessage(err, lockfile, record, o.timeoutMs === 0));
      return FAILURE_STATUS;
    }
    if (err instanceof LockError) {
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
  record.granted = Date.now();
  if (log.enabled('debug'))
    log.debug(`${mode} lock taken with ${platform.lockBackend()}; running ${JSON.stringify(o.command)}`, { lockfile });
  // The command first; the bookkeeping below can wait the millisecond it takes.
  const running = start(env, lock);
  registration.set('holding');
  // A lock file deleted or replaced while held would let newcomers in: notice it, say so, and lock the new file too.
  const stopWatch = watchLockFile(lock, lockfile, (message) => log.warn(message, { lockfile }));
  waitedLine(o, record, record.granted);
  try {
    const status = await running;
    record.status = status;
    return status;
  } finally {
    stopWatch();
    registration.remove();
    // Stamped before the release, so that a waiter granted at once is never granted before it.
    record.released = Date.now();
    lock.release();
    record.outcome = 'ran';
    logEvent();
  }
}

/** The holders (and a writer waiting ahead) when this runner first found the lock busy, for the event log. */
function holdersNow(lockfile: string): EventHolder[] {
  const { lockStatus } = require('./holders') as typeof import('./holders');
  try {
    // The exclusive ones first: a shared waiter waits for them, and they are the ones to name.
    return lockStatus(lockfile)
      .filter((e) => e.pid !== process.pid && (e.state === 'holding' || e.mode === 'exclusive'))
      .sort((a, b) => (a.mode === b.mode ? 0 : a.mode === 'exclusive' ? -1 : 1))
      .map(({ pid, mode, label, command, registered }) => ({
        pid,
        mode,
        ...(label !== undefined ? { label } : {}),
        command,
        registered,
      }));
  } catch {
    return [];
  }
}

/** "//:pip_install, PID 8123", or the command where there is no label. */
function nameOf(h: EventHolder): string {
  const { quoteCommand } = require('../base/quote') as typeof import('../base/quote');
  return h.label !== undefined ? `${h.label}, PID ${h.pid}` : `PID ${h.pid}: ${quoteCommand(h.command)}`;
}

function describeHeldBy(heldBy: EventHolder[] | undefined): string {
  if (heldBy === undefined || heldBy.length === 0) return 'held by a process that piplock does not know';
  const shown = heldBy.slice(0, 3).map(nameOf);
  const more = heldBy.length > shown.length ? ` and ${heldBy.length - shown.length} more` : '';
  return `held by ${shown.join('; ')}${more}`;
}

/**
 * A timeout names who held the lock when the wait began, as the waiting
 * notice does; a single try (--timeout 0) says who holds it now.
 */
function timeoutMessage(err: LockTimeoutError, lockfile: string, record: EventRecord, once: boolean): string {
  if (once) {
    const { describeHolders } = require('./holders') as typeof import('./holders');
    const mode = err.mode === 'exclusive' ? 'an exclusive' : 'a shared';
    return `busy: cannot take ${mode} lock on '${lockfile}' without waiting; ${describeHolders(lockfile)}`;
  }
  return `${err.message}; when the wait began it was ${describeHeldBy(record.heldBy)}`;
}

/** python-runner's line after a long wait: ninja shows an action's output only when it ends. */
function waitedLine(o: HoldOptions, record: EventRecord, now: number): void {
  const waited = now - record.asked;
  if (!(waited >= (o.waitedLineAfterMs ?? Infinity)) || record.heldBy === undefined) return;
  const who = o.label ?? `PID ${process.pid}`;
  const fs = require('node:fs') as typeof import('node:fs');
  fs.writeSync(
    2,
    `piplock: ${who} waited ${formatDuration(waited)} for the pip lock (${describeHeldBy(record.heldBy)})\n`,
  );
}
