import type { SpawnOptions } from 'node:child_process';
import fs = require('node:fs');
import path = require('node:path');
import { mkdirs, platform } from '../../../platform';
import type { LockMode } from '../../../platform';
import { ExpressionError, FAILURE_STATUS, SpawnError } from '../../base/errors';
import type { Logger } from '../../base/log';
import { quoteCommand, quoteValue } from '../../base/quote';
import { modeForCommand } from '../../lock/pip';
import { reportingSpawnErrors, spawnCommand } from '../../runner/child';
import { eventLogEnabled } from '../../runner/event-log';
import { holdWhile } from '../../runner/hold';
import type { RunnerArgs } from './args';
import { expandExpressions } from './expressions';
import { makeGnPaths } from './labels';
import type { Launcher } from './launcher';
import { CapturedOutput, writeAll } from './output';

/** The lock mode of `python [-m MODULE] COMMAND...`: exclusive for pip and Pigweed's script that runs it. */
export function lockModeFor(module: string | undefined, command: readonly string[]): LockMode {
  return modeForCommand(['python', ...(module !== undefined ? ['-m', module] : []), ...command]);
}

/**
 * The interpreters to try, in order: --python, else $PIPLOCK_PYTHON, else
 * python3 then python (py -3 then python on Windows). The next is tried only
 * when the previous one does not exist.
 */
export function pythonCandidates(
  python: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  defaults: readonly (readonly string[])[] = platform.defaultPythons,
): string[][] {
  if (python !== undefined && python !== '') return [[python]];
  const fromEnv = env.PIPLOCK_PYTHON;
  if (fromEnv !== undefined && fromEnv !== '') return [[fromEnv]];
  return defaults.map((c) => [...c]);
}

/** The environment with --env settings applied; names are case-insensitive where the OS's are. */
export function withEnv(
  base: NodeJS.ProcessEnv,
  settings: readonly [string, string][],
  caseInsensitive = platform.caseInsensitiveEnv,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [name, value] of settings) {
    if (caseInsensitive) {
      for (const key of Object.keys(env)) if (key.toUpperCase() === name.toUpperCase()) delete env[key];
    }
    env[name] = value;
  }
  return env;
}

function touch(file: string): void {
  mkdirs(path.dirname(file));
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    fs.closeSync(fs.openSync(file, 'a'));
  }
}

/**
 * Does what python_runner.py does for one pw_python_action: expands the
 * expressions in the arguments, takes the pip lock, runs PYTHON [-m MODULE]
 * ARGS, shows captured output only on failure, touches the stamp only on
 * success, and returns the command's exit status.
 */
export async function performAction(args: RunnerArgs, log: Logger, launcher?: Launcher): Promise<number> {
  if (args.command[0] !== '--') {
    // Status 1, not run's usage status 2: python_runner.py exits 1 here, and this mode answers as it does.
    log.error("python-runner requires a command to run: put it after '--'");
    return FAILURE_STATUS;
  }
  const original = args.command.slice(1);

  // GN runs actions in the root build directory.
  const paths = makeGnPaths(args.gnRoot, process.cwd(), args.currentPath, args.defaultToolchain, args.currentToolchain);
  const expanded: string[] = [];
  for (const arg of original) {
    try {
      expanded.push(...expandExpressions(paths, arg));
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      log.error(`argument ${quoteValue(arg)}: ${err.message.replace(/\n/g, '\\n')}`);
      return FAILURE_STATUS;
    }
  }
  const pythonArgs = [...(args.module !== undefined ? ['-m', args.module] : []), ...expanded];

  let cwd: string | undefined;
  if (args.workingDirectory) {
    cwd = path.resolve(args.workingDirectory);
    if (!fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) {
      log.error(
        `working directory '${args.workingDirectory}' is not a directory (from the build directory '${process.cwd()}')`,
      );
      return FAILURE_STATUS;
    }
  }
  const env = args.env.length > 0 ? withEnv(process.env, args.env) : undefined;

  let output: CapturedOutput | undefined;
  try {
    if (args.captureOutput) output = new CapturedOutput(undefined, launcher?.outputFd);
  } catch (err) {
    log.error((err as Error).message);
    return FAILURE_STATUS;
  }
  try {
    const status = await pythonUnderLock(
      args,
      log,
      original,
      pythonArgs,
      { cwd, env, stdio: output ? ['inherit', output.fd, output.fd] : 'inherit' },
      launcher,
    );
    if (status !== 0) {
      log.debug(`command failed; exit status ${status}`);
      if (output) {
        try {
          writeAll(1, output.read());
        } catch {
          // stdout is gone (a closed pipe, a full disk): the command's status still says what happened
        }
      }
    } else if (args.touch !== undefined) {
      const stamp = path.resolve(args.touch);
      log.debug(`TOUCH ${stamp}`);
      try {
        touch(stamp);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        log.error(`cannot touch '${args.touch}': ${e.code ?? e.message}`);
        return FAILURE_STATUS;
      }
    }
    return status;
  } finally {
    output?.close();
  }
}

