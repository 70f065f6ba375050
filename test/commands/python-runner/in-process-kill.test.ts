/**
 * Safety of the in-process path (gn/piplock_action.py on Linux and macOS),
 * with real processes, SIGKILL and a real exclusive request:
 *
 * - Exclusion holds whatever is killed while the action runs: Node, the
 *   launcher, or both. The lock belongs to the open file that the launcher
 *   opened and that its child, the action, keeps open; a waiting exclusive
 *   request gets in only once the action has ended. Sabotage `noshare`: the
 *   child closes that descriptor once it has the plan (a patched copy of the
 *   launcher), and the request gets in while the action runs.
 * - The action never runs unlocked: Node killed while it waits for the lock
 *   leaves the child without a plan, and it runs nothing. Sabotage
 *   `noplanwait`: the child runs its command at once, without the plan.
 *
 * POSIX only: Windows has no in-process path.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { entryFileName, isEntryFileName } from '../../../src/runner/registry';
import { CLI, havePython, IS_WINDOWS, NODE, PYTHON, ROOT } from '../../support/paths';
import { sabotaged } from '../../support/sabotage';

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

/** The action: says it started, runs until told to stop, says it ended. */
const ACTION = `import os, sys, time
open('action.pid', 'w').write(str(os.getpid()))
with open('order.log', 'a') as f:
    f.write('action start\\n')
while not os.path.exists('stop'):
    time.sleep(0.02)
with open('order.log', 'a') as f:
    f.write('action end\\n')
`;

