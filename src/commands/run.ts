import type { LockMode } from '../../platform';
import { createLogger } from '../base/log';
import type { LogFormat, LogLevel } from '../base/log';
import { modeForCommand } from '../lock/pip';
import { reportingSpawnErrors, spawnCommand } from '../runner/child';
import { holdWhile } from '../runner/hold';

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

/** What `piplock run` was asked: the command and its options. */
export interface RunInput {
  command: string[];
  options: RunOptions;
}

/** `piplock run`: takes the lock, runs the command, lets go once it has exited; returns the exit status. */
export async function execute({ command, options: opts }: RunInput): Promise<number> {
  const log = createLogger(opts.logLevel, opts.logFormat);
  const mode: LockMode = opts.mode === 'auto' ? modeForCommand(command) : opts.mode;
  const [cmd, ...args] = command as [string, ...string[]];
  const hold = {
    lockfile: opts.lockfile,
    mode,
    timeoutMs: opts.timeout,
    noticeAfterMs: opts.noticeAfter,
    command,
    log,
  };
  return holdWhile(hold, (env) => reportingSpawnErrors(log, () => spawnCommand(cmd, args, env ? { env } : {})));
}
