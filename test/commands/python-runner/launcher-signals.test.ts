/**
 * One Ctrl-C, once, through the GN launcher (gn/piplock_action.py): ninja interrupts an action by signalling its
 * process group, which the launcher leads and the action is in, so the action gets the signal from the kernel; the
 * launcher (or Node, where Node starts the interpreter) must not pass on a second one (issue 18, item 12). A signal
 * to the launcher alone still reaches the action.
 *
 * POSIX only: on Windows a console's Ctrl-C reaches every process by itself, and nothing is passed on.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { havePython, IS_WINDOWS, NODE, PYTHON, ROOT } from '../../support/paths';
import { eventually, exited, tmpDir } from '../../support/procs';

const LAUNCHER = path.join(ROOT, 'gn', 'piplock_action.py');
const RUNNER_ARGS = [
  '--gn-root',
  '..',
  '--current-path',
  '..',
  '--default-toolchain=//t:t',
  '--current-toolchain=//t:t',
  '--lockfile',
  'pip.lock',
];

/** The action: one line per signal it gets, until told to stop. */
const ACTION = `import os, signal, sys, time
def count(sig, _):
    with open('signals', 'a') as f:
        f.write('%d\\n' % sig)
for name in ('SIGINT', 'SIGTERM', 'SIGHUP'):
    signal.signal(getattr(signal, name), count)
open('ready', 'w').close()
while not os.path.exists('stop'):
    time.sleep(0.02)
sys.exit(42)
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("signals through the GN launcher: the action's process group signalled once, the action signalled once", function () {
  before(function () {
    if (IS_WINDOWS || !havePython()) {
      console.log(`      pending: ${IS_WINDOWS ? 'no signals to pass on on Windows' : `no '${PYTHON}'`}`);
      this.skip();
    }
  });

  for (const inProcess of [true, false]) {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      it(`${sig}, ${inProcess ? 'the action in the launcher' : 'the action in an interpreter that Node starts'}`, async function () {
        const dir = tmpDir();
        const out = path.join(dir, 'out');
        fs.mkdirSync(out);
        fs.writeFileSync(path.join(out, 'action.py'), ACTION);
        fs.writeFileSync(path.join(out, 'signals'), '');
        // Detached: the launcher leads a process group of its own, as ninja starts each action.
        const launcher = spawn(
          PYTHON,
          [LAUNCHER, `--node=${NODE}`, `--in-process=${inProcess}`, ...RUNNER_ARGS, '--', 'action.py'],
          { cwd: out, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
        );
        let stderr = '';
        launcher.stderr!.on('data', (d) => (stderr += d));
        const number = String(require('node:os').constants.signals[sig]);
        const count = (): number =>
          fs
            .readFileSync(path.join(out, 'signals'), 'utf8')
            .split('\n')
            .filter((l) => l === number).length;
        try {
          assert.ok(
            await eventually(() => fs.existsSync(path.join(out, 'ready')), 30_000),
            `the action runs: ${stderr}`,
          );
          process.kill(-launcher.pid!, sig);
          assert.ok(await eventually(() => count() >= 1, 10_000), 'the action got the signal');
          await sleep(500);
          assert.equal(count(), 1, 'once, from the kernel; not again from the launcher or Node');
          process.kill(launcher.pid!, sig);
          assert.ok(await eventually(() => count() >= 2, 10_000), 'a signal to the launcher alone reaches the action');
          await sleep(500);
          assert.equal(count(), 2, 'once');
        } finally {
          fs.writeFileSync(path.join(out, 'stop'), '');
        }
        const { code } = await exited(launcher);
        assert.equal(code, 42, stderr);
      });
    }
  }
});
