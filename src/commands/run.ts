import fs = require('node:fs');
import type { LockMode } from '../../platform';
import { USAGE_STATUS, UsageError } from '../base/errors';
import { createLogger } from '../base/log';
import type { LogFormat, LogLevel } from '../base/log';
import { modeForCommand } from '../lock/pip';
import { reportingSpawnErrors, spawnCommand } from '../runner/child';
import { holdWhile } from '../runner/hold';
import { envSettings } from './settings';

/** The options of `piplock run`. */
export interface RunOptions {
  lockfile: string;
  mode: 'auto' | LockMode;
  timeout?: number;
  /** Print who holds the lock after waiting this long (then every 30 s). */
  noticeAfter?: number;
  /** Default: $PIPLOCK_LOG_LEVEL, else warn. */
  logLevel?: LogLevel;
  logFormat: LogFormat;
  /** The GN label (or any name) of the action, for status, the event log and notices. */
  label?: string;
}

/** What `piplock run` was asked: the command and its options. */
export interface RunInput {
  command: string[];
  options: RunOptions;
}

/** `piplock run`: takes the lock, runs the command, lets go once it has exited; returns the exit status. */
export async function execute({ command, options: opts }: RunInput): Promise<number> {
  let env;
  try {
    env = envSettings();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    fs.writeSync(2, `piplock: error: ${err.message}\n`);
    return USAGE_STATUS;
  }
  const log = createLogger(opts.logLevel ?? env.logLevel ?? 'warn', opts.logFormat);
  const mode: LockMode = opts.mode === 'auto' ? modeForCommand(command) : opts.mode;
  const [cmd, ...args] = command as [string, ...string[]];
  const hold = {
    lockfile: opts.lockfile,
    mode,
    timeoutMs: opts.timeout ?? env.timeoutMs,
    noticeAfterMs: opts.noticeAfter ?? env.noticeAfterMs,
    command,
    log,
    ...(opts.label !== undefined ? { label: opts.label } : {}),
  };
  return holdWhile(hold, (childEnv) =>
    reportingSpawnErrors(log, () => spawnCommand(cmd, args, childEnv ? { env: childEnv } : {})),
  );
}
