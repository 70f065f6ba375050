import type { SpawnOptions } from 'node:child_process';
import * as path from 'node:path';
import { acquire } from './acquire';
import { runChild, SpawnError } from './child';
import { modeForCommand } from './classify';
import type { RunOptions } from './cli';
import { formatDuration, LockTimeoutError } from './errors';
import { guardLockFile } from './guard';
import { createLogger } from './log';
import { mkdirs } from './mkdirs';
import { childEnv, nestedDecision } from './nested';
import { Registration } from './registry';
import { backendName, describeErrno, LockError } from '../platform';
import type { LockMode } from '../platform';

/** Exit status when the lock could not be taken: the seed's. */
export const LOCK_FAILURE_STATUS = 1;

/** The waiting notice: first after --notice-after (default 5 s), then every 30 s. */
export const DEFAULT_NOTICE_AFTER_MS = 5000;
export const NOTICE_EVERY_MS = 30_000;

/** Says on stderr, while the runner waits, how long it has waited and who holds the lock. */
function startNotices(lockfile: string, mode: LockMode, afterMs: number, log: ReturnType<typeof createLogger>): () => void {
  const start = performance.now();
  let every: NodeJS.Timeout | undefined;
  const notice = (): void => {
    // Only now, after seconds of waiting, is the code that reads the registry loaded.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { describeHolders } = require('./status') as typeof import('./status');
    const waited = formatDuration(performance.now() - start);
    log.warn(`waited ${waited} for ${mode === 'exclusive' ? 'an' : 'a'} ${mode} lock on '${lockfile}'; ${describeHolders(lockfile)}`);
  };
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

/** Takes the lock, runs the command, releases the lock once the command has exited; returns the exit status. */
export async function run(command: string[], opts: RunOptions): Promise<number> {
  const log = createLogger(opts.logLevel, opts.logFormat);
  const lockfile = path.resolve(opts.lockfile);
  const mode: LockMode = opts.mode === 'auto' ? modeForCommand(command) : opts.mode;
  const nested = nestedDecision(lockfile, mode);
  if (typeof nested === 'object') {
    log.error(nested.error);
    return LOCK_FAILURE_STATUS;
  }
  if (nested === 'inherited') {
    log.debug(`an ancestor piplock holds the lock; running ${JSON.stringify(command)} without locking again`, { lockfile, mode });
    return runCommand(command, log);
  }
  let lock;
  const registration = new Registration(lockfile, mode, command);
  let stopNotices: (() => void) | undefined;
  try {
    mkdirs(path.dirname(lockfile));
    lock = await acquire(lockfile, {
      mode,
      timeoutMs: opts.timeout,
      onWarning: (message) => log.warn(message, { lockfile }),
      onBusy: (attempt, waited) => {
        if (attempt === 1) {
          registration.set('waiting');
          stopNotices = startNotices(lockfile, mode, opts.noticeAfter ?? DEFAULT_NOTICE_AFTER_MS, log);
        }
        log.debug(`lock busy, attempt ${attempt} after ${formatDuration(waited)}`, { lockfile, mode });
      },
    });
    registration.set('holding');
  } catch (err) {
    registration.remove();
    if (err instanceof LockError || err instanceof LockTimeoutError) {
      log.error(err.message);
      return LOCK_FAILURE_STATUS;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.syscall === 'mkdir') {
      log.error(`cannot create directory '${e.path}' for lock file '${lockfile}': ${describeErrno(e.code)}`);
      return LOCK_FAILURE_STATUS;
    }
    throw err;
  } finally {
    stopNotices?.();
  }
  if (log.enabled('debug')) log.debug(`${mode} lock taken with ${backendName()}; running ${JSON.stringify(command)}`, { lockfile });
  // A lock file deleted or replaced while held would let newcomers in: notice it, say so, and lock the new file too.
  const stopGuard = guardLockFile(lock, lockfile, (message) => log.warn(message, { lockfile }));
  try {
    return await runCommand(command, log, { env: childEnv(lockfile, mode) });
  } finally {
    stopGuard();
    registration.remove();
    lock.release();
  }
}

async function runCommand(command: string[], log: ReturnType<typeof createLogger>, options: SpawnOptions = {}): Promise<number> {
  try {
    const [cmd, ...args] = command as [string, ...string[]];
    return await runChild(cmd, args, options);
  } catch (err) {
    if (err instanceof SpawnError) {
      log.error(err.message);
      return err.status;
    }
    throw err;
  }
}
