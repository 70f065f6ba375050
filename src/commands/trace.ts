import fs = require('node:fs');
import path = require('node:path');
import { describeErrno } from '../../platform';
import { StdoutClosed, UsageError, writeStdout } from '../base/errors';
import { noEventLog, parseSince, recordsSince, usage } from './report';
import { place, shownName } from './timeline';

/** What `piplock trace` was asked. */
export interface TraceInput {
  lockfile: string;
  /** Write here instead of stdout. */
  output?: string;
  since?: string;
  /** Subtract this time from every timestamp (for example the build's start, to merge with ninjatracing's output). */
  origin?: string;
}

/** One event of Chrome's trace event format (the JSON Object Format). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/**
 * The trace: one complete event ("ph": "X") per wait and per hold, on one
 * track per concurrent slot, the category telling wait from hold and shared
 * from exclusive. Timestamps are microseconds since the Unix epoch, or since
 * `originMs` when given.
 */
export function traceEvents(
  lockfile: string,
  records: Parameters<typeof place>[0],
  originMs = 0,
): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, string> } {
  const us = (ms: number): number => Math.round((ms - originMs) * 1000);
  const placed = place(records);
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: `piplock ${lockfile}` } },
  ];
  const slots = new Set(placed.map((p) => p.slot));
  for (const slot of [...slots].sort((a, b) => a - b))
    events.push({ name: 'thread_name', ph: 'M', pid: 1, tid: slot + 1, args: { name: `slot ${slot + 1}` } });
  for (const p of placed) {
    const r = p.record;
    const args = {
      pid: r.pid,
      mode: r.mode,
      command: r.command,
      outcome: r.outcome,
      ...(r.label ? { label: r.label } : {}),
    };
    if (p.waitEnd > p.asked)
      events.push({
        name: `wait: ${shownName(r)}`,
        cat: `wait,${r.mode}`,
        ph: 'X',
        pid: 1,
        tid: p.slot + 1,
        ts: us(p.asked),
        dur: us(p.waitEnd) - us(p.asked),
        args: { ...args, heldBy: r.heldBy ?? [] },
      });
    if (r.granted !== undefined)
      events.push({
        name: shownName(r),
        cat: `hold,${r.mode}`,
        ph: 'X',
        pid: 1,
        tid: p.slot + 1,
        ts: us(p.waitEnd),
        dur: us(p.holdEnd) - us(p.waitEnd),
        args: { ...args, status: r.status ?? null },
      });
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: {
      lockfile,
      timeBase: originMs
        ? `microseconds since ${new Date(originMs).toISOString()}`
        : 'microseconds since the Unix epoch',
    },
  };
}

/** `piplock trace LOCKFILE [-o FILE] [--since TIME] [--origin TIME]`: returns the exit status. */
export async function execute(input: TraceInput): Promise<number> {
  const lockfile = path.resolve(input.lockfile);
  let since: number | undefined;
  let origin = 0;
  try {
    if (input.lockfile === '') throw new UsageError('the lock file is an empty string');
    since = input.since === undefined ? undefined : parseSince(input.since);
  } catch (err) {
    return usage(
      err instanceof UsageError && !err.message.startsWith('the lock')
        ? new UsageError(`--since: ${err.message}`)
        : err,
    );
  }
  try {
    if (input.origin !== undefined) origin = parseSince(input.origin);
  } catch (err) {
    return usage(err instanceof UsageError ? new UsageError(`--origin: ${err.message}`) : err);
  }
  const { records, files } = recordsSince(lockfile, since);
  if (files.length === 0) return noEventLog(lockfile);
  const text = `${JSON.stringify(traceEvents(lockfile, records, origin))}\n`;
  try {
    if (input.output !== undefined) fs.writeFileSync(input.output, text);
    else writeStdout(text);
  } catch (err) {
    if (err instanceof StdoutClosed) throw err;
    const where = input.output === undefined ? 'stdout' : `'${input.output}'`;
    fs.writeSync(2, `piplock: error: cannot write ${where}: ${describeErrno((err as NodeJS.ErrnoException).code)}\n`);
    return 1;
  }
  return 0;
}
