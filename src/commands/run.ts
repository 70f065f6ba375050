import fs = require('node:fs');
import type { LockMode } from '../../platform';
import { formatDuration, monotonicMs } from '../base/duration';
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
  /** flock -c: the command, run by the shell, instead of an argv. */
  shellCommand?: string;
  /** flock -E: the exit status when the lock stayed busy until the timeout. Default 1. */
  conflictExitCode?: number;
  /** Say on stderr how long taking the lock took. */
  verbose?: boolean;
}

/** How the shell runs `-c COMMAND`: $SHELL -c as flock(1) does, else /bin/sh; cmd.exe /d /s /c on Windows. */
export function shellArgv(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
): { argv: string[]; verbatim: boolean } {
  if (process.platform === 'win32')
    return { argv: [env.ComSpec || 'cmd.exe', '/d', '/s', '/c', `"${command}"`], verbatim: true };
  return { argv: [env.SHELL || '/bin/sh', '-c', command], verbatim: false };
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
  const shell = opts.shellCommand === undefined ? undefined : shellArgv(opts.shellCommand);
  const argv = shell?.argv ?? command;
  // -c 'pip install ...' is read as the shell would run it: its words, for the pip rule.
  const mode: LockMode =
    opts.mode !== 'auto' ? opts.mode : modeForCommand(shell ? opts.shellCommand!.trim().split(/\s+/) : command);
  const [cmd, ...args] = argv as [string, ...string[]];
  const hold = {
    lockfile: opts.lockfile,
    mode,
    timeoutMs: opts.timeout ?? env.timeoutMs,
    noticeAfterMs: opts.noticeAfter ?? env.noticeAfterMs,
    command: argv,
    log,
    ...(opts.label !== undefined ? { label: opts.label } : {}),
    ...(opts.conflictExitCode !== undefined ? { conflictStatus: opts.conflictExitCode } : {}),
  };
  const asked = monotonicMs();
  return holdWhile(hold, (childEnv) => {
    if (opts.verbose)
      fs.writeSync(2, `piplock: took the ${mode} lock after ${formatDuration(monotonicMs() - asked)}\n`);
    const spawnOptions = {
      ...(childEnv ? { env: childEnv } : {}),
      ...(shell?.verbatim ? { windowsVerbatimArguments: true } : {}),
    };
    return reportingSpawnErrors(log, () => spawnCommand(cmd, args, spawnOptions));
  });
}
