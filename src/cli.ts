#!/usr/bin/env node
import './compile-cache';
import fs = require('node:fs');
import type { Command, CommanderError } from 'commander';
import {
  BROKEN_PIPE_STATUS,
  CANNOT_EXECUTE_STATUS,
  FAILURE_STATUS,
  osErrorLine,
  StdoutClosed,
  USAGE_STATUS,
  UsageError,
  writeStdout,
} from './base/errors';
import { errorLine } from './base/log';
import type { LogFormat } from './base/log';
import { describeOption, distance, durationValue, unknownOptions, wrap } from './base/options';
import type { OptionSpec } from './base/options';
import { quoteValue } from './base/quote';
import { RUN_EXIT_STATUS, RUN_OPTIONS, runRequest } from './commands/run-args';
import { argumentNotUtf8, environmentNotUtf8 } from './runner/not-utf8';
import type { RunOptions } from './commands/run';

/**
 * The command line. Every subcommand's options are a table of OptionSpecs
 * (src/base/options.ts): run's in src/commands/run-args.ts, python-runner's
 * in src/commands/python-runner/args.ts (read as python_runner.py's argparse
 * reads them), status's, report's and trace's below. Commander parses run,
 * status, report and trace with Commands built from those tables, so that
 * their help follows their parse; it is loaded only when needed: the two
 * invocations a build makes on every action are read by parseCommon.
 */

/** The format of usage errors: text, or JSON lines under --log-format json. */
let errorFormat: LogFormat = 'text';

function fail(message: string, status: number): never {
  fs.writeSync(2, errorLine(message, errorFormat));
  process.exit(status);
}

function print(text: string): never {
  writeStdout(text);
  process.exit(0);
}

/** A subcommand read by its table: what it takes and what its help says. */
interface Subcommand {
  summary: string;
  usage: string;
  description: string;
  options: readonly OptionSpec[];
  exitStatus: string;
}

const HELP_OPTION: OptionSpec = { key: 'help', short: '-h', long: '--help', help: 'show this help' };
const SINCE: OptionSpec = {
  key: 'since',
  long: '--since',
  value: 'TIME',
  default: 'the whole log',
  help: 'only acquisitions since TIME: ISO 8601, ms since the epoch, or a duration ago (10m)',
};

const SUBCOMMANDS: Record<'status' | 'report' | 'trace', Subcommand> = {
  status: {
    summary: 'list the holders and waiters of a lock file',
    usage: 'LOCKFILE [--json | --watch [--interval T]]',
    description:
      'Lists the holders and waiters of LOCKFILE: PID, mode, state, since when, command. ' +
      'Holders that are not piplock runners (flock(1), python_runner.py) are listed on Linux, from /proc/locks.',
    options: [
      { key: 'json', long: '--json', help: 'machine-readable output' },
      { key: 'watch', long: '--watch', help: 'a live view until Ctrl-C: holders, waiters, and whom each waits for' },
      {
        key: 'interval',
        long: '--interval',
        value: 'T',
        default: '1s',
        defaultValue: 1000,
        help: 'how often --watch redraws',
        parse: durationValue,
      },
      HELP_OPTION,
    ],
    exitStatus:
      'Exit status: 0; 1 when LOCKFILE does not exist or cannot be a lock file (a directory, say); 2 for a usage error.',
  },
  report: {
    summary: "summarise a lock's event log after a build",
    usage: 'LOCKFILE [--json] [--since TIME] [--html FILE]',
    description:
      'Summarises the event log of LOCKFILE (<lockfile>.d/events.jsonl): waits by mode, exclusive holds, the longest waits and who caused them, the time lost to waiting.',
    options: [
      { key: 'json', long: '--json', help: 'machine-readable output' },
      SINCE,
      {
        key: 'html',
        long: '--html',
        value: 'FILE',
        help: 'also write a self-contained page with a timeline of waits and holds',
      },
      HELP_OPTION,
    ],
    exitStatus: 'Exit status: 0; 1 when LOCKFILE has no event log or FILE cannot be written; 2 for a usage error.',
  },
  trace: {
    summary: "write a lock's event log as Chrome trace event JSON",
    usage: 'LOCKFILE [-o FILE] [--since TIME] [--origin TIME]',
    description:
      'Writes the event log of LOCKFILE as Chrome trace event JSON, for Perfetto (ui.perfetto.dev) or chrome://tracing.',
    options: [
      { key: 'output', short: '-o', long: '--output', value: 'FILE', default: 'stdout', help: 'write to FILE' },
      SINCE,
      {
        key: 'origin',
        long: '--origin',
        value: 'TIME',
        default: 'the Unix epoch',
        help: 'timestamps in microseconds since TIME',
      },
      HELP_OPTION,
    ],
    exitStatus:
      'Exit status: 0; 1 when LOCKFILE has no event log or the output cannot be written; 2 for a usage error.',
  },
};

