#!/usr/bin/env node
import './compile-cache';
import fs = require('node:fs');
import type { Command } from 'commander';
import { notADuration, parseDuration } from './base/duration';
import { FAILURE_STATUS, USAGE_STATUS } from './base/errors';
import { LOG_LEVELS } from './base/log';
import type { RunOptions } from './commands/run';

/** Whether the command line asks for JSON log lines: then its usage errors are JSON lines too. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const options = end < 0 ? argv : argv.slice(0, end);
  return options.some((a, i) => a === '--log-format=json' || (a === '--log-format' && options[i + 1] === 'json'));
}

function errorLine(message: string): string {
  return wantsJson(process.argv.slice(2))
    ? (require('./base/log') as typeof import('./base/log')).jsonErrorLine(message)
    : `piplock: error: ${message}\n`;
}

function fail(message: string, status: number): never {
  fs.writeSync(2, errorLine(message));
  process.exit(status);
}

const COMMANDS = ['run', 'status', 'report', 'trace', 'python-runner', 'help'];

/** Edit distance, for telling a misspelt subcommand from a command to run. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** `piplock stauts x`: a word where a subcommand goes, close to one, is a typo, not a command for `run`. */
function misspeltCommand(argv: readonly string[]): string | undefined {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || COMMANDS.includes(first)) return undefined;
  const near = COMMANDS.find((c) => distance(first, c) <= 2);
  return near === undefined ? undefined : `unknown command '${first}' (did you mean '${near}'?)`;
}

const MODES = ['auto', 'shared', 'exclusive'] as const;
const LOG_FORMATS = ['text', 'json'] as const;

const oneOf = (choices: readonly string[]) => (v: string) => (choices.includes(v) ? v : undefined);
/** Log levels are read without regard to case (DEBUG, Debug), as pino's and most tools' are. */
const logLevel = (v: string): string | undefined => oneOf(LOG_LEVELS)(v.toLowerCase());

/** The options parseCommon reads: each option's key in RunOptions, and its value or undefined when invalid. */
const FAST_OPTIONS = new Map<string, [keyof RunOptions, (v: string) => unknown]>([
  ['--lockfile', ['lockfile', (v) => v]],
  ['--mode', ['mode', oneOf(MODES)]],
  ['--timeout', ['timeout', parseDuration]],
  ['--notice-after', ['noticeAfter', parseDuration]],
  ['--log-level', ['logLevel', logLevel]],
  ['--log-format', ['logFormat', oneOf(LOG_FORMATS)]],
  ['--label', ['label', (v) => v]],
]);

/**
 * The parse of the two invocations a build makes on every action, without
 * loading commander (a sizeable share of a run's start-up):
 * `[run] OPTIONS -- COMMAND...` with each option of `run` at most once, as
 * `--name value` or `--name=value` with a valid value, and `python-runner
 * ARGS` (parsed by python-runner's own parser). Anything else (help,
 * --version, a mistake, an unusual spelling) gives undefined and goes to
 * commander, so that what commander accepts, and every message and status
 * for what it refuses, are commander's.
 */
export function parseCommon(
  argv: readonly string[],
): { run: [string[], RunOptions] } | { pythonRunner: string[] } | undefined {
  if (argv[0] === 'python-runner') {
    // Commander drops a '--' right after the subcommand's name; the runner's parser would not.
    return argv[1] === '--' ? undefined : { pythonRunner: argv.slice(1) };
  }
  const opts: Partial<RunOptions> = {};
  for (let i = argv[0] === 'run' ? 1 : 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      const command = argv.slice(i + 1);
      if (command.length === 0 || opts.lockfile === undefined) return undefined;
      return { run: [command, { mode: 'auto', logFormat: 'text', ...opts } as RunOptions] };
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = argv[++i];
      // A value that looks like an option or '--' is left for commander to judge.
      if (value === undefined || value.startsWith('-')) return undefined;
    }
    const option = FAST_OPTIONS.get(name);
    if (option === undefined || option[0] in opts) return undefined;
    const parsed = option[1](value);
    if (parsed === undefined) return undefined;
    (opts as Record<string, unknown>)[option[0]] = parsed;
  }
  return undefined;
}

