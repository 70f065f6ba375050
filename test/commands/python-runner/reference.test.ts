/**
 * Side by side with Pigweed's own python_runner.py at 6c03473f8, the commit
 * that introduced the pip lock: same arguments, same build directory; the
 * exit status, stdout, stamp and error message must agree, except where
 * docs/pigweed.md says piplock differs on purpose.
 *
 * The script is not part of piplock. It is found at PIPLOCK_REFERENCE_RUNNER,
 * else at ../shared/reference/python_runner.py beside the checkout (where the
 * project's workspace keeps Pigweed's files), e.g. made with
 *   git --git-dir=PIGWEED/.git show 6c03473f8:pw_build/py/pw_build/python_runner.py
 * Without it every test here is pending.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, havePython, IS_WINDOWS, NODE, PYTHON, ROOT } from '../../support/paths';
import { makeNinjaTree, pythonText, type NinjaTree } from './fixtures';

const REFERENCE =
  process.env.PIPLOCK_REFERENCE_RUNNER ?? path.resolve(ROOT, '..', 'shared', 'reference', 'python_runner.py');

interface Outcome {
  status: number | null;
  stdout: string;
  /** The error message without the program's prefix ("python_runner.py: " or "piplock: error: argument '...': "). */
  message: string;
  stamp: boolean;
  ran: boolean;
}

