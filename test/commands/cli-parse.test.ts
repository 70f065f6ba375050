import * as assert from 'node:assert/strict';
import { parseOptions, unknownOptions } from '../../src/base/options';
import type { OptionSpec } from '../../src/base/options';
import { build, commandLine, parseCommon } from '../../src/cli';
import type { RunOptions } from '../../src/commands/run';

type Parsed = { run: [string[], RunOptions] } | { pythonRunner: string[] } | { error: number; message: string };

/** What commander makes of argv, as main() gives it: the run command and its options, python-runner's arguments, or its status and error. */
async function viaCommander(argv: string[]): Promise<Parsed> {
  let got: Parsed | undefined;
  let message = '';
  const program = build(
    async (command, opts) => void (got = { run: [command, { ...opts }] }),
    async (args) => void (got = { pythonRunner: args }),
  );
  const quiet = { writeOut: () => {}, writeErr: () => {}, outputError: (s: string) => void (message += s) };
  program.configureOutput(quiet);
  for (const c of program.commands) c.configureOutput(quiet);
  try {
    await program.parseAsync(commandLine(argv), { from: 'user' });
  } catch (err) {
    // Every error of commander's is a usage error, status 2, as main() exits with it.
    const status = (err as { exitCode: number }).exitCode === 0 ? 0 : 2;
    return { error: status, message: message.trim().replace(/^error: /, '') };
  }
  return got!;
}

const L = ['--lockfile', 'pip.lock'];
const CMD = ['--', 'python3', '-c', 'pass'];
const COMMAND = CMD.slice(1);

