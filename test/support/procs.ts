import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, IS_WINDOWS, NODE } from './paths';

const made: string[] = [];

/**
 * A new directory under the system's temporary one, removed when this process
 * exits (PIPLOCK_TEST_KEEP=1 keeps them, to look at after a failure).
 */
export function tmpDir(prefix = 'piplock-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (made.length === 0 && process.env.PIPLOCK_TEST_KEEP !== '1') process.on('exit', removeMade);
  made.push(dir);
  return dir;
}

function removeMade(): void {
  for (const dir of made) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // a file a stray process still has open (Windows): left for the system's cleaner
    }
  }
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the kill timer had to end it: the process would have run on (a hang). */
  killed: boolean;
}

export interface RunOptions extends SpawnOptions {
  /** The kill timer: generous, it bounds a hang and does not measure speed. Default 120 s. */
  limitMs?: number;
}

/**
 * The test suite's process runner: runs a process to its end, collecting its
 * output (pipes between Windows processes work under Wine), and kills it
 * after `limitMs`, so that a hang is a failed assertion and not a stuck mocha.
 */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<Result> {
  const { limitMs = 120_000, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, killed });
    });
  });
}

export function runCli(args: string[], options: RunOptions = {}): Promise<Result> {
  return run(NODE, [CLI, ...args], options);
}

/** A node -e command line, the portable child for both lanes. */
export function nodeEval(code: string): string[] {
  return [NODE, '-e', code];
}

/** Resolves with the first stdout line of `child` that matches, or rejects when it exits first. */
export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      for (const line of buf.split(/\r?\n/)) {
        if (pattern.test(line)) {
          child.stdout!.off('data', onData);
          child.off('exit', onExit);
          resolve(line);
          return;
        }
      }
    };
    const onExit = (code: number | null): void =>
      reject(new Error(`process exited (${code}) before printing ${pattern}; output: ${buf}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Polls until fn returns true; false if it never did within the limit. */
export async function eventually(fn: () => boolean, limitMs: number, everyMs = 10): Promise<boolean> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (fn()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, command);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * A new directory `real` and `link`, a link to it, side by side in a new
 * temporary directory: a symlink on POSIX, a junction on Windows, which needs
 * no privilege there. Where no junction can be made (Wine's drives: ENOTSUP),
 * the test is skipped with the reason; the code that resolves links is the
 * same on POSIX, where this always works.
 */
export function linkedDir(test: { skip(): never }): { real: string; link: string } {
  const base = tmpDir();
  const real = path.join(base, 'real');
  const link = path.join(base, 'link');
  fs.mkdirSync(real);
  try {
    fs.symlinkSync(real, link, 'junction'); // POSIX ignores the type
  } catch (err) {
    if (!IS_WINDOWS) throw err;
    console.log(`      pending: no junction can be made here (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    test.skip();
  }
  return { real, link };
}