/** flock(1)'s options of `run`, as commander reads them; fromFlockOptions() turns them into RunOptions. */
interface FlockOptions {
  shared?: true;
  exclusive?: true;
  nonblock?: true;
  wait?: number;
  command?: string;
}

/** RunOptions from flock(1)'s spellings: -s/-x are --mode, -n is --timeout 0, -w is --timeout, -c a shell command. */
function fromFlockOptions(raw: RunOptions & FlockOptions): RunOptions {
  const { shared, exclusive, nonblock, wait, command, ...opts } = raw;
  const modes = [shared && '-s', exclusive && '-x', opts.mode !== 'auto' && '--mode'].filter(Boolean);
  if (modes.length > 1) fail(`${modes.join(' and ')} ask for two modes: give one`, USAGE_STATUS);
  if (shared) opts.mode = 'shared';
  if (exclusive) opts.mode = 'exclusive';
  const timeouts = [nonblock && '-n', wait !== undefined && '-w', opts.timeout !== undefined && '--timeout'].filter(
    Boolean,
  );
  if (timeouts.length > 1) fail(`${timeouts.join(' and ')} both set the timeout: give one`, USAGE_STATUS);
  if (nonblock) opts.timeout = 0;
  if (wait !== undefined) opts.timeout = wait;
  if (command !== undefined) opts.shellCommand = command;
  return opts;
}

