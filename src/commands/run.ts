import fs = require('node:fs');
import type { LockMode } from '../../platform';
import { formatDuration, monotonicMs } from '../base/duration';
import { USAGE_STATUS, UsageError } from '../base/errors';
import { createLogger, errorLine } from '../base/log';
import type { LogFormat, LogLevel } from '../base/log';
import { isPipCommand, modeForCommand } from '../lock/pip';
import { reportingSpawnErrors, spawnCommand } from '../runner/child';
import { holdWhile } from '../runner/hold';
import { checkLabel, envSettings } from './settings';

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

/**
 * The `auto` mode of a `-c` shell command. A shell line can run pip in many
 * ways (`cd x && pip install`, `VAR=1 python -m pip`, `. venv/bin/activate;
 * pip ...`) that no reading short of the shell's own can rule out, so any
 * word that names pip, anywhere in it, makes the lock exclusive: an
 * exclusive lock too many costs only time, a shared one too many breaks the
 * build.
 */
export function shellCommandMode(line: string): LockMode {
  const words = line.split(/[\s;&|()<>`'"]+/).filter(Boolean);
  if (words.some((w) => isPipCommand([w]))) return 'exclusive';
  for (let i = 0; i < words.length; i++) if (isPipCommand(words.slice(i))) return 'exclusive';
  return 'shared';
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
    checkLabel(opts.label);
    env = envSettings();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // Before any logger exists, in the format asked for: a JSON line under --log-format json.
    fs.writeSync(2, errorLine(err.message, opts.logFormat));
    return USAGE_STATUS;
  }
  const log = createLogger(opts.logLevel ?? env.logLevel ?? 'warn', opts.logFormat);
  const shell = opts.shellCommand === undefined ? undefined : shellArgv(opts.shellCommand);
  const argv = shell?.argv ?? command;
  const mode: LockMode =
    opts.mode !== 'auto' ? opts.mode : shell ? shellCommandMode(opts.shellCommand!) : modeForCommand(command);
  const [cmd, ...args] = argv as [string, ...string[]];
  const hold = {
    lockfile: opts.lockfile,
    mode,
    timeoutMs: opts.timeout ?? env.timeoutMs,
    // PIPLOCK_NOTICE_AFTER=0 turns the notice off, as the GN build arg does; --notice-after 0 gives it at once.
    noticeAfterMs: opts.noticeAfter ?? (env.noticeAfterMs === 0 ? Infinity : env.noticeAfterMs),
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