const RUN_SUMMARY = 'run COMMAND while holding the lock (the default subcommand)';
const RUN_DESCRIPTION =
  'Runs COMMAND while holding a lock on PATH, and lets go once it has exited: in auto mode the lock is exclusive ' +
  'when COMMAND is pip, shared for anything else. With -c, runs LINE through the shell instead. run is the ' +
  'default subcommand: `piplock --lockfile PATH -- COMMAND` is run.';
const PYTHON_RUNNER_SUMMARY = "run a pw_python_action as Pigweed's python_runner.py does, under the pip lock";
const COMMANDS = ['run', 'status', 'report', 'trace', 'python-runner', 'help'];

function wrapped(text: string): string {
  return wrap(text, 80).join('\n');
}

/** The options parseCommon reads: all of run's but -c (which has no '--' after it) and -h. */
const FAST_OPTIONS = RUN_OPTIONS.filter((o) => o.key !== 'shellCommand' && o.key !== 'help');

/**
 * The parse of the two invocations a build makes on every action, without
 * loading commander (a sizeable share of a run's start-up):
 * `[run] OPTIONS -- COMMAND...`, each option of run's table at most once, as
 * `--name value`, `--name=value`, or flock(1)'s `-s`, `-x`, `-n`, `-w T`,
 * `-E N`, each value valid; and `python-runner ARGS` (parsed by
 * python-runner's own parser). Anything else (help, --version, a mistake,
 * an unusual spelling: `-xn`, `-w5`, `-c`, no '--') gives undefined and goes
 * to commander, so that what commander accepts, and every message and status
 * for what it refuses, are commander's. What it does take ends in
 * runRequest, as commander's parse of run does.
 */
export function parseCommon(
  argv: readonly string[],
): { run: [string[], RunOptions] } | { pythonRunner: string[] } | undefined {
  if (argv[0] === 'python-runner') {
    // Commander drops a '--' right after the subcommand's name; the runner's parser would not.
    return argv[1] === '--' ? undefined : { pythonRunner: argv.slice(1) };
  }
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (let i = argv[0] === 'run' ? 1 : 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      const command = argv.slice(i + 1);
      if (command.length === 0) return undefined;
      for (const o of RUN_OPTIONS)
        if (!given.has(o.key) && o.defaultValue !== undefined) values[o.key] = o.defaultValue;
      const request = runRequest(values, given, command);
      return 'run' in request && values.lockfile !== undefined
        ? { run: [request.run.command, request.run.options] }
        : undefined;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const option = FAST_OPTIONS.find((o) => o.long === name || o.short === name);
    if (option === undefined || given.has(option.key)) return undefined;
    given.add(option.key);
    if (option.value === undefined) {
      if (eq > 0) return undefined;
      values[option.key] = true;
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = argv[++i];
      // A value that looks like an option or '--' is left for commander to judge.
      if (value === undefined || value.startsWith('-')) return undefined;
    }
    try {
      values[option.key] = option.parse ? option.parse(value) : value;
    } catch (err) {
      if (err instanceof UsageError) return undefined;
      throw err;
    }
  }
  return undefined;
}

/** Whether run's options ask for JSON log lines: then its usage errors are JSON lines too. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const options = end < 0 ? argv : argv.slice(0, end);
  return options.some((a, i) => a === '--log-format=json' || (a === '--log-format' && options[i + 1] === 'json'));
}

/** Commander, once loaded: main() tells its errors from others by it. */
let commander: typeof import('commander') | undefined;