/** The full command line, with commander; the actions are parameters so that a test can see what it parsed. */
export function build(onRun = startRun, onPythonRunner = startPythonRunner): Command {
  // Loaded only here: the common invocations never need it (parseCommon).
  const { Command, InvalidArgumentError, Option } = require('commander') as typeof import('commander');
  const timeoutArg = (text: string): number => {
    const ms = parseDuration(text);
    if (ms === undefined) throw new InvalidArgumentError(notADuration(text));
    return ms;
  };
  // A path option's value is never an option, which commander would otherwise take as the path (`--lockfile -- cmd`).
  const pathArg = (text: string): string => {
    if (text.startsWith('-'))
      throw new InvalidArgumentError(`a path is missing (for a file whose name starts with '-', write ./${text})`);
    return text;
  };
  const statusArg = (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > 255) throw new InvalidArgumentError(`'${text}' is not an exit status (0 to 255)`);
    return n;
  };
  // After .choices(), which shows them in the help; this check replaces commander's, without regard to case.
  const logLevelArg = (text: string): string => {
    const level = logLevel(text);
    if (level === undefined) throw new InvalidArgumentError(`Allowed choices are ${LOG_LEVELS.join(', ')}.`);
    return level;
  };
  const program = new Command('piplock')
    .description('Run a command under a shared or exclusive lock on a file: pip exclusive, everything else shared.')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void fs.writeSync(1, s),
      writeErr: (s) => void fs.writeSync(2, s),
      // Commander's messages start with "error: " and may add a hint on a second line; keep one line.
      outputError: (s, write) =>
        write(
          errorLine(
            s
              .trim()
              .replace(/\s*\n\s*/g, ' ')
              .replace(/^error: /, ''),
          ),
        ),
    })
    .version(require('../../package.json').version as string);

  program
    .command('run', { isDefault: true })
    .description('run COMMAND while holding the lock (the default subcommand)')
    .requiredOption('--lockfile <path>', 'lock file; created with its parent directories if missing', pathArg)
    .addOption(
      new Option('--mode <mode>', 'auto: exclusive for pip, shared for anything else').choices(MODES).default('auto'),
    )
    .option(
      '--timeout <duration>',
      'give up waiting after this long (seconds, or 500ms, 90s, 30m; default $PIPLOCK_TIMEOUT, else 30m)',
      timeoutArg,
    )
    .option(
      '--notice-after <duration>',
      'after waiting this long, say on stderr who holds the lock, then every 30 s (default $PIPLOCK_NOTICE_AFTER, else 5s)',
      timeoutArg,
    )
    .option('--label <name>', "the action's name (a GN label) for status, the event log and notices")
    .addOption(
      new Option('--log-level <level>', 'default: $PIPLOCK_LOG_LEVEL, else warn')
        .choices(LOG_LEVELS)
        .argParser(logLevelArg),
    )
    .addOption(new Option('--log-format <format>').choices(LOG_FORMATS).default('text'))
    // flock(1)'s options, with its meanings.
    .option('-s, --shared', 'as flock -s: --mode shared')
    .option('-x, --exclusive', 'as flock -x: --mode exclusive')
    .option('-n, --nonblock', 'as flock -n: fail at once if the lock is busy (--timeout 0)')
    .option('-w, --wait <duration>', 'as flock -w: --timeout', timeoutArg)
    .option(
      '-E, --conflict-exit-code <status>',
      'as flock -E: the exit status when the lock was not taken because it stayed busy (default 1)',
      statusArg,
    )
    .option('--verbose', 'say on stderr how long taking the lock took')
    .option(
      '-c, --command <shell-command>',
      'as flock -c: run this through the shell ($SHELL -c, else /bin/sh -c; cmd /d /s /c on Windows)',
    )
    .argument('[command...]', 'the command to run, after --')
    .passThroughOptions()
    .addHelpText(
      'after',
      `
Exit status: the command's; 128+N when it was killed by signal N; -E's (default
1) when the lock stayed busy until the timeout; 1 when the lock could not be
taken for another reason; 2 for a usage error; 126 when the command cannot be
executed; 127 when it is not found.`,
    )
    .action(async (command: string[], raw: RunOptions & FlockOptions) => {
      const opts = fromFlockOptions(raw);
      if (opts.shellCommand !== undefined && command.length > 0)
        fail("give the command either with -c or after '--', not both", USAGE_STATUS);
      if (opts.shellCommand === undefined && command.length === 0)
        fail("no command given: put the command to run after '--'", USAGE_STATUS);
      await onRun(command, opts);
    });

  program
    .command('status')
    .description('list the holders and waiters of a lock file: PID, mode, state, since when, command')
    .argument('<lockfile>', 'the lock file')
    .option('--json', 'machine-readable output')
    .option('--watch', 'a live view until Ctrl-C: holders, waiters, and whom each waits for')
    .option('--interval <duration>', 'how often --watch redraws (default 1s)', timeoutArg)
    .action(async (lockfile: string, opts: { json?: boolean; watch?: true; interval?: number }) => {
      if (opts.interval !== undefined && !opts.watch) fail('--interval goes with --watch', USAGE_STATUS);
      if (opts.interval !== undefined && opts.interval <= 0) fail('--interval: must be more than 0', USAGE_STATUS);
      const watchMs = opts.watch ? (opts.interval ?? 1000) : undefined;
      const { execute } = require('./commands/status') as typeof import('./commands/status');
      process.exit(
        await execute({ lockfile, json: opts.json === true, ...(watchMs !== undefined ? { watchMs } : {}) }),
      );
    });

  program
    .command('report')
    .description(
      "summarise a lock's event log after a build: waits by mode, exclusive holds, the longest waits and who caused them",
    )
    .argument('<lockfile>', 'the lock file')
    .option('--json', 'machine-readable output')
    .option(
      '--since <time>',
      'only acquisitions since this time: ISO 8601, ms since the epoch, or a duration ago (10m)',
    )
    .option('--html <file>', 'also write a self-contained page with a timeline of waits and holds')
    .action(async (lockfile: string, opts: { json?: boolean; since?: string; html?: string }) => {
      const { execute } = require('./commands/report') as typeof import('./commands/report');
      process.exit(await execute({ lockfile, ...opts }));
    });

  program
    .command('trace')
    .description("write a lock's event log as Chrome trace event JSON (Perfetto, chrome://tracing)")
    .argument('<lockfile>', 'the lock file')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option(
      '--since <time>',
      'only acquisitions since this time: ISO 8601, ms since the epoch, or a duration ago (10m)',
    )
    .option('--origin <time>', 'timestamps relative to this time (default: microseconds since the Unix epoch)')
    .action(async (lockfile: string, opts: { output?: string; since?: string; origin?: string }) => {
      const { execute } = require('./commands/trace') as typeof import('./commands/trace');
      process.exit(await execute({ lockfile, ...opts }));
    });

  // pw_python_action's runner. Its options are parsed by src/commands/python-runner/args.ts, as python_runner.py's argparse does.
  program
    .command('python-runner')
    .description("run a pw_python_action as Pigweed's python_runner.py does, under the pip lock (python-runner --help)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[args...]')
    .action(onPythonRunner);
  return program;
}

