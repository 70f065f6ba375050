/**
 * Per-action cost against Pigweed's python_runner.py (the reference runner),
 * with the lock free, on two paths:
 *
 *   CLI:  node dist/bin/piplock.js --lockfile pip.lock -- PY -c pass
 *         vs  PY python_runner.py RUNNER-ARGS -- -c pass
 *   GN:   PY gn/piplock_action.py --node=NODE RUNNER-ARGS --capture-output -- noop.py
 *         vs  PY python_runner.py RUNNER-ARGS --capture-output -- noop.py
 *
 * RUNNER-ARGS = --gn-root .. --current-path .. --default-toolchain //t:t
 * --current-toolchain //t:t --lockfile pip.lock, run in a build directory
 * below a temporary source root, as GN would. Every Node build found runs
 * both paths with fs-ext and with koffi (PIPLOCK_FLOCK=koffi); all commands
 * are alternated in one loop, the order rotated every round, so that noise
 * from other processes falls on all of them alike.
 *
 * The reference runner imports only Python's standard library (argparse,
 * logging, pathlib, subprocess, fcntl, ...), so it runs as it is.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fsExtRoot, nodeBuilds, ROOT } from './nodes';
import { becomeSubreaper, reapOrphans } from './reaper';
import { quantile } from '../../src/base/stats';

export interface Stats {
  median: number;
  p90: number;
}

export interface CostRow {
  name: string;
  path: 'cli' | 'gn' | 'gn-fresh' | 'other';
  node?: string;
  /** fs-ext or koffi, with " (baseline)" on the baseline's rows. */
  flock?: string;
  ms: number[];
  /** CPU time (user + system) of the command and everything it waited for, summed over the runs; NaN off Linux. */
  cpuMs: number;
}

interface Cmd extends CostRow {
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * CPU time of this process's waited-for children (cutime + cstime of
 * /proc/self/stat), in ms. Load from other processes stretches wall time far
 * more than CPU time, so this is the steadier figure on a busy machine;
 * its unit is the clock tick (10 ms), fine for sums over many runs.
 */
