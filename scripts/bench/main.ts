/**
 * npm run bench [-- --quick] [-- --only cost,handoff,saturation,starvation,throughput,eventlog,build,memory]
 *                 [-- --baseline DIR] [-- --runs N] [-- --rounds N]
 *
 * --baseline DIR: a built copy of piplock (an older commit, after npm ci)
 * measured in the same rounds as this one in the per-action cost.
 *
 * Prints markdown tables and writes JSON to scripts/bench/results/ (git-ignored).
 * Commands are alternated run by run; medians and ratios are reported.
 * The per-action cost runs every Node build that scripts/bench/nodes.ts
 * finds (the machine's, and Node 24 and 26 fetched into .cache/).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { quantile } from '../../src/base/stats';
import { actionCost } from './action-cost';
import { wholeBuild } from './build';
import { eventLogCost } from './event-log';
import { memory } from './memory';
import { nodeBuilds, referenceRunner } from './nodes';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'bin', 'piplock.js');
const REFERENCE_LOCK = path.join(ROOT, 'scripts', 'reference-lock.py');
const HOLDER = path.join(__dirname, 'holder.js');
const SECTIONS = ['cost', 'handoff', 'saturation', 'starvation', 'throughput', 'eventlog', 'build', 'memory'] as const;

/** The command line, checked: an unknown option, section or number is one error line, status 2. */
function options(): { quick: boolean; only: string[]; runs?: number; rounds?: number; baseline?: string } {
  const usage = (message: string): never => {
    process.stderr.write(`bench: error: ${message}\n`);
    process.exit(2);
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string' },
        runs: { type: 'string' },
        rounds: { type: 'string' },
        baseline: { type: 'string' },
      },
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  const count = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= 1 ? n : usage(`--${name} needs a whole number of at least 1, not '${v}'`);
  };
  const only = values.only === undefined ? [...SECTIONS] : values.only.split(',').filter((x) => x !== '');
  for (const x of only)
    if (!(SECTIONS as readonly string[]).includes(x))
      usage(`--only: unknown section '${x}' (the sections: ${SECTIONS.join(', ')})`);
  if (only.length === 0) usage(`--only needs at least one of: ${SECTIONS.join(', ')}`);
  if (values.baseline !== undefined && !fs.existsSync(path.join(values.baseline, 'dist')))
    usage(`--baseline '${values.baseline}' is not a built copy of piplock (no dist/ in it)`);
  return {
    quick: values.quick === true,
    only,
    runs: count('runs', values.runs),
    rounds: count('rounds', values.rounds),
    baseline: values.baseline,
  };
}
const OPTIONS = options();
const QUICK = OPTIONS.quick;
const only = OPTIONS.only;
// The real interpreter: a pyenv shim (a bash script) would add ~100 ms to every Python command.
const PY = (() => {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  } catch {
    return 'python3';
  }
})();
const results: Record<string, unknown> = { machine: machine(), quick: QUICK, date: new Date().toISOString() };

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model,
    cores: cpus.length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    platform: process.platform,
  };
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-bench-'));
}

const median = (xs: number[]): number => quantile(xs, 0.5);
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

