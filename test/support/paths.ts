// Where things are, for the tests and their helper processes: one place, so that
// no test spells the path to the CLI or the name of Python on its own.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
// Every test loads this module: a misspelt PIPLOCK_TEST_SABOTAGE stops the run before any test runs.
import './sabotage';

/** The repository root (this file runs as dist/test/support/paths.js). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The compiled runner CLI. */
export const CLI = path.join(ROOT, 'dist', 'bin', 'piplock.js');
export const NODE = process.execPath;
export const IS_WINDOWS = process.platform === 'win32';
/** The compiled helper processes of test/support. */
export const SUPPORT = __dirname;
/** The test sources, for files that are not compiled (Python helpers, the e2e project). */
export const TEST_SOURCES = path.join(ROOT, 'test');

/** The name Python has on PATH here: Windows installs python.exe, Debian only python3. */
export const PYTHON = IS_WINDOWS ? 'python' : 'python3';

let pythonFound: boolean | undefined;
/** Whether PYTHON runs; asked once, and only by the tests that need it. */
export function havePython(): boolean {
  pythonFound ??= spawnSync(PYTHON, ['-c', 'pass']).status === 0;
  return pythonFound;
}

/** A compiled helper of test/support, e.g. supportScript('programs/holder.js'). */
export function supportScript(name: string): string {
  return path.join(SUPPORT, name);
}
