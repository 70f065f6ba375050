import type { SpawnOptions } from 'node:child_process';
import * as path from 'node:path';
import { acquire } from './acquire';
import { runChild, SpawnError } from './child';
import { modeForCommand } from './classify';
import type { RunOptions } from './cli';
import { formatDuration, LockTimeoutError } from './errors';
import { createLogger } from './log';
import { mkdirs } from './mkdirs';
import { childEnv, nestedDecision } from './nested';
import { describeErrno, LockError } from '../platform';
import type { LockMode } from '../platform';

/** Exit status when the lock could not be taken: the seed's. */
export const LOCK_FAILURE_STATUS = 1;

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
  try {
    mkdirs(path.dirname(lockfile));
    lock = await acquire(lockfile, {
      mode,
      timeoutMs: opts.timeout,
      onBusy: (attempt, waited) => log.debug(`lock busy, attempt ${attempt} after ${formatDuration(waited)}`, { lockfile, mode }),
    });
  } catch (err) {
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
  }
  log.debug(`${mode} lock taken; running ${JSON.stringify(command)}`, { lockfile });
  try {
    return await runCommand(command, log, { env: childEnv(lockfile, mode) });
  } finally {
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
