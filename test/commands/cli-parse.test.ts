import * as assert from 'node:assert/strict';
import { build, parseCommon } from '../../src/cli';
import type { RunOptions } from '../../src/commands/run';

type Parsed = { run: [string[], RunOptions] } | { pythonRunner: string[] } | { error: number };

/** What commander makes of argv: the run command and its options, python-runner's arguments, or its exit code. */
async function viaCommander(argv: string[]): Promise<Parsed> {
  let got: Parsed | undefined;
  const program = build(
    async (command, opts) => void (got = { run: [command, { ...opts }] }),
    async (args) => void (got = { pythonRunner: args }),
  );
  program.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  try {
    await program.parseAsync(['node', 'cli.js', ...argv]);
  } catch (err) {
    return { error: (err as { exitCode: number }).exitCode };
  }
  return got!;
}

const L = ['--lockfile', 'pip.lock'];
const CMD = ['--', 'python3', '-c', 'pass'];

// Invocations the hand parser takes: it must read them exactly as commander does.
const ACCEPTED: string[][] = [
  [...L, ...CMD],
  ['run', ...L, ...CMD],
  ['--lockfile=pip.lock', ...CMD],
  ['--lockfile=', ...CMD],
  [...L, '--mode', 'exclusive', ...CMD],
  [...L, '--mode=shared', '--timeout', '90', '--notice-after', '500ms', ...CMD],
  ['--timeout=1.5m', ...L, '--log-level', 'debug', '--log-format', 'json', ...CMD],
  [...L, '--', 'cmd', '--lockfile', 'x', '--', 'y'],
  [...L, '--', '--'],
  ['python-runner', '--gn-root', '..', '--lockfile', 'pip.lock', '--capture-output', '--', 'noop.py', 'a'],
  ['python-runner'],
  ['python-runner', '--help'],
  ['python-runner', '-h'],
  ['python-runner', '--version'],
  ['python-runner', 'foo', '--', 'x'],
];

// Invocations it leaves to commander (help, version, mistakes, unusual spellings).
const LEFT: string[][] = [
  [],
  ['--help'],
  ['-h'],
  ['-V'],
  ['--version'],
  ['help'],
  ['status', 'pip.lock'],
  L,
  [...L, '--'],
  CMD,
  [...L, 'python3', '-c', 'pass'],
  [...L, ...L, ...CMD],
  [...L, '--mode', 'bad', ...CMD],
  [...L, '--mode', ...CMD],
  [...L, '--timeout', 'soon', ...CMD],
  [...L, '--timeout', '-1', ...CMD],
  ['--lockfile', '--mode', 'shared', ...CMD],
  [...L, '--log-level', 'loud', ...CMD],
  [...L, '--log-format', 'xml', ...CMD],
  [...L, '--unknown', 'x', ...CMD],
  [...L, '-x', ...CMD],
  ['run', 'run', ...L, ...CMD],
  ['python-runner', '--', 'x'],
];

describe('CLI: the hand parser of the common invocations', function () {
  for (const argv of ACCEPTED) {
    it(`reads ${JSON.stringify(argv)} as commander does`, async function () {
      const fast = parseCommon(argv);
      assert.ok(fast, 'taken by the hand parser');
      assert.deepEqual(fast, await viaCommander(argv));
    });
  }

  for (const argv of LEFT) {
    it(`leaves ${JSON.stringify(argv)} to commander`, function () {
      assert.equal(parseCommon(argv), undefined);
    });
  }
});