/** The full command line, with commander; the actions are parameters so that a test can see what it parsed. */
export function build(onRun = startRun, onPythonRunner = startPythonRunner): Command {
  // Loaded only here: the common invocations never need it (parseCommon).
  commander = require('commander') as typeof import('commander');
  const { Command, InvalidArgumentError, Option } = commander;
  type Option = import('commander').Option;

  /**
   * A subcommand whose options are those of a table: each OptionSpec is a
   * commander Option, with its default, whether it is mandatory, and its
   * parse; the help describes each from the table. Unknown options are let
   * through commander's parse and then named, all of them, by
   * unknownOptions(), before commander's check of the required options.
   */
  class TableCommand extends Command {
    private readonly specs = new Map<Option, OptionSpec>();

    constructor(
      name: string,
      parent: Command,
      private readonly table: readonly OptionSpec[],
      private readonly rest: 'command' | 'operands',
    ) {
      super(name);
      this.copyInheritedSettings(parent);
      for (const o of table) {
        const flags = `${o.short ? `${o.short}, ` : ''}${o.long}`;
        if (o.key === 'help') {
          this.helpOption(flags, o.help);
          continue;
        }
        const option = new Option(`${flags}${o.value ? ` <${o.value}>` : ''}`, o.help);
        if (o.defaultValue !== undefined) option.default(o.defaultValue, o.default);
        if (o.required) option.makeOptionMandatory();
        const parse = o.parse;
        if (parse)
          option.argParser((text: string) => {
            try {
              return parse(text);
            } catch (err) {
              throw err instanceof UsageError ? new InvalidArgumentError(err.message) : err;
            }
          });
        this.addOption(option);
        this.specs.set(option, o);
      }
      this.allowUnknownOption();
      this.configureHelp({
        optionDescription: (option) => {
          const spec = this.specs.get(option);
          return spec ? describeOption(spec) : option.description;
        },
      });
    }

    override parseOptions(argv: string[]): { operands: string[]; unknown: string[] } {
      const parsed = super.parseOptions(argv);
      const problem = unknownOptions(parsed.unknown, this.table, this.rest);
      if (problem !== undefined) this.error(problem, { exitCode: USAGE_STATUS, code: 'piplock.unknownOption' });
      // What the table's check let through is a help option for commander to answer; anything else is refused.
      const unread = parsed.unknown[0];
      if (unread !== undefined && !parsed.unknown.some((w) => w === '-h' || w === '--help'))
        this.error(`unknown option ${quoteValue(unread)}`, { exitCode: USAGE_STATUS, code: 'piplock.unknownOption' });
      return parsed;
    }

    /** The values by the table's keys (given or by default), and the keys given on the line. */
    values(): [Record<string, unknown>, Set<string>] {
      const values: Record<string, unknown> = {};
      const given = new Set<string>();
      for (const [option, spec] of this.specs) {
        const name = option.attributeName();
        const v: unknown = this.getOptionValue(name);
        if (v !== undefined) values[spec.key] = v;
        if (this.getOptionValueSource(name) === 'cli') given.add(spec.key);
      }
      return [values, given];
    }

    /** The help's options, as `Options:` of this command's help lists them. */
    optionsHelp(): string {
      return /\nOptions:\n([\s\S]*?)(?:\n\n|\n?$)/.exec(this.helpInformation())?.[1] ?? '';
    }
  }

  const program = new Command('piplock')
    .description('Runs a command under a shared or exclusive lock on a file: pip exclusive, everything else shared.')
    .usage(
      `[run] --lockfile PATH [OPTIONS] -- COMMAND [ARGS...]
       piplock SUBCOMMAND [ARGS...]
       piplock --version [--verbose] | --help | help [SUBCOMMAND]`,
    )
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => writeStdout(s),
      writeErr: (s) => void fs.writeSync(2, s),
      // Commander's messages start with "error: " and may add a hint on a second line; keep one line.
      outputError: (s, write) =>
        write(
          errorLine(
            s
              .trim()
              .replace(/\s*\n\s*/g, ' ')
              .replace(/^error: /, ''),
            errorFormat,
          ),
        ),
    })
    .version(
      require('../../package.json').version as string,
      '-V, --version',
      "print piplock's version; with --verbose, also Node's, the platform, the lock backend and the compile cache",
    )
    .helpOption('-h, --help', 'show this help; help SUBCOMMAND shows that of SUBCOMMAND')
    .helpCommand('help [SUBCOMMAND]', 'this help, or with SUBCOMMAND the same as SUBCOMMAND --help');

  const subcommand = (name: string, table: readonly OptionSpec[], rest: 'command' | 'operands'): TableCommand =>
    new TableCommand(name, program, table, rest);

  const run = subcommand('run', RUN_OPTIONS, 'command')
    .summary(RUN_SUMMARY)
    .description(wrapped(RUN_DESCRIPTION))
    .usage(
      `--lockfile PATH [OPTIONS] -- COMMAND [ARGS...]
       piplock [run] --lockfile PATH [OPTIONS] -c LINE`,
    )
    .argument('[COMMAND...]', "the command to run, after '--'")
    .passThroughOptions()
    .addHelpText('after', `\n${RUN_EXIT_STATUS}`)
    .action(async (command: string[]) => {
      const [values, given] = run.values();
      const request = runRequest(values, given, command);
      if ('error' in request) run.error(request.error, { exitCode: USAGE_STATUS });
      else await onRun(request.run.command, request.run.options);
    }) as TableCommand;
  program.addCommand(run);

  const lockfileCommand = (name: keyof typeof SUBCOMMANDS): TableCommand => {
    const s = SUBCOMMANDS[name];
    const command = subcommand(name, s.options, 'operands')
      .summary(s.summary)
      .description(wrapped(s.description))
      .usage(s.usage)
      .argument('<LOCKFILE>', 'the lock file (required)')
      .addHelpText('after', `\n${wrapped(s.exitStatus)}`) as TableCommand;
    program.addCommand(command);
    return command;
  };

  const status = lockfileCommand('status').action(async (lockfile: string) => {
    const [o, given] = status.values();
    const interval = o.interval as number;
    if (given.has('interval') && !o.watch) status.error('--interval goes with --watch', { exitCode: USAGE_STATUS });
    if (interval <= 0) status.error('--interval: must be more than 0', { exitCode: USAGE_STATUS });
    const { execute } = require('./commands/status') as typeof import('./commands/status');
    process.exit(await execute({ lockfile, json: o.json === true, ...(o.watch ? { watchMs: interval } : {}) }));
  });

  const report = lockfileCommand('report').action(async (lockfile: string) => {
    const [o] = report.values();
    const { execute } = require('./commands/report') as typeof import('./commands/report');
    process.exit(await execute({ lockfile, ...(o as { json?: boolean; since?: string; html?: string }) }));
  });

  const trace = lockfileCommand('trace').action(async (lockfile: string) => {
    const [o] = trace.values();
    const { execute } = require('./commands/trace') as typeof import('./commands/trace');
    process.exit(await execute({ lockfile, ...(o as { output?: string; since?: string; origin?: string }) }));
  });

  // pw_python_action's runner. Its options are parsed by src/commands/python-runner/args.ts, as python_runner.py's argparse does.
  program
    .command('python-runner')
    .summary(PYTHON_RUNNER_SUMMARY)
    .description(`${PYTHON_RUNNER_SUMMARY} (python-runner --help)`)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[ARGS...]')
    .action((args: string[]) => onPythonRunner(args));

  // Lazy: made only when the help is shown.
  program.addHelpText(
    'after',
    () => `
Options of run, the default subcommand:
${run.optionsHelp()}

${RUN_EXIT_STATUS}`,
  );
  return program;
}