// ---------------------------------------------------------------- per-action cost
function cost(): void {
  const reference = referenceRunner();
  if (!reference) {
    process.stderr.write(
      'bench: per-action cost skipped: no reference runner (set PIPLOCK_REFERENCE_RUNNER to python_runner.py or a Pigweed checkout)\n',
    );
    return;
  }
  const runs = OPTIONS.runs ?? (QUICK ? 11 : 31);
  const r = actionCost({
    runs,
    python: PY,
    reference,
    baseline: OPTIONS.baseline,
  });
  results.cost = r;
  console.log(`\n### Per-action cost with the lock free (${runs} runs each, alternated; ms)\n`);
  console.log(`Reference runner: ${path.relative(process.cwd(), reference)}\n`);
  console.log(
    table(
      ['command', 'median', 'p90', 'CPU/run', 'x reference (median)', 'x reference (p90)', 'x reference (CPU)'],
      r.rows.map((row) => {
        const base = row.path.startsWith('gn') ? r.rows[1]! : r.rows[0]!;
        return [
          row.name,
          f1(median(row.ms)),
          f1(quantile(row.ms, 0.9)),
          f1(row.cpuMs / row.ms.length),
          (median(row.ms) / median(base.ms)).toFixed(2),
          (quantile(row.ms, 0.9) / quantile(base.ms, 0.9)).toFixed(2),
          (row.cpuMs / base.cpuMs).toFixed(2),
        ];
      }),
    ),
  );
  console.log(
    '\nRatios to the reference runner on the same path: wall-time median [p90]; CPU time (user + sys, the command and its children):\n',
  );
  console.log(
    table(
      ['Node', 'flock', 'CLI', 'CLI CPU', 'GN path', 'GN CPU', 'GN, fresh interpreter', 'its CPU'],
      r.ratios.map((x) => [
        x.node,
        x.flock,
        `${x.cli.toFixed(2)} [${x.cliP90.toFixed(2)}]`,
        x.cliCpu.toFixed(2),
        `${x.gn.toFixed(2)} [${x.gnP90.toFixed(2)}]`,
        x.gnCpu.toFixed(2),
        x.gnFresh.toFixed(2),
        x.gnFreshCpu.toFixed(2),
      ]),
    ),
  );
}

// ---------------------------------------------------------------- hand-off latency
function lineOf(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      const m = buf.split('\n').find((l) => re.test(l));
      if (m) resolve(m);
    });
    child.on('exit', () => reject(new Error(`exited before ${re}: ${buf}`)));
  });
}

function collect(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('close', () => resolve(out));
  });
}

