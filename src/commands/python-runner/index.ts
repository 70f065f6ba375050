import fs = require('node:fs');
import { USAGE_STATUS, UsageError } from '../../base/errors';
import { createLogger } from '../../base/log';
import { HELP, parseRunnerArgs } from './args';
import { performAction } from './action';

/** `piplock python-runner ARGS`: returns the exit status. */
export async function execute(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseRunnerArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    fs.writeSync(2, `piplock: error: python-runner: ${err.message}\n`);
    return USAGE_STATUS;
  }
  if (args === 'help') {
    fs.writeSync(1, HELP);
    return 0;
  }
  return performAction(args, createLogger(args.logLevel));
}
