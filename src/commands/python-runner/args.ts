import { UsageError } from '../../base/errors';
import { LOG_LEVELS } from '../../base/log';
import type { LogLevel } from '../../base/log';
import { choice, durationValue, formatOptions, parseOptions } from '../../base/options';
import type { OptionSpec } from '../../base/options';
import { quoteValue } from '../../base/quote';

/** The options python_runner.py takes from python_action.gni, and piplock's own. */
export interface RunnerArgs {
  gnRoot: string;
  currentPath: string;
  defaultToolchain: string;
  currentToolchain: string;
  lockfile: string;
  module?: string;
  /** --env NAME=VALUE, in order. */
  env: [string, string][];
  touch?: string;
  captureOutput: boolean;
  workingDirectory?: string;
  python?: string;
  timeoutMs?: number;
  /** Default: $PIPLOCK_LOG_LEVEL, else warn. */
  logLevel?: LogLevel;
  /** The action's GN label, for status, the event log and the waited line. */
  label?: string;
  /** After waiting this long, one line in the action's output says for whom; 0 never. Default: $PIPLOCK_NOTICE_AFTER, else 10 s. */
  noticeAfterMs?: number;
  /** False with --no-event-log. */
  eventLog: boolean;
  /** Everything from the first argument that is not an option on, '--' included, as argparse's REMAINDER keeps it. */
  command: string[];
}

const nameValue = (text: string): [string, string] => {
  const sep = text.indexOf('=');
  if (sep <= 0) throw new UsageError(`expected NAME=VALUE, got ${quoteValue(text)}`);
  return [text.slice(0, sep), text.slice(sep + 1)];
};

/** python_runner.py's options, as python_action.gni passes them, and piplock's own. */
const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'gnRoot',
    long: '--gn-root',
    value: 'DIR',
    required: true,
    help: 'the GN source root, rebase_path("//", root_build_dir)',
  },
  {
    key: 'currentPath',
    long: '--current-path',
    value: 'DIR',
    required: true,
    help: 'directory of the BUILD.gn file, rebase_path(".", root_build_dir)',
  },
  {
    key: 'defaultToolchain',
    long: '--default-toolchain',
    value: 'LABEL',
    required: true,
    help: 'value of default_toolchain',
  },
  {
    key: 'currentToolchain',
    long: '--current-toolchain',
    value: 'LABEL',
    required: true,
    help: 'value of current_toolchain',
  },
  {
    key: 'lockfile',
    long: '--lockfile',
    value: 'FILE',
    required: true,
    help: 'the pip lock: exclusive for pip, shared for any other module or script',
  },
  { key: 'module', long: '--module', value: 'MODULE', help: 'run this module (python -m MODULE) instead of a script' },
  {
    key: 'env',
    long: '--env',
    value: 'NAME=VALUE',
    repeatable: true,
    help: 'set an environment variable; repeatable',
    parse: nameValue,
  },
  {
    key: 'touch',
    long: '--touch',
    value: 'FILE',
    help: 'touch this file (creating its directories) when the command succeeds',
  },
  {
    key: 'captureOutput',
    long: '--capture-output',
    help: 'show the output (stdout and stderr combined) only if the command fails',
  },
  {
    key: 'workingDirectory',
    long: '--working-directory',
    value: 'DIR',
    default: 'the build directory',
    help: 'run the command in this directory',
  },
  {
    key: 'python',
    long: '--python',
    value: 'PATH',
    default: '$PIPLOCK_PYTHON, else python3, else python; py -3 first on Windows',
    help: 'the interpreter',
  },
  {
    key: 'timeoutMs',
    long: '--timeout',
    value: 'T',
    default: '$PIPLOCK_TIMEOUT, else 30m',
    help: 'give up waiting for the lock after T: seconds, or a number with ms, s, m or h',
    parse: durationValue,
  },
  {
    key: 'logLevel',
    long: '--log-level',
    value: 'LEVEL',
    default: '$PIPLOCK_LOG_LEVEL, else warn',
    help: `${LOG_LEVELS.join(', ')}, in any case; debug shows the command run, trace every try`,
    parse: choice(LOG_LEVELS, true),
  },
  {
    key: 'label',
    long: '--label',
    value: 'LABEL',
    help: "the action's GN label, shown by status, report, trace and the waited line",
  },
  {
    key: 'noticeAfterMs',
    long: '--notice-after',
    value: 'T',
    default: '$PIPLOCK_NOTICE_AFTER, else 10s',
    help: 'after waiting T, add one line to the output saying for whom; 0 never',
    parse: durationValue,
  },
  {
    key: 'noEventLog',
    long: '--no-event-log',
    help: "don't append this action to the lock's event log (<lockfile>.d/events.jsonl)",
  },
  { key: 'help', short: '-h', long: '--help', help: 'show this help' },
];

/** `python-runner --help`; made when asked, not at every action's start. */
export function runnerHelp(): string {
  return `Usage: piplock python-runner [OPTIONS] -- SCRIPT [ARGS...]
       piplock python-runner [OPTIONS] --module MODULE -- [ARGS...]

Runs PYTHON [-m MODULE] SCRIPT ARGS as Pigweed's python_runner.py does, for
pw_python_action: <TARGET_FILE(label)>, <TARGET_FILE_IF_EXISTS(label)> and
<TARGET_OBJECTS(label)> in ARGS are expanded from GN's .ninja files, and the
command runs under the pip lock.

Options:
${formatOptions(OPTIONS)}

Exit status: the command's; 128+N when it was killed by signal N; 1 when the
lock was not taken or the action is wrong (a bad expression, a missing working
directory, no command), as python_runner.py; 2 for a usage error; 126 when the
interpreter cannot be run; 127 when it is not found.
`;
}

/**
 * Parses the runner's arguments as python_runner.py's argparse parser does:
 * "--opt value" and "--opt=value", unique prefixes of long options, the last
 * of a repeated option winning (but --env adds up), and everything from the
 * first non-option on (normally "--") kept as the command.
 * Returns 'help' for -h/--help. Throws UsageError.
 */
export function parseRunnerArgs(argv: readonly string[]): RunnerArgs | 'help' {
  const parsed = parseOptions(OPTIONS, argv);
  if (parsed.help) return 'help';
  if (parsed.error !== undefined) throw new UsageError(parsed.error);
  const v = parsed.values as Record<string, string | undefined> & {
    env?: [string, string][];
    timeoutMs?: number;
    noticeAfterMs?: number;
    logLevel?: LogLevel;
  };
  return {
    gnRoot: v.gnRoot!,
    currentPath: v.currentPath!,
    defaultToolchain: v.defaultToolchain!,
    currentToolchain: v.currentToolchain!,
    lockfile: v.lockfile!,
    module: v.module,
    env: v.env ?? [],
    touch: v.touch,
    captureOutput: v.captureOutput !== undefined,
    workingDirectory: v.workingDirectory,
    python: v.python,
    timeoutMs: v.timeoutMs,
    logLevel: v.logLevel,
    label: v.label,
    noticeAfterMs: v.noticeAfterMs,
    eventLog: v.noEventLog === undefined,
    command: parsed.rest,
  };
}
