import * as assert from 'node:assert/strict';
import type { SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NODE, ROOT } from './paths';
import { run, runCli, tmpDir } from './procs';
import type { Result } from './procs';

export const INDEX = path.join(ROOT, 'dist', 'src', 'index.js');

/** The GN options python-runner requires; the values are not used by the cases here. */
export function gnArgs(dir: string): string[] {
  return ['--gn-root', dir, '--current-path', dir, '--default-toolchain', '//t:t', '--current-toolchain', '//t:t'];
}

/** A run of the suite's process runner; `killed` says whether its kill timer ended it. */
export type Bounded = Result;

/** The CLI, with a kill timer of `limitMs`. */
export function cliBounded(args: string[], limitMs = 20_000, options: SpawnOptions = {}): Promise<Bounded> {
  return runCli(args, { ...options, limitMs });
}

export function describeRun(r: Bounded): string {
  return `status ${r.status}, signal ${r.signal}, killed by the test's timer: ${r.killed}\nstdout: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}`;
}

/** Ended by itself, within the kill timer. */
export function assertEnded(r: Bounded): void {
  assert.equal(r.killed, false, `hung: ${describeRun(r)}`);
}

/** A user error: one line `piplock: error: ...` matching `about`, no stack trace, the status one of `statuses`. */
export function assertOneError(r: Bounded, about: RegExp, statuses: number[] = [1, 2]): void {
  assertEnded(r);
  assert.ok(r.status !== null && statuses.includes(r.status), `status in ${statuses}: ${describeRun(r)}`);
  assert.match(r.stderr, /^piplock: error: [^\n]+\n$/, `one error line: ${describeRun(r)}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace: ${describeRun(r)}`);
  assert.match(r.stderr, about, describeRun(r));
}

/** Nothing left locked on `lockfile`: an exclusive --timeout 0 run gets it at once. */
export async function assertFree(lockfile: string): Promise<void> {
  const r = await cliBounded(['--lockfile', lockfile, '--mode', 'exclusive', '--timeout', '0', '--', NODE, '-e', '0']);
  assert.equal(r.status, 0, `the lock is free afterwards: ${describeRun(r)}`);
}

/**
 * Runs `body` (the text of an async function body, with `L` bound to the library) in a child process
 * whose working directory is `cwd`; its stdout is what the body returns, as JSON. A thrown error is
 * reported as {threw: {name, message, lockError, typeError}}. A hang is ended by the kill timer.
 */
export async function libraryChild(
  body: string,
  cwd: string = tmpDir(),
  limitMs = 20_000,
): Promise<{ r: Bounded; out: unknown }> {
  const code = `const L = require(${JSON.stringify(INDEX)});
(async () => { ${body} })().then(
  (v) => process.stdout.write(JSON.stringify({ value: v === undefined ? null : v })),
  (e) => process.stdout.write(JSON.stringify({ threw: { name: e && e.name, message: String(e && e.message), lockError: e instanceof L.LockError, typeError: e instanceof TypeError } })),
);`;
  const r = await run(NODE, ['-e', code], { cwd, limitMs });
  let out: unknown;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    out = undefined;
  }
  return { r, out };
}

export interface Threw {
  threw?: { name: string; message: string; lockError: boolean; typeError: boolean };
  value?: unknown;
}

/** The names in a directory, sorted. */
export function listing(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

const scratchDirs: string[] = [];

/** A temporary directory removed by removeScratch(): for tests that leave FIFOs or big files in theirs. */
export function scratch(): string {
  const d = tmpDir();
  scratchDirs.push(d);
  return d;
}

export function removeScratch(): void {
  for (const d of scratchDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}