// Invocations the hand parser takes: it must read them exactly as commander does.
const ACCEPTED: string[][] = [
  [...L, ...CMD],
  ['run', ...L, ...CMD],
  ['--lockfile=pip.lock', ...CMD],
  [...L, '--mode', 'exclusive', ...CMD],
  [...L, '--mode=shared', '--timeout', '90', '--notice-after', '500ms', ...CMD],
  ['--timeout=1.5m', ...L, '--log-level', 'debug', '--log-format', 'json', ...CMD],
  [...L, '--log-level', 'DEBUG', ...CMD],
  [...L, '--label', '//:pip_install', '--verbose', ...CMD],
  [...L, '-x', ...CMD],
  [...L, '-s', '-n', ...CMD],
  ['-x', '-w', '5', '-E', '42', ...L, ...CMD],
  [...L, '--conflict-exit-code=7', '--wait=0.5', ...CMD],
  [...L, '--', 'cmd', '--lockfile', 'x', '--', 'y'],
  [...L, '--', 'tool', '--help'],
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
  ['--lockfile=', ...CMD],
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
  [...L, '--lock', 'x', ...CMD],
  [...L, '--verbose=yes', ...CMD],
  [...L, '-xn', ...CMD],
  [...L, '-w5', ...CMD],
  [...L, '-x', '-x', ...CMD],
  [...L, '-s', '-x', ...CMD],
  [...L, '-n', '--timeout', '1', ...CMD],
  [...L, '-E', '300', ...CMD],
  [...L, '-c', 'true'],
  [...L, '-h', ...CMD],
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

async function runs(argv: string[], options: Partial<RunOptions>, command: string[] = COMMAND): Promise<void> {
  assert.deepEqual(await viaCommander(argv), {
    run: [command, { lockfile: 'pip.lock', mode: 'auto', logFormat: 'text', conflictExitCode: 1, ...options }],
  });
}

async function refuses(argv: string[], message: RegExp | string): Promise<void> {
  const r = await viaCommander(argv);
  assert.ok('error' in r, `refused: ${JSON.stringify(argv)} gave ${JSON.stringify(r)}`);
  assert.equal(r.error, 2);
  if (typeof message === 'string') assert.equal(r.message, message);
  else assert.match(r.message, message);
}

describe('CLI: run as commander reads it, from the table of src/commands/run-args.ts', function () {
  it('takes --name value and --name=value, in any order, and keeps everything after -- as the command', async function () {
    await runs([...L, ...CMD], {});
    await runs([...L, '--', 'cmd', '--lockfile', 'x', '--', 'y'], {}, ['cmd', '--lockfile', 'x', '--', 'y']);
  });

  it('starts the command at the first word that is not an option (no -- needed)', async function () {
    await runs([...L, 'python3', '-c', 'pass'], {});
    await runs([...L, 'echo', '--mode', 'x'], {}, ['echo', '--mode', 'x']);
  });

  it("takes flock(1)'s short options, bundled (-xn) or with the value attached (-w5, -E42, -cLINE)", async function () {
    await runs([...L, '-xn', ...CMD], { mode: 'exclusive', timeout: 0 });
    await runs([...L, '-w5', '-E42', ...CMD], { timeout: 5000, conflictExitCode: 42 });
    await runs([...L, '-sE', '3', ...CMD], { mode: 'shared', conflictExitCode: 3 });
    await runs([...L, '-cpip install x'], { shellCommand: 'pip install x' }, []);
    await runs([...L, '--command', 'true', '--verbose'], { shellCommand: 'true', verbose: true }, []);
  });

  it('lets the last of a repeated option win', async function () {
    await runs([...L, '--mode', 'shared', '--mode', 'exclusive', '--lockfile=pip.lock', ...CMD], { mode: 'exclusive' });
  });

  it('reads log levels without regard to case', async function () {
    await runs([...L, '--log-level=Trace', ...CMD], { logLevel: 'trace' });
  });

  it('answers help for -h or --help among the options, and not after --', async function () {
    assert.deepEqual(await viaCommander(['--help']), { error: 0, message: '' });
    assert.deepEqual(await viaCommander(['run', ...L, '-h', ...CMD]), { error: 0, message: '' });
    assert.deepEqual(await viaCommander(['run', '--mdoe', 'x', '--help', '--', 'y']), { error: 0, message: '' });
    // Without a '--', the command starts at 'x': its --help is its own.
    await refuses(['run', '--mdoe', 'x', '--help'], "unknown option '--mdoe' (did you mean '--mode'?)");
    await runs([...L, '--', 'tool', '--help'], {}, ['tool', '--help']);
  });

  it('names every unknown option at once, with "did you mean" where one is close', async function () {
    await refuses([...L, '--frobnicate', ...CMD], "unknown option '--frobnicate'");
    await refuses([...L, '--mdoe', 'y', ...CMD], "unknown option '--mdoe' (did you mean '--mode'?)");
    await refuses(
      [...L, '--mdoe', 'y', '--timout=5', '-q', ...CMD],
      "unknown options '--mdoe', '--timout' and '-q' (did you mean '--mode' for '--mdoe', '--timeout' for '--timout'?)",
    );
    await refuses([...L, '-xq', ...CMD], "unknown option '-q'");
    await refuses(['--lock', 'pip.lock', ...CMD], "unknown option '--lock' (did you mean '--lockfile'?)");
    await refuses(['status', '--jsn', 'x', '--wach'], /^unknown options '--jsn' and '--wach' \(did you mean/);
  });

  it('names the unknown options before a missing --lockfile, which one of them may be meant to be', async function () {
    await refuses(
      ['--lokfile', 'x', '--mdoe', 'y', ...CMD],
      "unknown options '--lokfile' and '--mdoe' (did you mean '--lockfile' for '--lokfile', '--mode' for '--mdoe'?)",
    );
    await refuses(CMD, "required option '--lockfile <PATH>' not specified");
  });

  it('refuses a missing value and bad values, naming the option', async function () {
    await refuses([...L, '--timeout'], "option '--timeout <T>' argument missing");
    await refuses(
      [...L, '--mode', 'sometimes', ...CMD],
      "option '--mode <MODE>' argument 'sometimes' is invalid. invalid choice 'sometimes' (choose from auto, shared, exclusive)",
    );
    await refuses([...L, '--log-level', 'LOUD', ...CMD], /^option '--log-level <LEVEL>' argument 'LOUD' is invalid/);
    await refuses([...L, '--timeout', '-1', ...CMD], /argument '-1' is invalid\. '-1' is not a duration/);
    await refuses([...L, '-w', 'soon', ...CMD], /^option '-w, --wait <T>' argument 'soon' is invalid/);
    await refuses([...L, '-E', '300', ...CMD], /'300' is not an exit status \(0 to 255\)$/);
  });

  it('refuses a --lockfile whose value is missing or empty, without taking an option for the path', async function () {
    await refuses(['--lockfile', ...CMD], /argument '--' is invalid\. a path is missing$/);
    await refuses(['--lockfile', '--mode', 'shared', ...CMD], /argument '--mode' is invalid\. a path is missing$/);
    await refuses(
      ['--lockfile=-x', ...CMD],
      /a path is missing \(for a file whose name starts with '-', write \.\/-x\)$/,
    );
    await refuses(['--lockfile=', ...CMD], /the path is an empty string$/);
  });

  it('refuses two modes, two timeouts, -c with a command, and no command at all', async function () {
    await refuses([...L, '-s', '-x', ...CMD], '-s and -x ask for two modes: give one');
    await refuses([...L, '-x', '--mode', 'shared', ...CMD], '-x and --mode ask for two modes: give one');
    await refuses([...L, '-n', '-w', '1', ...CMD], '-n and -w both set the timeout: give one');
    await refuses([...L, '-w', '1', '--timeout', '1', ...CMD], '-w and --timeout both set the timeout: give one');
    await refuses([...L, '-c', 'true', ...CMD], "give the command either with -c or after '--', not both");
    await refuses(L, "no command given: put the command to run after '--'");
    await refuses([...L, '--'], "no command given: put the command to run after '--'");
  });
});

describe('CLI: the option tables (src/base/options.ts)', function () {
  const OPTIONS: OptionSpec[] = [
    { key: 'json', long: '--json', help: '' },
    { key: 'since', long: '--since', value: 'TIME', help: '' },
    { key: 'output', short: '-o', long: '--output', value: 'FILE', help: '' },
    { key: 'env', long: '--env', value: 'X', repeatable: true, help: '' },
    { key: 'help', short: '-h', long: '--help', help: '' },
  ];

  it('argparse: keeps every value of a repeatable option, in order, and takes prefixes', function () {
    assert.deepEqual(parseOptions(OPTIONS, ['--env', '1', '--env=2', '--js']).values, { env: ['1', '2'], json: true });
  });

  it('argparse: a value may not look like an option, and -- stays in the command', function () {
    assert.equal(parseOptions(OPTIONS, ['--since', '--json']).error, 'argument --since: expected one argument');
    assert.deepEqual(parseOptions(OPTIONS, ['--since', '-1', '--', 'x']).rest, ['--', 'x']);
    assert.equal(parseOptions(OPTIONS, ['--jsno']).error, "unrecognized arguments: --jsno (did you mean '--json'?)");
  });

  it("commander's leftovers: the unknown options among them, each named, the values of known ones skipped", function () {
    assert.equal(
      unknownOptions(['--sinec', 'x', '--', 'y'], OPTIONS, 'command'),
      "unknown option '--sinec' (did you mean '--since'?)",
    );
    assert.equal(
      unknownOptions(['--x', '--since', '--y', '-oq', '-qj', 'a'], OPTIONS, 'operands'),
      "unknown options '--x', '-q' and '-j'",
    );
    // The command starts at the first word that is no option, unless a '--' follows.
    assert.equal(unknownOptions(['--x', 'cmd', '--y'], OPTIONS, 'command'), "unknown option '--x'");
    assert.equal(unknownOptions(['--x', 'v', '--y', '--'], OPTIONS, 'command'), "unknown options '--x' and '--y'");
    assert.equal(unknownOptions(['--x', '--', '--y'], OPTIONS, 'command'), "unknown option '--x'");
    // A help option is left for commander to answer.
    assert.equal(unknownOptions(['--x', '--help'], OPTIONS, 'command'), undefined);
    assert.equal(unknownOptions([], OPTIONS, 'command'), undefined);
  });

  it('suggests only a close name: at most 2 edits and fewer than half the letters, or the one name a word begins', function () {
    const hint = (w: string): string | undefined => unknownOptions([w], OPTIONS, 'operands');
    assert.equal(hint('--sinec'), "unknown option '--sinec' (did you mean '--since'?)");
    assert.equal(hint('--xy'), "unknown option '--xy'");
    assert.equal(hint('--outptu'), "unknown option '--outptu' (did you mean '--output'?)");
    assert.equal(hint('--frobnicate'), "unknown option '--frobnicate'");
    assert.equal(hint('--outp'), "unknown option '--outp' (did you mean '--output'?)");
  });
});