async function handoff(): Promise<void> {
  // Alone: one piplock and one reference-lock waiter per round, the hand-off itself. Burst: four of each woken
  // together on this machine's cores, as when pip lets go and every queued action starts at once.
  const scenarios: Array<{ name: string; perCycle: number; plan: Array<[number, number]> }> = [
    {
      name: 'alone',
      perCycle: 1,
      plan: QUICK
        ? [
            [1000, 6],
            [10_000, 2],
            [60_000, 1],
          ]
        : [
            [1000, 12],
            [10_000, 4],
            [60_000, 2],
          ],
    },
    {
      name: 'burst of 4',
      perCycle: 4,
      plan: QUICK
        ? [
            [1000, 3],
            [10_000, 1],
            [60_000, 1],
          ]
        : [
            [1000, 6],
            [10_000, 3],
            [60_000, 2],
          ],
    },
  ];
  const rows: string[][] = [];
  const out: Record<string, unknown> = {};
  for (const { name, perCycle, plan } of scenarios) {
    for (const [wait, cycles] of plan) {
      const lat: Record<string, number[]> = { piplock: [], reference: [] };
      for (let c = 0; c < cycles; c++) {
        const lockfile = path.join(tmp(), 'pip.lock');
        const holder = spawn(process.execPath, [HOLDER, lockfile, String(wait)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        await lineOf(holder, /^held/);
        const waiters: Array<[string, Promise<string>]> = [];
        for (let i = 0; i < perCycle; i++) {
          const p = spawn(
            process.execPath,
            [CLI, '--lockfile', lockfile, '--mode', 'shared', '--notice-after', '1h', '--', 'date', '+%s%N'],
            { stdio: ['ignore', 'pipe', 'inherit'] },
          );
          const s = spawn(PY, [REFERENCE_LOCK, '--lockfile', lockfile, '--mode', 'shared', '--', 'date', '+%s%N'], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          waiters.push(['piplock', collect(p)], ['reference', collect(s)]);
        }
        const released = BigInt((await lineOf(holder, /^released/)).split(' ')[1]!);
        for (const [kind, got] of waiters) lat[kind]!.push(Number(BigInt((await got).trim()) - released) / 1e6);
      }
      out[`${name} ${wait}`] = lat;
      for (const kind of ['piplock', 'reference'])
        rows.push([
          name,
          `${wait / 1000} s`,
          kind,
          String(lat[kind]!.length),
          f1(median(lat[kind]!)),
          f1(quantile(lat[kind]!, 0.99)),
          f1(Math.max(...lat[kind]!)),
        ]);
    }
  }
  results.handoff = out;
  console.log("\n### Hand-off latency: holder lets go -> waiter's command starts (ms)\n");
  console.log(table(['waiters', 'wait', 'runner', 'samples', 'p50', 'p99', 'max'], rows));
}

// ---------------------------------------------------------------- exclusive under saturated shared load
async function saturation(): Promise<void> {
  const HOLD = 2000;
  const LOADERS = 8;
  const cap = QUICK ? 20_000 : 60_000;
  const reps = QUICK ? 2 : 4;
  const res: Record<string, number[]> = { piplock: [], reference: [] };
  for (let r = 0; r < reps; r++) {
    for (const kind of r % 2 === 0 ? ['piplock', 'reference'] : ['reference', 'piplock']) {
      const lockfile = path.join(tmp(), 'pip.lock');
      const runner = (mode: string, cmd: string[]): string[] =>
        kind === 'piplock'
          ? [process.execPath, CLI, '--lockfile', lockfile, '--mode', mode, '--notice-after', '1h', '--', ...cmd]
          : [PY, REFERENCE_LOCK, '--lockfile', lockfile, '--mode', mode, '--', ...cmd];
      let stop = false;
      const live = new Set<ChildProcess>();
      const loader = (): void => {
        if (stop) return;
        const argv = runner('shared', ['sleep', String(HOLD / 1000)]);
        const c = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
        live.add(c);
        c.on('exit', () => {
          live.delete(c);
          loader();
        });
      };
      for (let i = 0; i < LOADERS; i++) setTimeout(loader, (i * HOLD) / LOADERS);
      await new Promise((res2) => setTimeout(res2, HOLD + 1000));
      const argv = runner('exclusive', ['date', '+%s%N']);
      const start = BigInt(Date.now()) * 1_000_000n;
      const ex = spawn(argv[0]!, [...argv.slice(1)], { stdio: ['ignore', 'pipe', 'ignore'] });
      const timer = setTimeout(() => ex.kill('SIGKILL'), cap);
      const outText = await collect(ex);
      clearTimeout(timer);
      stop = true;
      res[kind]!.push(outText.trim() ? Number(BigInt(outText.trim()) - start) / 1e6 : Infinity);
      for (const c of live) c.kill('SIGKILL');
      await new Promise((res2) => setTimeout(res2, 200));
    }
  }
  results.saturation = { holdMs: HOLD, loaders: LOADERS, capMs: cap, ms: res };
  console.log(
    `\n### Exclusive request under ${LOADERS} continuous shared ${HOLD / 1000} s actions (ms until its command starts; cap ${cap / 1000} s)\n`,
  );
  const rows = ['piplock', 'reference'].map((k) => [
    k,
    res[k]!.map((x) => (Number.isFinite(x) ? f1(x) : `>${cap / 1000} s (capped)`)).join(', '),
    f1(median(res[k]!)),
    (median(res[k]!) / HOLD).toFixed(2),
  ]);
  console.log(table(['runner', 'runs', 'median', 'x longest hold'], rows));
}

// ---------------------------------------------------------------- shared requests behind back-to-back writers
/**
 * Writer preference's price: two pip loops, each an exclusive runner holding HOLD ms and started again the moment
 * it ends, with a shared runner asking every EVERY ms. Each shared request's wait is measured until its command
 * starts; the loops stop after RUN ms, so a request that the writers kept out all along gets in then, and counts
 * as kept out.
 */
async function starvation(): Promise<void> {
  const HOLD = 2000;
  const EVERY = QUICK ? 2000 : 5000;
  const RUN = QUICK ? 20_000 : 60_000;
  const lockfile = path.join(tmp(), 'pip.lock');
  const runner = (mode: string, cmd: string[]): string[] => [
    process.execPath,
    CLI,
    '--lockfile',
    lockfile,
    '--mode',
    mode,
    '--notice-after',
    '1h',
    '--',
    ...cmd,
  ];
  let stop = false;
  let writerHolds = 0;
  const live = new Set<ChildProcess>();
  const writer = (): void => {
    if (stop) return;
    const argv = runner('exclusive', ['sleep', String(HOLD / 1000)]);
    const c = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    live.add(c);
    c.on('exit', () => {
      live.delete(c);
      writerHolds++;
      writer();
    });
  };
  writer();
  setTimeout(writer, HOLD / 2);
  await new Promise((r) => setTimeout(r, HOLD));
  const began = Date.now();
  const waits: Array<Promise<{ asked: number; ms: number }>> = [];
  while (Date.now() - began < RUN - EVERY) {
    const asked = Date.now();
    const argv = runner('shared', ['date', '+%s%N']);
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    waits.push(collect(c).then((out) => ({ asked, ms: Number(BigInt(out.trim()) / 1_000_000n) - asked })));
    await new Promise((r) => setTimeout(r, EVERY));
  }
  await new Promise((r) => setTimeout(r, Math.max(0, RUN - (Date.now() - began))));
  const stopped = Date.now();
  stop = true;
  const got = await Promise.all(waits);
  for (const c of live) c.kill('SIGKILL');
  const inside = got.filter((g) => g.asked + g.ms < stopped).map((g) => g.ms);
  const all = got.map((g) => g.ms);
  results.starvation = {
    holdMs: HOLD,
    everyMs: EVERY,
    runMs: RUN,
    writerHolds,
    waitsMs: all,
    inWhileWritersRan: inside.length,
  };
  console.log(
    `\n### Shared requests behind two back-to-back exclusive loops (${HOLD / 1000} s holds), one every ${EVERY / 1000} s for ${RUN / 1000} s (ms until the command starts)\n`,
  );
  console.log(
    table(
      ['requests', 'in while the writers ran', 'writer holds', 'p50', 'max'],
      [[String(all.length), String(inside.length), String(writerHolds), f1(median(all)), f1(Math.max(...all))]],
    ),
  );
}

// ---------------------------------------------------------------- in-process throughput
async function throughput(): Promise<void> {
  const { tryAcquire, acquire } = require(
    path.join(ROOT, 'dist', 'src', 'lock', 'acquire.js'),
  ) as typeof import('../../src/lock/acquire');
  const fsExt = require('fs-ext') as { flockSync(fd: number, flags: string): void };
  const lockfile = path.join(tmp(), 'pip.lock');
  const dur = QUICK ? 500 : 2000;
  const rate = async (fn: () => unknown): Promise<number> => {
    for (let i = 0; i < 200; i++) await fn();
    let n = 0;
    const end = performance.now() + dur;
    while (performance.now() < end) {
      for (let i = 0; i < 50; i++) await fn();
      n += 50;
    }
    return n / (dur / 1000);
  };
  fs.closeSync(fs.openSync(lockfile, 'a'));
  const fd = fs.openSync(lockfile, 'r');
  const rows: Array<[string, number]> = [];
  rows.push([
    'raw flock on an open fd (fs-ext): LOCK_EX|LOCK_NB + LOCK_UN',
    await rate(() => (fsExt.flockSync(fd, 'exnb'), fsExt.flockSync(fd, 'un'))),
  ]);
  rows.push([
    'raw open + flock + close (what the reference runner does per acquire)',
    await rate(() => {
      const f = fs.openSync(lockfile, 'r');
      fsExt.flockSync(f, 'exnb');
      fs.closeSync(f);
    }),
  ]);
  rows.push([
    'library tryAcquire + release (gate, identity check, release signal)',
    await rate(() => tryAcquire(lockfile, 'exclusive')!.release()),
  ]);
  rows.push([
    'library acquire + release (async)',
    await rate(async () => (await acquire(lockfile, { mode: 'exclusive' })).release()),
  ]);
  fs.closeSync(fd);
  const base = rows[0]![1];
  const base2 = rows[1]![1];
  results.throughput = Object.fromEntries(rows);
  console.log('\n### In-process lock + unlock throughput (ops/s)\n');
  console.log(
    table(
      ['what', 'ops/s', 'x raw flock', 'x open+flock+close'],
      rows.map(([n, r]) => [n, Math.round(r).toString(), (r / base).toFixed(2), (r / base2).toFixed(2)]),
    ),
  );
}

// ---------------------------------------------------------------- whole build
function build(): void {
  const reference = referenceRunner();
  if (!reference || !has('gn') || !has('ninja')) {
    process.stderr.write('bench: whole build skipped: needs gn, ninja and the reference runner\n');
    return;
  }
  const node = nodeBuilds([24]).find((n) => n.major === 24) ?? nodeBuilds([])[0]!;
  const rounds = OPTIONS.rounds ?? (QUICK ? 1 : 3);
  const r = wholeBuild({ python: PY, reference, node, actions: 220, jobs: 4, rounds });
  results.build = r;
  console.log(
    `\n### Whole build: ${r.actions} pw_python_actions and two pip reinstalls, ninja -j${r.jobs}, ${r.rounds} clean builds each, alternated\n`,
  );
  const base = r.rows[0]!;
  console.log(
    table(
      [
        'variant',
        'wall s (median)',
        'CPU s (median)',
        'x Pigweed wall',
        'x Pigweed CPU',
        'action s (ninja)',
        'pip s (ninja)',
        'failed actions',
      ],
      r.rows.map((row) => [
        row.variant,
        median(row.seconds).toFixed(1),
        median(row.cpuSeconds).toFixed(1),
        (median(row.seconds) / median(base.seconds)).toFixed(2),
        (median(row.cpuSeconds) / median(base.cpuSeconds)).toFixed(2),
        median(row.actionSeconds).toFixed(1),
        median(row.pipSeconds).toFixed(1),
        row.failures.join(', '),
      ]),
    ),
  );
}

// ---------------------------------------------------------------- memory
async function memoryFigures(): Promise<void> {
  const reference = referenceRunner();
  if (!reference || process.platform !== 'linux') {
    process.stderr.write('bench: memory skipped: needs Linux (/proc) and the reference runner\n');
    return;
  }
  const waiters = 32;
  for (const node of nodeBuilds([24, 26])) {
    const rows = await memory({ python: PY, reference, node, waiters });
    results[`memory-${node.version}`] = rows;
    console.log(
      `\n### Memory per action, Node ${node.version}: running (-j1), and waiting (${waiters} waiters, per waiter); kB\n`,
    );
    console.log(
      table(
        ['variant', 'process', 'running: peak RSS', 'PSS', 'USS', 'waiting: peak RSS', 'PSS', 'USS'],
        rows.map((r) => [
          r.variant,
          r.role,
          ...[r.running.peakRss, r.running.pss, r.running.uss, r.waiting.peakRss, r.waiting.pss, r.waiting.uss].map(
            (x) => Math.round(x).toString(),
          ),
        ]),
      ),
    );
  }
}

async function main(): Promise<void> {
  const m = results.machine as Record<string, unknown>;
  console.log(
    `## piplock benchmarks${QUICK ? ' (--quick)' : ''}\n\n${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Linux ${m.kernel}; Node ${process.versions.node}; ${PY}`,
  );
  if (!has(PY) || !has('flock')) throw new Error('python3 and flock(1) are needed');
  if (only.includes('cost')) cost();
  if (only.includes('throughput')) await throughput();
  if (only.includes('handoff')) await handoff();
  if (only.includes('saturation')) await saturation();
  if (only.includes('starvation')) await starvation();
  if (only.includes('eventlog')) {
    const r = eventLogCost(CLI, QUICK ? 500 : 2000, QUICK ? 11 : 31);
    results.eventLog = r;
    console.log(`\n### What the event log costs an action\n`);
    console.log(
      table(
        ['measure', 'value'],
        [
          [
            `one append (${r.records} records, in-process), p50 / p90 / max`,
            `${r.appendUs.p50.toFixed(0)} / ${r.appendUs.p90.toFixed(0)} / ${r.appendUs.max.toFixed(0)} µs`,
          ],
          [`whole run, log on (${r.runs} runs, alternated), median`, `${f1(r.cliMs.on)} ms`],
          [`whole run, PIPLOCK_EVENT_LOG=0, median`, `${f1(r.cliMs.off)} ms`],
          [
            `difference of the medians (noise, from two halves of the log-off runs: ${r.cliMs.noise.toFixed(2)} ms)`,
            `${r.cliMs.diff.toFixed(2)} ms`,
          ],
        ],
      ),
    );
  }
  if (only.includes('build')) build();
  if (only.includes('memory')) await memoryFigures();
  const dir = path.join(__dirname, '..', '..', '..', 'scripts', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`\nJSON: ${path.relative(process.cwd(), file)}`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: error: ${(err as Error).message}\n`);
  process.exit(1);
});
