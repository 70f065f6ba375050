import { notADuration, parseDuration } from '../../base/duration';
import { UsageError } from '../../base/errors';
import { quoteValue as quote } from '../../base/quote';
import { LOG_LEVELS } from '../../base/log';
import type { LogLevel } from '../../base/log';

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

type Key =
  | 'gnRoot'
  | 'currentPath'
  | 'defaultToolchain'
  | 'currentToolchain'
  | 'lockfile'
  | 'module'
  | 'env'
  | 'touch'
  | 'captureOutput'
  | 'workingDirectory'
  | 'python'
  | 'timeout'
  | 'logLevel'
  | 'label'
  | 'noticeAfter'
  | 'noEventLog'
  | 'help';

interface Spec {
  key: Key;
  /** Takes a value. */
  value: boolean;
  required?: boolean;
  metavar?: string;
  help: string;
}

const SPECS: Record<string, Spec> = {
  '--gn-root': {
    key: 'gnRoot',
    value: true,
    required: true,
    metavar: 'DIR',
    help: 'the GN source root, rebase_path("//", root_build_dir)',
  },
  '--current-path': {
    key: 'currentPath',
    value: true,
    required: true,
    metavar: 'DIR',
    help: 'directory of the BUILD.gn file, rebase_path(".", root_build_dir)',
  },
  '--default-toolchain': {
    key: 'defaultToolchain',
    value: true,
    required: true,
    metavar: 'LABEL',
    help: 'value of default_toolchain',
  },
  '--current-toolchain': {
    key: 'currentToolchain',
    value: true,
    required: true,
    metavar: 'LABEL',
    help: 'value of current_toolchain',
  },
  '--lockfile': {
    key: 'lockfile',
    value: true,
    required: true,
    metavar: 'FILE',
    help: 'the pip lock: exclusive for pip, shared for any other module or script',
  },
  '--module': {
    key: 'module',
    value: true,
    metavar: 'MODULE',
    help: 'run this module (python -m MODULE) instead of a script',
  },
  '--env': { key: 'env', value: true, metavar: 'NAME=VALUE', help: 'set an environment variable; repeatable' },
  '--touch': {
    key: 'touch',
    value: true,
    metavar: 'FILE',
    help: 'touch this file (creating its directories) when the command succeeds',
  },
  '--capture-output': {
    key: 'captureOutput',
    value: false,
    help: 'show the output (stdout and stderr combined) only if the command fails',
  },
  '--working-directory': {
    key: 'workingDirectory',
    value: true,
    metavar: 'DIR',
    help: 'run the command in this directory instead of the build directory',
  },
  '--python': {
    key: 'python',
    value: true,
    metavar: 'PATH',
    help: 'the interpreter; default: $PIPLOCK_PYTHON, else python3, else python (py -3 on Windows)',
  },
  '--timeout': {
    key: 'timeout',
    value: true,
    metavar: 'DURATION',
    help: 'give up waiting for the lock after this long (default 30m)',
  },
  '--log-level': {
    key: 'logLevel',
    value: true,
    metavar: 'LEVEL',
    help: `${LOG_LEVELS.join(', ')} (default warn; debug shows the command run)`,
  },
  '--label': {
    key: 'label',
    value: true,
    metavar: 'LABEL',
    help: "the action's GN label, shown by status, report, trace and the waited line",
  },
  '--notice-after': {
    key: 'noticeAfter',
    value: true,
    metavar: 'DURATION',
    help: 'after waiting this long, add one line to the output saying for whom (default 10s; 0 never)',
  },
  '--no-event-log': {
    key: 'noEventLog',
    value: false,
    help: "don't append this action to the lock's event log (<lockfile>.d/events.jsonl)",
  },
  '--help': { key: 'help', value: false, help: 'show this help' },
};

export const HELP = `Usage: piplock python-runner [OPTIONS] -- SCRIPT [ARGS...]
       piplock python-runner [OPTIONS] --module MODULE -- [ARGS...]

Runs PYTHON [-m MODULE] SCRIPT ARGS as Pigweed's python_runner.py does, for
pw_python_action: <TARGET_FILE(label)>, <TARGET_FILE_IF_EXISTS(label)> and
<TARGET_OBJECTS(label)> in ARGS are expanded from GN's .ninja files, and the
command runs under the pip lock.

Options:
${Object.entries(SPECS)
  .map(([name, s]) => {
    const left = s.value ? `${name} ${s.metavar}` : name === '--help' ? '-h, --help' : name;
    return `  ${left.padEnd(28)}${s.help}${s.required ? ' (required)' : ''}`;
  })
  .join('\n')}
`;

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