/**
 * Takes the lock, runs the interpreter, and lets go of the lock as soon as the
 * command has exited. With the GN launcher, the lock is taken on the file it
 * opened, and its child runs the command; should that file no longer be the
 * one at the path, the lock is taken on the path's and the interpreter is
 * spawned here, as without the launcher.
 */
async function pythonUnderLock(
  args: RunnerArgs,
  log: Logger,
  original: string[],
  pythonArgs: string[],
  options: SpawnOptions,
  launcher: Launcher | undefined,
): Promise<number> {
  const candidates = pythonCandidates(args.python);
  const hold = {
    lockfile: args.lockfile,
    mode: lockModeFor(args.module, original),
    timeoutMs: args.timeoutMs,
    // No notice while waiting: ninja holds an action's output until the action ends. One line
    // after a long wait says instead, in the action's output, whom it waited for.
    noticeAfterMs: Infinity,
    waitedLineAfterMs: args.noticeAfterMs === 0 || args.noticeAfterMs === undefined ? Infinity : args.noticeAfterMs,
    command: [...candidates[0]!, ...pythonArgs],
    log,
    env: options.env,
    eventLog: args.eventLog && eventLogEnabled(),
    ...(args.label !== undefined ? { label: args.label } : {}),
    adopted: launcher?.adoptLock(args.lockfile),
    // The launcher is the action's parent, and holds the lock with it.
    holder: launcher ? process.ppid : undefined,
  };
  return holdWhile(hold, (env, lock) => {
    if (launcher && (lock === undefined || lock.adopted)) {
      const plan = {
        argv: pythonArgs,
        env: env ?? process.env,
        cwd: path.resolve(options.cwd?.toString() ?? '.'),
        capture: options.stdio !== 'inherit',
      };
      return launcher.run(plan, lock, log);
    }
    launcher?.noPlan();
    return reportingSpawnErrors(log, () => spawnPython(candidates, pythonArgs, { ...options, env }, log));
  });
}

/** Runs the first interpreter of the list that exists. */
async function spawnPython(
  candidates: string[][],
  args: string[],
  options: SpawnOptions,
  log: Logger,
): Promise<number> {
  for (let i = 0; ; i++) {
    const [python, ...pre] = candidates[i]!;
    const argv = [...pre, ...args];
    if (log.enabled('debug'))
      log.debug(`RUN ${quoteCommand([python!, ...argv])}`, { cwd: options.cwd ?? process.cwd() });
    try {
      return await spawnCommand(python!, argv, options);
    } catch (err) {
      if (!(err instanceof SpawnError) || err.status !== 127 || candidates.length === 1) throw err;
      if (i + 1 === candidates.length) {
        const tried = candidates.map((c) => c.join(' ')).join(', ');
        throw new SpawnError(
          `no Python interpreter found: tried ${tried}; choose one with --python or PIPLOCK_PYTHON`,
          127,
        );
      }
      log.debug(err.message);
    }
  }
}