/** A copy of the launcher, beside a link to dist/, with one mechanism taken out (the test's sabotage). */
function launcherFor(dir: string): string {
  const copy = sabotaged('noshare')
    ? [
        '    argv, env, cwd, captured, debug = plan\n',
        '    argv, env, cwd, captured, debug = plan\n    os.close(lock)\n',
      ]
    : sabotaged('noplanwait')
      ? [
          '        plan = read_plan(plan_fd)\n',
          "        plan = (sys.argv[sys.argv.index('--') + 1:], dict(os.environ), os.getcwd(), False, False)\n",
        ]
      : undefined;
  if (copy === undefined) return LAUNCHER;
  const text = fs.readFileSync(LAUNCHER, 'utf8');
  assert.ok(text.includes(copy[0]!), `the launcher no longer has the line the sabotage replaces: ${copy[0]}`);
  const pkg = path.join(dir, 'pkg');
  fs.mkdirSync(path.join(pkg, 'gn'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), 'dir');
  const file = path.join(pkg, 'gn', 'piplock_action.py');
  fs.writeFileSync(file, text.replace(copy[0]!, copy[1]!));
  return file;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(fn: () => boolean, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (!fn()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exited(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve({ code: p.exitCode, signal: p.signalCode });
  return new Promise((resolve) => p.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('in-process actions: exclusion whatever is killed (gn/piplock_action.py)', function () {
  // Bounds, not measurements: the machine may be busy.
  this.timeout(90_000);
  let dir: string;
  let out: string;
  let launcher: string;
  const started: ChildProcess[] = [];

  before(function () {
    if (IS_WINDOWS || !havePython()) {
      const reason = IS_WINDOWS ? 'Windows has no in-process path (no fork)' : `no '${PYTHON}'`;
      console.log(`      pending: ${reason}`);
      this.skip();
    }
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-inproc-kill-'));
    out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'action.py'), ACTION);
    launcher = launcherFor(dir);
  });
  afterEach(() => {
    fs.writeFileSync(path.join(out, 'stop'), '');
    for (const p of started.splice(0)) p.kill('SIGKILL');
    const pidFile = path.join(out, 'action.pid');
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function start(argv: string[]): ChildProcess {
    const p = spawn(argv[0]!, argv.slice(1), { cwd: out, stdio: 'ignore' });
    started.push(p);
    return p;
  }

  /** The runner's PID, from its registry entry (pip.lock.d/<pid>@<ns>.json) in the given state. */
  function runnerPid(state: 'holding' | 'waiting'): number | undefined {
    const side = path.join(out, 'pip.lock.d');
    for (const name of fs.existsSync(side) ? fs.readdirSync(side) : []) {
      if (!isEntryFileName(name)) continue;
      try {
        const entry = JSON.parse(fs.readFileSync(path.join(side, name), 'utf8')) as { pid: number; state: string };
        if (entry.state === state && (entry as { command?: string[] }).command?.includes('action.py')) return entry.pid;
      } catch {
        // being written
      }
    }
    return undefined;
  }

  const log = (): string[] => fs.readFileSync(path.join(out, 'order.log'), 'utf8').split('\n').filter(Boolean);

  for (const victim of ['Node', 'the launcher', 'both'] as const) {
    const who = victim === 'both' ? 'Node and the launcher are' : `${victim} is`;
    it(`a waiting exclusive request never overlaps the action when ${who} SIGKILLed`, async () => {
      const action = start([PYTHON, launcher, `--node=${NODE}`, ...RUNNER_ARGS, '--', 'action.py']);
      assert.ok(await until(() => fs.existsSync(path.join(out, 'action.pid')), 30_000), 'the action started');
      let node: number | undefined;
      assert.ok(await until(() => (node = runnerPid('holding')) !== undefined, 30_000), 'Node registered as holding');
      assert.notEqual(node, action.pid, 'Node is a process of its own');
      if (victim !== 'the launcher') process.kill(node!, 'SIGKILL');
      if (victim !== 'Node') action.kill('SIGKILL');
      const actionPid = Number(fs.readFileSync(path.join(out, 'action.pid'), 'utf8'));
      assert.ok(alive(actionPid), 'the action runs on');

      const writer = start([
        NODE,
        CLI,
        '--mode',
        'exclusive',
        '--lockfile',
        'pip.lock',
        '--',
        PYTHON,
        '-c',
        "open('order.log', 'a').write('writer\\n')",
      ]);
      await sleep(1500);
      assert.deepEqual(log(), ['action start'], 'the exclusive request waits while the action runs');
      fs.writeFileSync(path.join(out, 'stop'), '');
      const w = await exited(writer);
      assert.equal(w.code, 0, 'the writer got the lock in the end');
      assert.deepEqual(log(), ['action start', 'action end', 'writer']);
    });
  }

  it('the action never runs when Node is SIGKILLed while it waits for the lock', async () => {
    fs.writeFileSync(
      path.join(out, 'holder.py'),
      "import os, time\nwhile not os.path.exists('release'):\n    time.sleep(0.02)\n",
    );
    const holder = start([NODE, CLI, '--mode', 'exclusive', '--lockfile', 'pip.lock', '--', PYTHON, 'holder.py']);
    const side = path.join(out, 'pip.lock.d');
    assert.ok(
      await until(
        () => fs.existsSync(side) && fs.readdirSync(side).some((n) => n === entryFileName(holder.pid!)),
        30_000,
      ),
      'the holder holds',
    );
    const action = start([PYTHON, launcher, `--node=${NODE}`, ...RUNNER_ARGS, '--', 'action.py']);
    let node: number | undefined;
    assert.ok(await until(() => (node = runnerPid('waiting')) !== undefined, 30_000), 'Node waits for the lock');
    process.kill(node!, 'SIGKILL');
    const pidFile = path.join(out, 'action.pid');
    await until(() => action.exitCode !== null || action.signalCode !== null || fs.existsSync(pidFile), 20_000);
    fs.writeFileSync(path.join(out, 'release'), '');
    await exited(holder);
    await sleep(500);
    assert.ok(!fs.existsSync(pidFile), 'the action never started');
    const a = await exited(action);
    assert.equal(a.signal, 'SIGKILL', 'the launcher ends as Node did');
  });
});
