import { UsageError } from '../base/errors';
import { LOG_LEVELS } from '../base/log';
import type { LogFormat } from '../base/log';
import { choice, durationValue } from '../base/options';
import type { OptionSpec } from '../base/options';
import type { RunInput, RunOptions } from './run';

const MODES = ['auto', 'shared', 'exclusive'] as const;
const LOG_FORMATS = ['text', 'json'] as const;

// A path never starts with '-' here, which would be an option taken for the path (`--lockfile -- cmd`).
const path = (text: string): string => {
  if (text === '') throw new UsageError('the path is an empty string');
  if (text.startsWith('--')) throw new UsageError('a path is missing');
  if (text.startsWith('-'))
    throw new UsageError(`a path is missing (for a file whose name starts with '-', write ./${text})`);
  return text;
};

const exitStatus = (text: string): number => {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 255) throw new UsageError(`'${text}' is not an exit status (0 to 255)`);
  return n;
};

/** The options of `piplock run`: its parse, its usage errors and its help. */
export const RUN_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'lockfile',
    long: '--lockfile',
    value: 'PATH',
    required: true,
    help: 'the lock file; created with its parent directories if missing',
    parse: path,
  },
  {
    key: 'mode',
    long: '--mode',
    value: 'MODE',
    default: 'auto',
    defaultValue: 'auto',
    help: 'auto (exclusive when COMMAND is pip, shared otherwise), shared or exclusive',
    parse: choice(MODES),
  },
  {
    key: 'timeout',
    long: '--timeout',
    value: 'T',
    default: '$PIPLOCK_TIMEOUT, else 30m',
    help: 'give up waiting after T: seconds, or a number with ms, s, m or h; 0 tries once',
    parse: durationValue,
  },
  {
    key: 'noticeAfter',
    long: '--notice-after',
    value: 'T',
    default: '$PIPLOCK_NOTICE_AFTER, else 5s',
    help: 'after waiting T, say on stderr who holds the lock, then again every 30 s',
    parse: durationValue,
  },
  {
    key: 'label',
    long: '--label',
    value: 'NAME',
    help: "the action's name (a GN label), shown by status, report, trace and the notices",
  },
  {
    key: 'logLevel',
    long: '--log-level',
    value: 'LEVEL',
    default: '$PIPLOCK_LOG_LEVEL, else warn',
    help: `${LOG_LEVELS.join(', ')}, in any case; info: waited, acquired, released; debug: the busy tries and the command run; trace: every try`,
    parse: choice(LOG_LEVELS, true),
  },
  {
    key: 'logFormat',
    long: '--log-format',
    value: 'FORMAT',
    default: 'text',
    defaultValue: 'text',
    help: 'text (piplock: LEVEL: ... lines) or json (JSON lines, usage errors too), on stderr',
    parse: choice(LOG_FORMATS),
  },
  { key: 'shared', short: '-s', long: '--shared', help: 'as flock -s: --mode shared' },
  { key: 'exclusive', short: '-x', long: '--exclusive', help: 'as flock -x: --mode exclusive' },
  {
    key: 'nonblock',
    short: '-n',
    long: '--nonblock',
    help: 'as flock -n: fail at once if the lock is busy (--timeout 0)',
  },
  { key: 'wait', short: '-w', long: '--wait', value: 'T', help: 'as flock -w: --timeout T', parse: durationValue },
  {
    key: 'conflictExitCode',
    short: '-E',
    long: '--conflict-exit-code',
    value: 'N',
    default: '1',
    defaultValue: 1,
    help: 'as flock -E: the exit status when the lock stayed busy until the timeout',
    parse: exitStatus,
  },
  {
    key: 'shellCommand',
    short: '-c',
    long: '--command',
    value: 'LINE',
    help: "as flock -c: run LINE through the shell ($SHELL -c, else /bin/sh -c; cmd /d /s /c on Windows) instead of a COMMAND after '--'",
  },
  { key: 'verbose', long: '--verbose', help: 'say on stderr how long taking the lock took' },
  { key: 'help', short: '-h', long: '--help', help: 'show this help' },
];

/** What run's help says after its options. */
export const RUN_EXIT_STATUS = `Exit status: COMMAND's; 128+N when it was killed by signal N; -E's (default 1)
when the lock stayed busy until the timeout; 1 when the lock could not be taken
for another reason; 2 for a usage error; 126 when COMMAND cannot be executed;
127 when it is not found.`;

/** What `piplock run ARGS` asks for: a command to run, or a usage error. */
export type RunRequest = { run: RunInput } | { error: string };

/** flock(1)'s spellings as RunOptions: -s/-x are --mode, -n is --timeout 0, -w is --timeout; each asked once. */
function conflicts(given: ReadonlySet<string>): string | undefined {
  const modes = [given.has('shared') && '-s', given.has('exclusive') && '-x', given.has('mode') && '--mode'].filter(
    Boolean,
  );
  if (modes.length > 1) return `${modes.join(' and ')} ask for two modes: give one`;
  const timeouts = [
    given.has('nonblock') && '-n',
    given.has('wait') && '-w',
    given.has('timeout') && '--timeout',
  ].filter(Boolean);
  if (timeouts.length > 1) return `${timeouts.join(' and ')} both set the timeout: give one`;
  return undefined;
}

/**
 * What run was asked, from the values of RUN_OPTIONS by key (each option
 * given on the line, in `given`, or its `defaultValue`) and the command: both
 * parses of run, commander's and src/cli.ts's parseCommon, end here, so that
 * they agree on every checks that the table cannot make alone.
 */
export function runRequest(
  values: Readonly<Record<string, unknown>>,
  given: ReadonlySet<string>,
  command: string[],
): RunRequest {
  const v = values;
  const error =
    conflicts(given) ??
    (v.shellCommand !== undefined && command.length > 0
      ? "give the command either with -c or after '--', not both"
      : undefined) ??
    (v.shellCommand === undefined && command.length === 0
      ? "no command given: put the command to run after '--'"
      : undefined);
  if (error !== undefined) return { error };
  const options: RunOptions = {
    lockfile: v.lockfile as string,
    mode: v.shared ? 'shared' : v.exclusive ? 'exclusive' : (v.mode as RunOptions['mode']),
    logFormat: v.logFormat as LogFormat,
  };
  const timeout = v.nonblock ? 0 : ((v.wait ?? v.timeout) as number | undefined);
  if (timeout !== undefined) options.timeout = timeout;
  for (const key of ['noticeAfter', 'logLevel', 'label', 'shellCommand', 'conflictExitCode', 'verbose'] as const)
    if (v[key] !== undefined) (options as unknown as Record<string, unknown>)[key] = v[key];
  return { run: { command, options } };
}
