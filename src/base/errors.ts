/**
 * Every error piplock reports, and the exit statuses they map to. Each
 * message is one line, meant to be shown as is after `piplock: error: `.
 * The platform's own (LockError, DirectoryError) are defined below it, in
 * platform/errors.ts, and re-exported here: one vocabulary for src/.
 */
import fs = require('node:fs');
import type { LockMode } from '../../platform/types';
import { formatDuration } from './duration';

import { describeErrno } from '../../platform/errors';

export { DirectoryError, LockError } from '../../platform/errors';
export type { LockErrorReason } from '../../platform/errors';

/** Exit status for a usage error, as most command-line tools and argparse use it. */
export const USAGE_STATUS = 2;
/** Exit status when the lock could not be taken, and for python-runner's own failures: the reference runner's. */
export const FAILURE_STATUS = 1;
/** Exit statuses of a command that could not be started, as the shell gives them. */
export const NOT_FOUND_STATUS = 127;
export const CANNOT_EXECUTE_STATUS = 126;
/** 128 + SIGPIPE (13): a shell's status for a program that SIGPIPE ended, which piplock ends with where its reader went. */
export const BROKEN_PIPE_STATUS = 141;

/** Standard output's reader has gone (`piplock --help | head -1`): the CLI ends silently with BROKEN_PIPE_STATUS. */
export class StdoutClosed extends Error {
  constructor() {
    super('the reader of standard output has gone');
    this.name = 'StdoutClosed';
  }
}

/** Writes piplock's own output; StdoutClosed where the reader has gone, any other error as it is. */
export function writeStdout(text: string): void {
  try {
    fs.writeSync(1, text);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') throw new StdoutClosed();
    throw err;
  }
}

export class LockTimeoutError extends Error {
  constructor(
    readonly path: string,
    readonly mode: LockMode,
    readonly waitedMs: number,
  ) {
    super(
      `timed out after ${formatDuration(waitedMs)} waiting for ${mode === 'exclusive' ? 'an' : 'a'} ${mode} lock on '${path}'`,
    );
    this.name = 'LockTimeoutError';
  }
}

/** A problem with what the user asked for: exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A command that could not be started: 127 when it does not exist, 126 when it cannot be executed. */
export class SpawnError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'SpawnError';
  }
}

/**
 * A `<TARGET_FILE(...)>`-style expression that cannot be expanded: malformed,
 * or naming a target the .ninja files do not describe. The messages are
 * python_runner.py's, so that logs read the same after switching.
 */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/**
 * The one line for an error of the OS that reached the command line without a message of piplock's own, instead of
 * Node's text (`ENOENT: no such file or directory, uv_cwd`): what could not be done, and why. Undefined for any
 * other error.
 */
export function osErrorLine(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, syscall, path } = err as NodeJS.ErrnoException;
  if (typeof code !== 'string' || typeof syscall !== 'string') return undefined;
  const why = describeErrno(code);
  // process.cwd(), which every relative path needs.
  if (syscall === 'uv_cwd')
    return `cannot resolve a relative path: ${code === 'ENOENT' ? 'the working directory was deleted (ENOENT)' : `the working directory cannot be read: ${why}`}`;
  // Every output of piplock's own is a writeSync to standard output; one to standard error could not be reported.
  if (syscall === 'write' && path === undefined) return `cannot write to standard output: ${why}`;
  return `${syscall}${path === undefined ? '' : ` '${path}'`}: ${why}`;
}
