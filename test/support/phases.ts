// Commands for the runners of the exclusion tests: each appends "<name>-start" to a log, runs until a file
// appears (or for a while), and appends "<name>-end". Overlap is then read off the log's order.
import * as fs from 'node:fs';
import { NODE } from './paths';

/** node -e that logs `<name>-start`, waits until `go` exists (or `ms` milliseconds), and logs `<name>-end`. */
export function phaseCommand(log: string, name: string, until: { go: string } | { ms: number }): string[] {
  const wait =
    'go' in until
      ? // Ends too once the log is gone (the test's directory removed): a command whose test failed never outlives it.
        `const t=setInterval(()=>{if(fs.existsSync(${JSON.stringify(until.go)})){clearInterval(t);end()}else if(!fs.existsSync(log))process.exit(0)},20)`
      : `setTimeout(end,${until.ms})`;
  const code = `const fs=require('fs');const log=${JSON.stringify(log)};fs.appendFileSync(log,${JSON.stringify(`${name}-start\n`)});
function end(){fs.appendFileSync(log,${JSON.stringify(`${name}-end\n`)})}
${wait}`;
  return [NODE, '-e', code];
}

/** The log's lines so far. */
export function phases(log: string): string[] {
  try {
    return fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}
