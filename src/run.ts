import type { SpawnOptions } from 'node:child_process';
import type { LockMode } from '../platform';
import { runChild } from './child';
import { modeForCommand } from './classify';
import { SpawnError } from './errors';
import { runLocked } from './locked';
import type { LogFormat, Logger, LogLevel } from './log';
import { createLogger } from './log';

/** The options of `piplock run`. */
export interface RunOptions {
  lockfile: string;
  mode: 'auto' | LockMode;
  timeout?: number;
  /** Print who holds the lock after waiting this long (then every 30 s). */
  noticeAfter?: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** Takes the lock, runs the command, releases the lock once the command has exited; returns the exit status. */
export async function run(command: string[], opts: RunOptions): Promise<number> {
  const log = createLogger(opts.logLevel, opts.logFormat);
  const mode: LockMode = opts.mode === 'auto' ? modeForCommand(command) : opts.mode;
  return runLocked({ lockfile: opts.lockfile, mode, timeoutMs: opts.timeout, noticeAfterMs: opts.noticeAfter, command, log }, (env) =>
    runCommand(command, log, env ? { env } : {}),
  );
}

async function runCommand(command: string[], log: Logger, options: SpawnOptions): Promise<number> {
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