/** A command is started only with the environment as it is: one that Node cannot pass on unchanged is refused. */
function refuseEnvironmentNotUtf8(): void {
  const why = environmentNotUtf8();
  if (why !== undefined) fail(why, CANNOT_EXECUTE_STATUS);
}

// Each subcommand's module exports execute(), which returns the exit status; only this file exits.
async function startRun(command: string[], options: RunOptions): Promise<void> {
  refuseEnvironmentNotUtf8();
  const { execute } = require('./commands/run') as typeof import('./commands/run');
  process.exit(await execute({ command, options }));
}

async function startPythonRunner(args: string[]): Promise<void> {
  refuseEnvironmentNotUtf8();
  const { execute } = require('./commands/python-runner') as typeof import('./commands/python-runner');
  process.exit(await execute(args, errorFormat));
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
    `code cache: ${codeCache()}`,
    `package: ${root}`,
    `cli: ${require.main?.filename ?? __filename}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** What the bin shim (scripts/build.mjs) did with the bundle's code cache on this run. */
function codeCache(): string {
  const c = (globalThis as Record<symbol, unknown>)[Symbol.for('piplock.codeCache')] as
    { file?: string; state: string; dir?: string } | undefined;
  if (!c) return 'not loaded by the bundle shim';
  if (c.state === 'foreign') return `off (${c.dir} is another user's, or others can write to it)`;
  if (!c.file) return 'off (no compile cache)';
  const said = {
    read: 'read',
    none: 'none yet, written at a successful end',
    rejected: 'rejected by V8, written again at a successful end',
  };
  return `${said[c.state as keyof typeof said] ?? c.state} (${c.file})`;
}

/** `help [TOPIC]`: the same text as `TOPIC --help`, or an error line for a topic that is no subcommand. */
async function help(args: readonly string[]): Promise<void> {
  const [topic, extra] = args;
  if (extra !== undefined) fail(`help takes one SUBCOMMAND, not ${args.length}`, USAGE_STATUS);
  if (topic === 'python-runner')
    print((require('./commands/python-runner/args') as typeof import('./commands/python-runner/args')).runnerHelp());
  if (topic !== undefined && !COMMANDS.includes(topic))
    fail(
      `no help for '${topic}': the subcommands are ${COMMANDS.filter((c) => c !== 'help').join(', ')}`,
      USAGE_STATUS,
    );
  // Commander's own `X --help`, so that the two are the same text.
  await build().parseAsync(topic === undefined || topic === 'help' ? ['--help'] : [topic, '--help'], { from: 'user' });
}

/** `piplock stauts x`: a word where a subcommand goes, close to one, is a typo, not a command for `run`. */
function misspeltCommand(first: string | undefined): string | undefined {
  if (first === undefined || first.startsWith('-') || COMMANDS.includes(first)) return undefined;
  const near = COMMANDS.find((c) => distance(first, c) <= 2);
  return near === undefined ? undefined : `unknown command '${first}' (did you mean '${near}'?)`;
}

/**
 * `--log-format F SUBCOMMAND ...`: a --log-format before a subcommand's name
 * is the format of that subcommand's usage errors (and, for run and
 * python-runner, of their logs); before a word that is no subcommand (a
 * typo, or a command for run) too. Before another option it is one of run's
 * options, and stays where it is.
 */
function leadingLogFormat(argv: readonly string[]): [LogFormat | undefined, string[]] {
  const [first, second, third] = argv;
  const eq = first?.startsWith('--log-format=') ? first.slice('--log-format='.length) : undefined;
  const [format, next, skip] = eq !== undefined ? [eq, second, 1] : first === '--log-format' ? [second, third, 2] : [];
  if ((format === 'text' || format === 'json') && next !== undefined && !next.startsWith('-'))
    return [format, argv.slice(skip)];
  return [undefined, [...argv]];
}

/** The options of the program itself; any other first word that is no subcommand starts run's arguments. */
const PROGRAM_OPTIONS = ['-h', '--help', '-V', '--version'];

/**
 * The words for commander: run named where it is meant, the default
 * subcommand (commander's own default subcommand would answer a --help in
 * the command, `piplock --lockfile x -xn -- tool --help`, with the program's
 * help), and a --log-format before run first among its options, so that one
 * after it wins.
 */
export function commandLine(given: readonly string[]): string[] {
  const [leading, argv] = leadingLogFormat(given);
  const first = argv[0];
  const line =
    (first !== undefined && COMMANDS.includes(first)) || PROGRAM_OPTIONS.includes(first!) ? argv : ['run', ...argv];
  return leading !== undefined && line[0] === 'run' ? ['run', '--log-format', leading, ...line.slice(1)] : line;
}

/** The program: what `piplock ARGS` does. */
export async function main(): Promise<void> {
  const given = process.argv.slice(2);
  const [leading, argv] = leadingLogFormat(given);
  const first = argv[0];
  const named = first !== undefined && COMMANDS.includes(first) ? first : undefined;
  errorFormat = leading ?? ((named ?? 'run') === 'run' && wantsJson(argv) ? 'json' : 'text');
  // An argument Node decoded with U+FFFD would reach the command, or name a lock file, as other bytes.
  const notUtf8 = argumentNotUtf8();
  if (notUtf8 !== undefined) fail(notUtf8, USAGE_STATUS);
  try {
    if (given.length === 2 && given.includes('--verbose') && (given.includes('--version') || given.includes('-V')))
      print(diagnostics());
    if (named === 'help') return await help(argv.slice(1));
    const typo = misspeltCommand(first);
    if (typo !== undefined) fail(typo, USAGE_STATUS);
    const line = commandLine(given);
    const common = parseCommon(line);
    if (common && 'run' in common) await startRun(...common.run);
    else if (common) await startPythonRunner(common.pythonRunner);
    else await build().parseAsync(line, { from: 'user' });
  } catch (err) {
    if (commander && err instanceof commander.CommanderError)
      process.exit((err as CommanderError).exitCode === 0 ? 0 : USAGE_STATUS);
    // The reader of standard output has gone (`piplock --help | head -1`): silent, with SIGPIPE's status, as other tools.
    if (err instanceof StdoutClosed) process.exit(BROKEN_PIPE_STATUS);
    fail(osErrorLine(err) ?? (err instanceof Error ? err.message : String(err)), FAILURE_STATUS);
  }
}

// Run as a program, not when a test loads it.
if (require.main === module) void main();
