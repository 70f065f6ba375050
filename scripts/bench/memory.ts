/**
 * Memory of a running and of a waiting action, per process, on the GN path:
 * piplock in process (the launcher's parent and child, and Node), piplock
 * with a fresh interpreter (Node and the action's Python), and Pigweed's
 * python_runner.py (the runner and the action's Python).
 *
 * Running (-j1): one action whose script sleeps, the lock free. Waiting: an
 * exclusive holder holds the lock while WAITERS actions wait for it. For
 * each process, read from /proc while it runs or waits: peak RSS (VmHWM),
 * PSS and USS (Private_Clean + Private_Dirty of smaps_rollup). Linux only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeBuild } from './nodes';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface MemoryFigures {
  /** kB, summed over the processes of the role. */
  peakRss: number;
  pss: number;
  uss: number;
  processes: number;
}

export interface MemoryRow {
  variant: string;
  role: string;
  running: MemoryFigures;
  /** Per waiting action: the sum over all waiters divided by their number. */
  waiting: MemoryFigures;
}

function kB(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function figuresOf(pids: number[]): MemoryFigures {
  const f: MemoryFigures = { peakRss: 0, pss: 0, uss: 0, processes: 0 };
  for (const pid of pids) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      f.peakRss += kB(status, 'VmHWM');
      f.pss += kB(rollup, 'Pss');
      f.uss += kB(rollup, 'Private_Clean') + kB(rollup, 'Private_Dirty');
      f.processes++;
    } catch {
      // gone meanwhile
    }
  }
  return f;
}

function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(' ').map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** The processes of one action started as `top`, by role. */
function roles(top: number): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const add = (role: string, pid: number): void => void m.set(role, [...(m.get(role) ?? []), pid]);
  const walk = (pid: number, depth: number): void => {
    const argv = cmdline(pid);
    const isNode = argv.some((a) => a.endsWith('piplock.js'));
    const isLauncher = argv.some((a) => a.endsWith('piplock_action.py'));
    const isRunner = argv.some((a) => a.endsWith('python_runner.py'));
    if (isNode) add('Node', pid);
    else if (isLauncher && depth === 0) add('launcher', pid);
    else if (isLauncher) add("launcher's child (the action)", pid);
    else if (isRunner) add('python_runner.py', pid);
    else add("the action's Python", pid);
    for (const c of children(pid)) walk(c, depth + 1);
  };
  walk(top, 0);
  return m;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function memory(opts: {
  python: string;
  reference: string;
  node: NodeBuild;
  waiters: number;
}): Promise<MemoryRow[]> {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-bench-mem-'));
  const out = path.join(src, 'out');
  fs.mkdirSync(out);
  fs.writeFileSync(
    path.join(out, 'wait.py'),
    "import os, time\nwhile not os.path.exists('stop'):\n    time.sleep(0.02)\n",
  );
  const runnerArgs = ['--gn-root', '..', '--current-path', '..', '--default-toolchain', '//t:t'];
  runnerArgs.push('--current-toolchain', '//t:t', '--lockfile', 'pip.lock', '--capture-output', '--', 'wait.py');
  const launcher = path.join(ROOT, 'gn', 'piplock_action.py');
  const env: NodeJS.ProcessEnv = { ...process.env, PIPLOCK_FLOCK: 'koffi' };
  delete env.PIPLOCK_IN_PROCESS;
  const variants: Array<[string, string[]]> = [
    ["Pigweed's python_runner.py", [opts.python, opts.reference, ...runnerArgs]],
    [
      `piplock in process, Node ${opts.node.version}`,
      [opts.python, launcher, `--node=${opts.node.bin}`, ...runnerArgs],
    ],
    [
      `piplock, fresh interpreter, Node ${opts.node.version}`,
      [opts.python, launcher, `--node=${opts.node.bin}`, '--in-process=false', ...runnerArgs],
    ],
  ];
  const rows: MemoryRow[] = [];
  const start = (argv: string[]): ChildProcess =>
    spawn(argv[0]!, argv.slice(1), { cwd: out, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const ended = (p: ChildProcess): Promise<void> =>
    p.exitCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', () => r()));
  try {
    for (const [variant, argv] of variants) {
      // Running, the lock free: measured once the action's script runs.
      fs.rmSync(path.join(out, 'stop'), { force: true });
      const one = start(argv);
      await sleep(3000);
      const running = new Map([...roles(one.pid!)].map(([role, pids]) => [role, figuresOf(pids)]));
      fs.writeFileSync(path.join(out, 'stop'), '');
      await ended(one);
      // Waiting: an exclusive holder (holder.js, the library) keeps them all waiting.
      fs.rmSync(path.join(out, 'stop'), { force: true });
      const holder = spawn(
        process.execPath,
        [path.join(__dirname, 'holder.js'), path.join(out, 'pip.lock'), '600000'],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await new Promise((r) => holder.stdout!.once('data', r));
      const waiting = Array.from({ length: opts.waiters }, () => start(argv));
      await sleep(8000);
      const byRole = new Map<string, number[]>();
      for (const w of waiting)
        for (const [role, pids] of roles(w.pid!)) byRole.set(role, [...(byRole.get(role) ?? []), ...pids]);
      const allRoles = new Set([...running.keys(), ...byRole.keys()]);
      for (const role of allRoles) {
        const w = figuresOf(byRole.get(role) ?? []);
        const n = opts.waiters;
        rows.push({
          variant,
          role,
          running: running.get(role) ?? figuresOf([]),
          waiting: { peakRss: w.peakRss / n, pss: w.pss / n, uss: w.uss / n, processes: w.processes / n },
        });
      }
      holder.kill();
      fs.writeFileSync(path.join(out, 'stop'), '');
      await Promise.all(waiting.map(ended));
    }
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
  return rows;
}