describe('python-runner against python_runner.py at 6c03473f8', function () {
  this.timeout(30_000);
  let tree: NinjaTree;
  let common: string[];

  before(function () {
    const reason = IS_WINDOWS
      ? 'the reference locks with fcntl, POSIX only'
      : !fs.existsSync(REFERENCE)
        ? `${REFERENCE} not found (see test/commands/python-runner/reference.test.ts)`
        : !havePython()
          ? `no '${PYTHON}'`
          : undefined;
    if (reason) {
      console.log(`      pending: ${reason}`);
      this.skip();
    }
  });
  beforeEach(() => {
    tree = makeNinjaTree();
    common = [
      '--gn-root',
      '..',
      '--current-path',
      '../app',
      '--default-toolchain=//build:default',
      '--current-toolchain=//build:default',
      '--lockfile',
      'pip.lock',
    ];
    const w = (name: string, lines: string[]) =>
      fs.writeFileSync(path.join(tree.root, 'app', name), lines.join('\n') + '\n');
    w('act.py', [
      'import json, os, pathlib, sys',
      'pathlib.Path("ran").write_text("yes")',
      'print(json.dumps({"cwd": os.path.relpath(os.getcwd()), "argv": sys.argv[1:], "v": os.environ.get("PIPLOCK_V")}))',
      'sys.stdout.flush()',
      'print("err line", file=sys.stderr); sys.stderr.flush()',
      'print("last"); sys.stdout.flush()',
      'sys.exit(int(os.environ.get("PIPLOCK_EXIT", "0")))',
    ]);
    w('mod_x.py', ['import sys', 'print("mod", sys.argv[1:])']);
    fs.writeFileSync(path.join(tree.build, 'ran'), '');
    fs.rmSync(path.join(tree.build, 'ran'));
  });
  afterEach(() => tree.cleanup());

  function outcome(cmd: string, argv: string[], env: NodeJS.ProcessEnv, prefix: RegExp): Outcome {
    for (const f of ['ran', 'gen/s/x.stamp']) fs.rmSync(path.join(tree.build, f), { force: true });
    const spawned = spawnSync(cmd, argv, { cwd: tree.build, env: { ...process.env, ...env }, encoding: 'utf8' });
    const r = { ...spawned, stdout: pythonText(spawned.stdout), stderr: pythonText(spawned.stderr) };
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    const message = r.stderr.includes('Traceback')
      ? `Traceback: ${lines[lines.length - 1]}`
      : lines.map((l) => l.replace(prefix, '')).join('\n');
    return {
      status: r.status,
      stdout: r.stdout,
      message: r.status === 0 ? '' : message,
      stamp: fs.existsSync(path.join(tree.build, 'gen/s/x.stamp')),
      ran: fs.existsSync(path.join(tree.build, 'ran')),
    };
  }

  function both(args: string[], env: NodeJS.ProcessEnv = {}): { ref: Outcome; ours: Outcome } {
    const full = [...common, ...args];
    const ref = outcome(PYTHON, [REFERENCE, ...full], env, /^.*python_runner\.py: /);
    const ours = outcome(
      NODE,
      [CLI, 'python-runner', '--python', PYTHON, ...full],
      env,
      /^piplock: error: (argument '.*?': )?/,
    );
    return { ref, ours };
  }

  const SAME: [string, string[], NodeJS.ProcessEnv?][] = [
    ['a script, its arguments, its stamp', ['--touch', 'gen/s/x.stamp', '--', '../app/act.py', 'a b', '', '-x']],
    [
      'a failing script with --capture-output',
      ['--capture-output', '--touch', 'gen/s/x.stamp', '--', '../app/act.py'],
      { PIPLOCK_EXIT: '3' },
    ],
    [
      'a failing script without --capture-output',
      ['--touch', 'gen/s/x.stamp', '--', '../app/act.py'],
      { PIPLOCK_EXIT: '9' },
    ],
    ['a succeeding script with --capture-output', ['--capture-output', '--', '../app/act.py']],
    ['--env and --working-directory', ['--env', 'PIPLOCK_V=1=2', '--working-directory=../app', '--', 'act.py']],
    ['a module', ['--module', 'mod_x', '--env', 'PYTHONPATH=../app', '--', 'q']],
    [
      'TARGET_FILE of a link step, an action and a phony group',
      ['--', '../app/act.py', '<TARGET_FILE(:classic)>', '-o=<TARGET_FILE(//app:gen)>', '<TARGET_FILE(:alias)>'],
    ],
    [
      'TARGET_OBJECTS',
      [
        '--',
        '../app/act.py',
        '<TARGET_OBJECTS(:classic_set)>',
        '<TARGET_OBJECTS(:classic)>',
        '<TARGET_OBJECTS(:empty)>',
      ],
    ],
    [
      'TARGET_FILE_IF_EXISTS, absent',
      ['--', '../app/act.py', '<TARGET_FILE_IF_EXISTS(:classic)>', 'kept', '<TARGET_FILE_IF_EXISTS(:x(//no:tc))>'],
    ],
    [
      'an explicit toolchain and option prefixes',
      ['--capture', '--work=../app', '--', 'act.py', '<TARGET_FILE(:gen(//build:arm))>'],
    ],
    ['the current toolchain', ['--current-toolchain=//build:arm', '--', '../app/act.py', '<TARGET_FILE(:gen)>']],
    ['not generated', ['--touch', 'gen/s/x.stamp', '--', '../app/act.py', '<TARGET_FILE(:x(//no:tc))>']],
    ['no output file', ['--', '../app/act.py', '<TARGET_FILE(:pair)>']],
    ['an unterminated expression', ['--', '../app/act.py', 'x<TARGET_FILE(:gen)']],
    ['TARGET_OBJECTS with other text', ['--', '../app/act.py', '-o<TARGET_OBJECTS(:classic_set)>']],
    ['an ambiguous link step', ['--', '../app/act.py', '<TARGET_FILE(:ambiguous)>']],
    ['no "--"', ['--touch', 'gen/s/x.stamp', '../app/act.py']],
    ['a -c command', ['--touch', 'gen/s/x.stamp', '--', '-c', 'print(1)']],
    ['nothing after "--" (the interpreter reads an empty stdin)', ['--touch', 'gen/s/x.stamp', '--']],
  ];

  for (const [what, args, env] of SAME) {
    it(`agrees on ${what}`, () => {
      const { ref, ours } = both(args, env);
      // The prefix of the "no --" message names the program; the rest must agree.
      if (what === 'no "--"') {
        assert.match(ref.message, /requires a command to run$/);
        assert.match(ours.message, /^python-runner requires a command to run/);
        ref.message = ours.message = '';
      }
      assert.deepEqual(ours, ref);
    });
  }

  it('agrees on TARGET_FILE_IF_EXISTS when the file is there', () => {
    fs.mkdirSync(path.join(tree.build, 'obj/app/bin'), { recursive: true });
    fs.writeFileSync(path.join(tree.build, 'obj/app/bin/classic.elf'), '');
    const { ref, ours } = both(['--', '../app/act.py', '--elf=<TARGET_FILE_IF_EXISTS(:classic)>']);
    assert.deepEqual(ours, ref);
    assert.match(ours.stdout, /"--elf=obj\/app\/bin\/classic.elf"/);
  });

  it('differs on purpose: reads the compile steps of GN since 2022, on which the reference fails', () => {
    const { ref, ours } = both(['--', '../app/act.py', '<TARGET_FILE(:firmware)>']);
    assert.equal(ref.status, 1);
    assert.equal(ref.message, 'Traceback: AssertionError: Multiple artifacts for //app:firmware!');
    assert.equal(ours.status, 0);
    assert.equal(JSON.parse(ours.stdout.split('\n')[0]!).argv[0], 'obj/app/bin/firmware.elf');
  });

  it('differs on purpose: refuses --env without "=" as a usage error (2) where the reference crashes (1)', () => {
    const { ref, ours } = both(['--env', 'NOVALUE', '--', '../app/act.py']);
    assert.equal(ref.status, 1);
    assert.match(ref.message, /^Traceback: ValueError/);
    assert.equal(ours.status, 2);
    assert.equal(ref.ran || ours.ran, false);
  });

  it('differs on purpose: a command killed by signal N gives 128+N, where the reference gives 256-N', () => {
    const { ref, ours } = both(['--', '-c', 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)']);
    assert.equal(ref.status, 256 - 15);
    assert.equal(ours.status, 128 + 15);
  });

  it('agrees that usage errors exit 2', () => {
    const ref = spawnSync(PYTHON, [REFERENCE, '--gn-root', '..', '--', 'x'], { cwd: tree.build, encoding: 'utf8' });
    const ours = spawnSync(NODE, [CLI, 'python-runner', '--gn-root', '..', '--', 'x'], {
      cwd: tree.build,
      encoding: 'utf8',
    });
    assert.equal(ref.status, 2);
    assert.equal(ours.status, 2);
    assert.match(
      ref.stderr,
      /the following arguments are required: --current-path, --default-toolchain, --current-toolchain, --lockfile/,
    );
    assert.match(
      ours.stderr,
      /the following arguments are required: --current-path, --default-toolchain, --current-toolchain, --lockfile/,
    );
  });
});
