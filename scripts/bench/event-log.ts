/**
 * What the event log costs each action: the time of one appendEvent() (open
 * with O_APPEND, one write, close) measured in this process over many
 * records, and, as a check on the whole path, a run of the CLI with the log
 * on against the same run with PIPLOCK_EVENT_LOG=0, alternated.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { quantile } from '../../src/base/stats';
import { appendEvent } from '../../src/runner/event-log';
import type { EventRecord } from '../../src/runner/event-log';

export interface EventLogCost {
  records: number;
  /** One append, in microseconds. */
  appendUs: { p50: number; p90: number; max: number };
  runs: number;
  /** Whole CLI runs, ms: the log on and off, and the difference of the medians. */
  cliMs: { on: number; off: number; diff: number };
}

export function eventLogCost(cli: string, records = 2000, runs = 31): EventLogCost {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-bench-log-'));
  const lockfile = path.join(dir, 'pip.lock');
  fs.mkdirSync(`${lockfile}.d`);
  const record: EventRecord = {
    v: 1,
    pid: process.pid,
    mode: 'shared',
    label: '//pkg:some_action_with_a_label',
    command: ['python3', '../../build/scripts/generate.py', '--out', 'gen/x.json', '--in', 'a.txt'],
    asked: Date.now(),
    granted: Date.now(),
    released: Date.now(),
    outcome: 'ran',
    status: 0,
  };
  const us: number[] = [];
  for (let i = 0; i < records; i++) {
    const t = process.hrtime.bigint();
    appendEvent(lockfile, record, (m) => {
      throw new Error(m);
    });
    us.push(Number(process.hrtime.bigint() - t) / 1e3);
  }
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [env, into] of [
      [{ ...process.env, PIPLOCK_EVENT_LOG: '1' }, on],
      [{ ...process.env, PIPLOCK_EVENT_LOG: '0' }, off],
    ] as const) {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [cli, '--lockfile', lockfile, '--', process.execPath, '-e', '0'], { env });
      if (r.status !== 0) throw new Error(`piplock failed: ${r.stderr}`);
      into.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const m = (xs: number[]): number => quantile(xs, 0.5);
  return {
    records,
    appendUs: { p50: quantile(us, 0.5), p90: quantile(us, 0.9), max: Math.max(...us) },
    runs,
    cliMs: { on: m(on), off: m(off), diff: m(on) - m(off) },
  };
}