/** Whether argparse would take the string as an option rather than as a value or the command. */
function looksLikeOption(arg: string): boolean {
  if (arg.length < 2 || arg[0] !== '-') return false;
  if (arg === '--') return true;
  if (findSpec(arg.split('=', 1)[0]!, false) !== undefined) return true;
  return !NEGATIVE_NUMBER.test(arg) && !arg.includes(' ');
}

/** An option by its name or, as argparse allows, by an unambiguous prefix of a long name. */
function findSpec(name: string, strict: boolean): [string, Spec] | undefined {
  if (name === '-h') return ['--help', SPECS['--help']!];
  const exact = SPECS[name];
  if (exact) return [name, exact];
  if (!name.startsWith('--') || name.length < 3) return undefined;
  const matches = Object.keys(SPECS).filter((long) => long.startsWith(name));
  if (matches.length > 1 && strict) throw new UsageError(`ambiguous option: ${name} could match ${matches.join(', ')}`);
  return matches.length === 1 ? [matches[0]!, SPECS[matches[0]!]!] : undefined;
}

/**
 * Parses the runner's arguments as python_runner.py's argparse parser does:
 * "--opt value" and "--opt=value", unique prefixes of long options, the last
 * of a repeated option winning (but --env adds up), and everything from the
 * first non-option on (normally "--") kept as the command.
 * Returns 'help' for -h/--help. Throws UsageError.
 */
export function parseRunnerArgs(argv: readonly string[]): RunnerArgs | 'help' {
  const values: Partial<Record<Key, string>> = {};
  const env: [string, string][] = [];
  let captureOutput = false;
  let eventLog = true;
  const unknown: string[] = [];
  let command: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!looksLikeOption(arg) || arg === '--') {
      command = argv.slice(i);
      break;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const found = findSpec(name, true);
    if (!found) {
      unknown.push(arg);
      continue;
    }
    const [long, spec] = found;
    if (spec.key === 'help') return 'help';
    let value: string | undefined;
    if (!spec.value) {
      if (eq > 0) throw new UsageError(`argument ${long}: ignored explicit argument ${quote(arg.slice(eq + 1))}`);
      if (spec.key === 'captureOutput') captureOutput = true;
      if (spec.key === 'noEventLog') eventLog = false;
      continue;
    }
    if (eq > 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || looksLikeOption(next)) throw new UsageError(`argument ${long}: expected one argument`);
      value = next;
      i++;
    }
    if (spec.key === 'env') {
      const sep = value.indexOf('=');
      if (sep <= 0) throw new UsageError(`argument --env: expected NAME=VALUE, got ${quote(value)}`);
      env.push([value.slice(0, sep), value.slice(sep + 1)]);
    } else {
      values[spec.key] = value;
    }
  }

  const missing = Object.entries(SPECS)
    .filter(([, s]) => s.required && values[s.key] === undefined)
    .map(([name]) => name);
  if (missing.length > 0) throw new UsageError(`the following arguments are required: ${missing.join(', ')}`);
  if (unknown.length > 0) throw new UsageError(`unrecognized arguments: ${unknown.join(' ')}`);

  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    timeoutMs = parseDuration(values.timeout);
    if (timeoutMs === undefined) throw new UsageError(`argument --timeout: ${notADuration(values.timeout)}`);
  }
  let noticeAfterMs: number | undefined;
  if (values.noticeAfter !== undefined) {
    noticeAfterMs = parseDuration(values.noticeAfter);
    if (noticeAfterMs === undefined)
      throw new UsageError(`argument --notice-after: ${notADuration(values.noticeAfter)}`);
  }
  const logLevel = values.logLevel as LogLevel | undefined;
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel))
    throw new UsageError(
      `argument --log-level: invalid choice ${quote(logLevel)} (choose from ${LOG_LEVELS.join(', ')})`,
    );

  return {
    gnRoot: values.gnRoot!,
    currentPath: values.currentPath!,
    defaultToolchain: values.defaultToolchain!,
    currentToolchain: values.currentToolchain!,
    lockfile: values.lockfile!,
    module: values.module,
    env,
    touch: values.touch,
    captureOutput,
    workingDirectory: values.workingDirectory,
    python: values.python,
    timeoutMs,
    logLevel,
    label: values.label,
    noticeAfterMs,
    eventLog,
    command,
  };
}
