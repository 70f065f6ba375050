import fs = require('node:fs');
import { USAGE_STATUS, UsageError, writeStdout } from '../../base/errors';
import { createLogger, errorLine } from '../../base/log';
import type { LogFormat } from '../../base/log';
import { parseRunnerArgs, runnerHelp } from './args';
import { checkLabel, envSettings } from '../settings';
import { performAction } from './action';
import { Launcher, LAUNCHER_OPTION } from './launcher';

/** python-runner's waited line comes after 10 s of waiting, unless --notice-after or PIPLOCK_NOTICE_AFTER say otherwise. */
export const DEFAULT_WAITED_LINE_AFTER_MS = 10_000;

/**
 * `piplock python-runner ARGS`: returns the exit status. `format` is that of
 * its log lines and usage errors: python_runner.py's arguments have no
 * --log-format, so it comes from one before the subcommand's name.
 */
export async function execute(argv: readonly string[], format: LogFormat = 'text'): Promise<number> {
  let args;
  let env;
  let launcher: Launcher | undefined;
  try {
    if (argv[0]?.startsWith(LAUNCHER_OPTION)) {
      launcher = Launcher.parse(argv[0].slice(LAUNCHER_OPTION.length));
      argv = argv.slice(1);
    }
    args = parseRunnerArgs(argv);
    if (args !== 'help') checkLabel(args.label);
    env = envSettings();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    fs.writeSync(2, errorLine(`python-runner: ${err.message}`, format));
    return USAGE_STATUS;
  }
  if (args === 'help') {
    writeStdout(runnerHelp());
    return 0;
  }
  const resolved = {
    ...args,
    timeoutMs: args.timeoutMs ?? env.timeoutMs,
    noticeAfterMs: args.noticeAfterMs ?? env.noticeAfterMs ?? DEFAULT_WAITED_LINE_AFTER_MS,
  };
  const status = await performAction(resolved, createLogger(args.logLevel ?? env.logLevel ?? 'warn', format), launcher);
  launcher?.finish(status);
  return status;
}
