#!/usr/bin/env node
import './compile-cache';
import * as fs from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { notADuration, parseDuration } from './duration';
import { FAILURE_STATUS, USAGE_STATUS } from './errors';
import { LOG_LEVELS } from './log';
import type { RunOptions } from './run';

function fail(message: string, status: number): never {
  fs.writeSync(2, `piplock: error: ${message}\n`);
  process.exit(status);
}

function timeoutArg(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError(notADuration(text));
  return ms;
}

/** A path option's value: never an option, which commander would otherwise take as the path (`--lockfile -- cmd`). */
function pathArg(text: string): string {
  if (text.startsWith('-')) throw new InvalidArgumentError(`a path is missing (for a file whose name starts with '-', write ./${text})`);
  return text;
}

const COMMANDS = ['run', 'status', 'python-runner', 'help'];

/** Edit distance, for telling a misspelt subcommand from a command to run. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
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

function build(): Command {
  const program = new Command('piplock')
    .description('Run a command under a shared or exclusive lock on a file: pip exclusive, everything else shared.')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void fs.writeSync(1, s),
      writeErr: (s) => void fs.writeSync(2, s),
      // Commander's messages start with "error: " and may add a hint on a second line; keep one line.
      outputError: (s, write) => write(`piplock: ${s.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .version(require('../../package.json').version as string);

  program
    .command('run', { isDefault: true })
    .description('run COMMAND while holding the lock (the default subcommand)')
    .requiredOption('--lockfile <path>', 'lock file; created with its parent directories if missing', pathArg)
    .addOption(new Option('--mode <mode>', 'auto: exclusive for pip, shared for anything else').choices(['auto', 'shared', 'exclusive']).default('auto'))
    .option('--timeout <duration>', 'give up waiting after this long (seconds, or 500ms, 90s, 30m)', timeoutArg)
    .option('--notice-after <duration>', 'after waiting this long, say on stderr who holds the lock, then every 30 s (default 5s)', timeoutArg)
    .addOption(new Option('--log-level <level>').choices(LOG_LEVELS).default('warn'))
    .addOption(new Option('--log-format <format>').choices(['text', 'json']).default('text'))
    .argument('[command...]', 'the command to run, after --')
    .passThroughOptions()
    .action(async (command: string[], opts: RunOptions) => {
      if (command.length === 0) fail("no command given: put the command to run after '--'", USAGE_STATUS);
      const { run } = await import('./run');
      process.exit(await run(command, opts));
    });

  program
    .command('status')
    .description('list the holders and waiters of a lock file: PID, mode, state, since when, command')
    .argument('<lockfile>', 'the lock file')
    .option('--json', 'machine-readable output')
    .action(async (lockfile: string, opts: { json?: boolean }) => {
      const { printStatus } = await import('./status');
      process.exit(printStatus(lockfile, opts.json === true));
    });

  // pw_python_action's runner. Its options are parsed by src/python-runner/args.ts, as python_runner.py's argparse does.
  program
    .command('python-runner')
    .description("run a pw_python_action as Pigweed's python_runner.py does, under the pip lock (python-runner --help)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[args...]')
    .action(async (args: string[]) => {
      const { pythonRunner } = await import('./python-runner/main');
      process.exit(await pythonRunner(args));
    });
  return program;
}

async function main(): Promise<void> {
  const typo = misspeltCommand(process.argv.slice(2));
  if (typo !== undefined) fail(typo, USAGE_STATUS);
  try {
    await build().parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : USAGE_STATUS);
    fail(err instanceof Error ? err.message : String(err), FAILURE_STATUS);
  }
}

void main();