function childCpuMs(): number {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of proc(5), counted from 3 after the command name.
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

export interface CostResult {
  runs: number;
  reference: string;
  python: string;
  rows: CostRow[];
  /** Ratio of medians to the reference runner on the same path. */
  ratios: Array<{
    node: string;
    flock: string;
    cli: number;
    gn: number;
    cliP90: number;
    gnP90: number;
    /** The GN path with piplock_in_process=false: Node spawns a fresh interpreter (as before, and on Windows). */
    gnFresh: number;
    gnFreshCpu: number;
    cliCpu: number;
    gnCpu: number;
  }>;
}

/**
 * `baseline`: another built copy of piplock (e.g. a checkout of an older
 * commit, after `npm ci`) whose rows, named "... (baseline)", run in the
 * same rounds, so that a change is measured before and after under the same
 * load.
 */
export function actionCost(opts: {
  runs: number;
  python: string;
  reference: string;
  majors?: number[];
  baseline?: string;
}): CostResult {
  const { runs, python: PY, reference: REF } = opts;
  if (!becomeSubreaper())
    process.stderr.write('bench: not a subreaper: CPU times miss Node processes that outlive the launcher\n');
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-bench-'));
  const out = path.join(src, 'out');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'noop.py'), '');
  const runnerArgs = [
    '--gn-root',
    '..',
    '--current-path',
    '..',
    '--default-toolchain',
    '//t:t',
    '--current-toolchain',
    '//t:t',
    '--lockfile',
    'pip.lock',
  ];
  const cmds: Cmd[] = [
    {
      name: 'reference runner, CLI path',
      path: 'cli',
      argv: [PY, REF, ...runnerArgs, '--', '-c', 'pass'],
      ms: [],
      cpuMs: 0,
    },
    {
      name: 'reference runner, GN path',
      path: 'gn',
      argv: [PY, REF, ...runnerArgs, '--capture-output', '--', 'noop.py'],
      ms: [],
      cpuMs: 0,
    },
    { name: '`python3 -c pass`', path: 'other', argv: [PY, '-c', 'pass'], ms: [], cpuMs: 0 },
  ];
  for (const node of nodeBuilds(opts.majors)) {
    cmds.push({
      name: `\`node -e 0\`, Node ${node.version}`,
      path: 'other',
      node: node.version,
      argv: [node.bin, '-e', '0'],
      ms: [],
      cpuMs: 0,
    });
    const trees: Array<[string, string, string]> = [['', ROOT, 'tree']];
    if (opts.baseline) trees.push([' (baseline)', path.resolve(opts.baseline), 'tree-baseline']);
    for (const [suffix, base, label] of trees) {
      const fsExt = fsExtRoot(node, base, label);
      const roots: Array<['fs-ext' | 'koffi', string, NodeJS.ProcessEnv | undefined]> = [
        ['koffi', base, { ...process.env, PIPLOCK_FLOCK: 'koffi' }],
      ];
      if (fsExt) roots.unshift(['fs-ext', fsExt, undefined]);
      else process.stderr.write(`bench: no fs-ext for Node ${node.version}: its fs-ext rows are missing\n`);
      for (const [flock, root, env] of roots) {
        const cli = path.join(root, 'dist', 'bin', 'piplock.js');
        const launcher = path.join(root, 'gn', 'piplock_action.py');
        const tag = `Node ${node.version}, ${flock}${suffix}`;
        const f = flock + suffix;
        cmds.push({
          name: `piplock CLI, ${tag}`,
          path: 'cli',
          node: node.version,
          flock: f,
          env,
          argv: [node.bin, cli, '--lockfile', 'pip.lock', '--', PY, '-c', 'pass'],
          ms: [],
          cpuMs: 0,
        });
        cmds.push({
          name: `piplock GN path, ${tag}`,
          path: 'gn',
          node: node.version,
          flock: f,
          env,
          argv: [PY, launcher, `--node=${node.bin}`, ...runnerArgs, '--capture-output', '--', 'noop.py'],
          ms: [],
          cpuMs: 0,
        });
        cmds.push({
          name: `piplock GN path, fresh interpreter (piplock_in_process=false), ${tag}`,
          path: 'gn-fresh',
          node: node.version,
          flock: f,
          env,
          argv: [
            PY,
            launcher,
            `--node=${node.bin}`,
            '--in-process=false',
            ...runnerArgs,
            '--capture-output',
            '--',
            'noop.py',
          ],
          ms: [],
          cpuMs: 0,
        });
      }
    }
  }
  const exec = (c: Cmd, timed = true): void => {
    const cpu0 = childCpuMs();
    const t = performance.now();
    const res = spawnSync(c.argv[0]!, c.argv.slice(1), { cwd: out, env: c.env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = performance.now() - t;
    // Node's CPU time counts too, though on the in-process path it ends after the launcher.
    reapOrphans();
    if (res.status !== 0) throw new Error(`${c.argv.join(' ')} failed with status ${res.status}: ${res.stderr}`);
    if (!timed) return;
    c.ms.push(ms);
    c.cpuMs += childCpuMs() - cpu0;
  };
  // Warm the page cache and Node's compile cache (os.tmpdir()/node-compile-cache) as a build does after its first action.
  for (let i = 0; i < 2; i++) for (const c of cmds) exec(c, false);
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < cmds.length; k++) {
      exec(cmds[(k + r) % cmds.length]!);
    }
  }
  fs.rmSync(src, { recursive: true, force: true });
  return {
    runs,
    reference: REF,
    python: PY,
    rows: cmds.map(({ name, path: p, node, flock, ms, cpuMs }) => ({ name, path: p, node, flock, ms, cpuMs })),
    ratios: ratiosOf(cmds),
  };
}

function ratiosOf(cmds: Cmd[]): CostResult['ratios'] {
  const refCli = cmds[0]!.ms;
  const refGn = cmds[1]!.ms;
  const out: CostResult['ratios'] = [];
  for (const c of cmds) {
    if (c.path !== 'cli' || c.node === undefined) continue;
    const gn = cmds.find((g) => g.path === 'gn' && g.node === c.node && g.flock === c.flock)!;
    const fresh = cmds.find((g) => g.path === 'gn-fresh' && g.node === c.node && g.flock === c.flock)!;
    out.push({
      node: c.node,
      flock: c.flock!,
      cli: quantile(c.ms, 0.5) / quantile(refCli, 0.5),
      gn: quantile(gn.ms, 0.5) / quantile(refGn, 0.5),
      cliP90: quantile(c.ms, 0.9) / quantile(refCli, 0.9),
      gnP90: quantile(gn.ms, 0.9) / quantile(refGn, 0.9),
      cliCpu: c.cpuMs / cmds[0]!.cpuMs,
      gnCpu: gn.cpuMs / cmds[1]!.cpuMs,
      gnFresh: quantile(fresh.ms, 0.5) / quantile(refGn, 0.5),
      gnFreshCpu: fresh.cpuMs / cmds[1]!.cpuMs,
    });
  }
  return out;
}