// Each subcommand's module exports execute(), which returns the exit status; only this file exits.
async function startRun(command: string[], options: RunOptions): Promise<void> {
  const { execute } = require('./commands/run') as typeof import('./commands/run');
  process.exit(await execute({ command, options }));
}

async function startPythonRunner(args: string[]): Promise<void> {
  const { execute } = require('./commands/python-runner') as typeof import('./commands/python-runner');
  process.exit(await execute(args));
}

/**
 * `piplock --version --verbose`: what a bug report needs: piplock's version,
 * Node's, the platform, the flock backend, the compile cache, and where the
 * package is.
 */
function diagnostics(): string {
  const path = require('node:path') as typeof import('node:path');
  const mod = require('node:module') as { getCompileCacheDir?: () => string | undefined };
  const { platform } = require('../platform') as typeof import('../platform');
  const root = path.resolve(__dirname, '..', '..');
  let backend: string;
  try {
    backend = platform.lockBackend();
  } catch (err) {
    backend = `unavailable: ${(err as Error).message}`;
  }
  const cache = mod.getCompileCacheDir?.();
  const lines = [
    `piplock ${require('../../package.json').version as string}`,
    `node ${process.version} (${process.platform}-${process.arch}, ${process.execPath})`,
    `platform: ${platform.name}`,
    `lock: ${backend}`,
    `compile cache: ${cache ? `on (${cache})` : mod.getCompileCacheDir ? 'off' : 'not in this Node'}`,
    `package: ${root}`,
    `cli: ${require.main?.filename ?? __filename}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `help TOPIC`: python-runner's own help, or an error line for a topic that is no subcommand. */
function help(topic: string | undefined): void {
  if (topic === 'python-runner') {
    fs.writeSync(
      1,
      (require('./commands/python-runner/args') as typeof import('./commands/python-runner/args')).runnerHelp(),
    );
    process.exit(0);
  }
  if (topic !== undefined && !COMMANDS.includes(topic))
    fail(
      `no help for '${topic}': the subcommands are ${COMMANDS.filter((c) => c !== 'help').join(', ')}`,
      USAGE_STATUS,
    );
}

/** The program: what `piplock ARGS` does. */
export async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.length === 2 && argv.includes('--version') && argv.includes('--verbose')) {
    fs.writeSync(1, diagnostics());
    process.exit(0);
  }
  if (argv[0] === 'help') help(argv[1]);
  const typo = misspeltCommand(argv);
  if (typo !== undefined) fail(typo, USAGE_STATUS);
  try {
    const common = parseCommon(process.argv.slice(2));
    if (common && 'run' in common) await startRun(...common.run);
    else if (common) await startPythonRunner(common.pythonRunner);
    else await build().parseAsync(process.argv);
  } catch (err) {
    if (err instanceof (require('commander') as typeof import('commander')).CommanderError)
      process.exit(err.exitCode === 0 ? 0 : USAGE_STATUS);
    fail(err instanceof Error ? err.message : String(err), FAILURE_STATUS);
  }
}

// Run as a program, not when a test loads it.
if (require.main === module) void main();
