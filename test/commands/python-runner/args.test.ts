import * as assert from 'node:assert/strict';
import { parseRunnerArgs, type RunnerArgs } from '../../../src/commands/python-runner/args';

const REQUIRED = [
  '--gn-root',
  '../..',
  '--current-path',
  '../../app',
  '--default-toolchain=//tc:d',
  '--current-toolchain=//tc:d',
  '--lockfile',
  'pip.lock',
];

function parse(...extra: string[]): RunnerArgs {
  const r = parseRunnerArgs([...REQUIRED, ...extra]);
  assert.notEqual(r, 'help');
  return r as RunnerArgs;
}

describe('python-runner arguments', () => {
  it('takes what python_action.gni passes, in both --opt value and --opt=value forms', () => {
    const a = parse(
      '--env=A=1',
      '--env',
      'B=x=y',
      '--capture-output',
      '--module',
      'pip',
      '--touch',
      'gen/x.stamp',
      '--working-directory=..',
      '--',
      'install',
      '-r',
      'req.txt',
    );
    assert.deepEqual(a, {
      gnRoot: '../..',
      currentPath: '../../app',
      defaultToolchain: '//tc:d',
      currentToolchain: '//tc:d',
      lockfile: 'pip.lock',
      module: 'pip',
      env: [
        ['A', '1'],
        ['B', 'x=y'],
      ],
      touch: 'gen/x.stamp',
      captureOutput: true,
      workingDirectory: '..',
      python: undefined,
      timeoutMs: undefined,
      logLevel: undefined,
      label: undefined,
      noticeAfterMs: undefined,
      eventLog: true,
      command: ['--', 'install', '-r', 'req.txt'],
    });
  });

  it('keeps everything after "--" as the command, options included', () => {
    assert.deepEqual(parse('--', 'script.py', '--lockfile', 'x', '--').command, [
      '--',
      'script.py',
      '--lockfile',
      'x',
      '--',
    ]);
    assert.deepEqual(parse('--').command, ['--']);
  });

  it('starts the command at the first argument that is not an option, as argparse does', () => {
    assert.deepEqual(parse('script.py', '--touch', 'x').command, ['script.py', '--touch', 'x']);
    assert.deepEqual(parse('-', 'a').command, ['-', 'a']);
    assert.deepEqual(parse().command, []);
  });

  it('lets the last of a repeated option win, except --env', () => {
    const a = parse('--module', 'a', '--module=b', '--env', 'X=1', '--env', 'X=2');
    assert.equal(a.module, 'b');
    assert.deepEqual(a.env, [
      ['X', '1'],
      ['X', '2'],
    ]);
  });

  it('accepts unambiguous prefixes of long options, as argparse does', () => {
    const a = parse('--mod', 'pip', '--capture', '--work=sub', '--py=/usr/bin/python3.11');
    assert.equal(a.module, 'pip');
    assert.equal(a.captureOutput, true);
    assert.equal(a.workingDirectory, 'sub');
    assert.equal(a.python, '/usr/bin/python3.11');
    assert.throws(
      () => parse('--current', 'x'),
      /^UsageError: ambiguous option: --current could match --current-path, --current-toolchain$/,
    );
  });

  it('takes negative numbers and values with spaces as values, and refuses an option where a value should be', () => {
    assert.equal(parse('--touch', '-1').touch, '-1');
    assert.deepEqual(parse('--env', '-X a=b').env, [['-X a', 'b']]);
    assert.throws(() => parse('--touch', '--capture-output'), /^UsageError: argument --touch: expected one argument$/);
    assert.throws(() => parse('--touch', '--'), /expected one argument/);
    assert.throws(() => parse('--touch'), /expected one argument/);
  });

  it('reports every missing required option at once', () => {
    assert.throws(
      () => parseRunnerArgs(['--gn-root', '..', '--', 'x.py']),
      /^UsageError: the following arguments are required: --current-path, --default-toolchain, --current-toolchain, --lockfile$/,
    );
  });

  it('refuses unknown options, a value on a flag, and --env without NAME=', () => {
    assert.throws(() => parse('--frobnicate', '--', 'x'), /^UsageError: unrecognized arguments: --frobnicate$/);
    assert.throws(() => parse('-q', '--', 'x'), /unrecognized arguments: -q/);
    assert.throws(
      () => parse('--capture-output=yes'),
      /^UsageError: argument --capture-output: ignored explicit argument 'yes'$/,
    );
    assert.throws(() => parse('--env', 'NOVALUE'), /^UsageError: argument --env: expected NAME=VALUE, got 'NOVALUE'$/);
    assert.throws(() => parse('--env', '=x'), /expected NAME=VALUE/);
  });

  it('reads --timeout as a duration and --log-level from the log levels', () => {
    assert.equal(parse('--timeout', '1.5').timeoutMs, 1500);
    assert.equal(parse('--timeout=250ms').timeoutMs, 250);
    assert.equal(parse('--log-level', 'debug').logLevel, 'debug');
    assert.throws(() => parse('--timeout', 'soon'), /argument --timeout: 'soon' is not a duration/);
    assert.throws(() => parse('--log-level', 'loud'), /argument --log-level: invalid choice 'loud'/);
  });

  it('reads --log-level without regard to case, and quotes a bad one as it was typed', () => {
    assert.equal(parse('--log-level', 'DEBUG').logLevel, 'debug');
    assert.throws(
      () => parse('--log-level', 'LOUD'),
      /^UsageError: argument --log-level: invalid choice 'LOUD' \(choose from trace, debug, info, warn, error, silent\)$/,
    );
  });

  it('names every unknown option, with "did you mean" where one is close, before the missing required ones', () => {
    assert.throws(
      () => parse('--captur-output', '--', 'x'),
      /^UsageError: unrecognized arguments: --captur-output \(did you mean '--capture-output'\?\)$/,
    );
    assert.throws(
      () => parse('--captur-output', '--tuch=x', '-q', '--', 'x'),
      /^UsageError: unrecognized arguments: --captur-output --tuch=x -q \(did you mean '--capture-output' for '--captur-output', '--touch' for '--tuch'\?\)$/,
    );
    assert.throws(
      () => parseRunnerArgs(['--gn-root', '..', '--lokfile', 'pip.lock', '--', 'x.py']),
      /^UsageError: unrecognized arguments: --lokfile \(did you mean '--lockfile'\?\)$/,
    );
  });

  it('answers help for -h and --help wherever they come before the command', () => {
    assert.equal(parseRunnerArgs(['--help']), 'help');
    assert.equal(parseRunnerArgs(['--gn-root', 'x', '-h', '--', 'y']), 'help');
    assert.notEqual(parseRunnerArgs([...REQUIRED, '--', '--help']), 'help');
  });
});
