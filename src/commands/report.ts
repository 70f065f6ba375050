import fs = require('node:fs');
import path = require('node:path');
import { formatDuration, parseDuration } from '../base/duration';
import { USAGE_STATUS, UsageError, writeStdout } from '../base/errors';
import { quoteCommand } from '../base/quote';
import { quantile } from '../base/stats';
import { describeErrno, sideDir } from '../../platform';
import { EVENTS_FILE, holdOf, readEvents, waitOf } from '../runner/event-log';
import type { EventHolder, EventRecord } from '../runner/event-log';
import type { LockMode } from '../../platform';

/** What `piplock report` was asked. */
export interface ReportInput {
  lockfile: string;
  json?: boolean;
  /** Only acquisitions asked for at or after this time (text as given). */
  since?: string;
  /** Also write the HTML page here. */
  html?: string;
}

export interface ModeStats {
  count: number;
  /** How many waited at all. */
  waited: number;
  totalMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface Report {
  lockfile: string;
  since: string | null;
  actions: number;
  first: string | null;
  last: string | null;
  outcomes: { ran: number; timeout: number; error: number; interrupted: number };
  byMode: Record<LockMode, ModeStats>;
  exclusiveHolds: { pid: number; label: string | null; command: string[]; granted: string; heldMs: number }[];
  /** The ten longest waits, longest first. */
  longestWaits: Wait[];
  /** Every acquisition that waited, in the order they asked (JSON only: the text shows the ten longest). */
  waits: Wait[];
  /** The sum of every action's wait, and the wall time during which at least one action waited. */
  lostToWaiting: { sumMs: number; wallMs: number };
  /** Lines of the log that were not records (torn or foreign): 0 in a healthy log. */
  badLines: number;
}

export interface Wait {
  pid: number;
  label: string | null;
  mode: LockMode;
  command: string[];
  asked: string;
  waitedMs: number;
  outcome: EventRecord['outcome'];
  heldBy: EventHolder[];
}

function wait(r: EventRecord): Wait {
  return {
    pid: r.pid,
    label: r.label ?? null,
    mode: r.mode,
    command: r.command,
    asked: iso(r.asked),
    waitedMs: waitOf(r),
    outcome: r.outcome,
    heldBy: r.heldBy ?? [],
  };
}

const ISO_8601 = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$/;

/**
 * `--since` and `--origin`: an ISO 8601 date or time (local time where it
 * names no zone), a whole number of seconds (as `date +%s` prints) or of ms
 * since the epoch, told apart by size, or a duration with its unit, meaning
 * that long ago (`10m`, `90s`). Anything else is refused.
 */
export function parseSince(text: string, now = Date.now()): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n < 1e11 ? n * 1000 : n;
  }
  if (/^(\d+(\.\d+)?|\.\d+)\s*(ms|s|m|h)$/.test(t)) return now - parseDuration(t)!;
  if (ISO_8601.test(t)) {
    const ms = Date.parse(t.replace(' ', 'T'));
    if (!Number.isNaN(ms)) return ms;
  }
  throw new UsageError(
    `'${text}' is not a time: give an ISO 8601 time (2026-12-02T06:30), seconds or ms since the epoch, or a duration ago with its unit (10m)`,
  );
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function modeStats(records: EventRecord[]): ModeStats {
  const waits = records.map(waitOf);
  return {
    count: records.length,
    waited: records.filter((r) => r.heldBy !== undefined).length,
    totalMs: waits.reduce((a, b) => a + b, 0),
    p50Ms: records.length ? quantile(waits, 0.5) : 0,
    p95Ms: records.length ? quantile(waits, 0.95) : 0,
    maxMs: records.length ? Math.max(...waits) : 0,
  };
}

/** The length of the union of the intervals. */
function unionLength(intervals: [number, number][]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of sorted) {
    if (a > end) {
      total += b - a;
      end = b;
    } else if (b > end) {
      total += b - end;
      end = b;
    }
  }
  return total;
}

/** The summary of the records of one lock file. */
export function summarize(lockfile: string, records: EventRecord[], badLines: number, since?: number): Report {
  const of = (mode: LockMode): EventRecord[] => records.filter((r) => r.mode === mode);
  const ends = records.map((r) => r.released ?? r.ended ?? r.granted ?? r.asked);
  return {
    lockfile,
    since: since === undefined ? null : iso(since),
    actions: records.length,
    first: records.length ? iso(Math.min(...records.map((r) => r.asked))) : null,
    last: records.length ? iso(Math.max(...ends)) : null,
    outcomes: {
      ran: records.filter((r) => r.outcome === 'ran').length,
      timeout: records.filter((r) => r.outcome === 'timeout').length,
      error: records.filter((r) => r.outcome === 'error').length,
      interrupted: records.filter((r) => r.outcome === 'interrupted').length,
    },
    byMode: { exclusive: modeStats(of('exclusive')), shared: modeStats(of('shared')) },
    exclusiveHolds: of('exclusive')
      .filter((r) => r.granted !== undefined)
      .map((r) => ({
        pid: r.pid,
        label: r.label ?? null,
        command: r.command,
        granted: iso(r.granted!),
        heldMs: holdOf(r),
      })),
    longestWaits: [...records]
      .filter((r) => waitOf(r) > 0)
      .sort((a, b) => waitOf(b) - waitOf(a))
      .slice(0, 10)
      .map(wait),
    waits: records.filter((r) => waitOf(r) > 0).map(wait),
    lostToWaiting: {
      sumMs: records.reduce((a, r) => a + waitOf(r), 0),
      wallMs: unionLength(records.map((r) => [r.asked, r.asked + waitOf(r)])),
    },
    badLines,
  };
}

function name(label: string | null | undefined, pid: number, command: string[]): string {
  return label ? `${label} (PID ${pid})` : `PID ${pid}: ${quoteCommand(command)}`;
}

function holderNames(heldBy: EventHolder[]): string {
  if (heldBy.length === 0) return 'a process piplock does not know';
  const shown = heldBy
    .slice(0, 3)
    .map((h) => `${name(h.label, h.pid, h.command)}${h.mode === 'exclusive' ? ' [x]' : ''}`);
  return shown.join(', ') + (heldBy.length > 3 ? ` and ${heldBy.length - 3} more` : '');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
    )
    .map((l) => `  ${l.trimEnd()}`)
    .join('\n');
}

/** The text form, like `ninja -d stats`. */
export function formatReport(r: Report): string {
  const out: string[] = [`piplock report: ${r.lockfile}${r.since ? ` (since ${r.since})` : ''}`];
  if (r.actions === 0) {
    out.push('  no acquisitions recorded');
    return `${out.join('\n')}\n`;
  }
  out.push(
    `  ${r.actions} acquisitions from ${r.first} to ${r.last}: ${r.outcomes.ran} ran, ${r.outcomes.timeout} timed out, ${r.outcomes.error} failed to lock, ${r.outcomes.interrupted} interrupted`,
    '',
  );
  const rows = [['MODE', 'COUNT', 'WAITED', 'TOTAL WAIT', 'P50', 'P95', 'MAX', '']];
  for (const mode of ['exclusive', 'shared'] as const) {
    const s = r.byMode[mode];
    rows.push([
      mode,
      String(s.count),
      String(s.waited),
      ...[s.totalMs, s.p50Ms, s.p95Ms, s.maxMs].map(formatDuration),
      '',
    ]);
  }
  out.push(table(rows), '');
  out.push(
    `  lost to waiting: ${formatDuration(r.lostToWaiting.sumMs)} summed over actions; ` +
      `${formatDuration(r.lostToWaiting.wallMs)} of wall time with at least one action waiting`,
    '',
  );
  out.push(`exclusive holds (${r.exclusiveHolds.length}):`);
  for (const h of r.exclusiveHolds)
    out.push(`  ${formatDuration(h.heldMs).padStart(9)}  ${name(h.label, h.pid, h.command)}  from ${h.granted}`);
  out.push('', `longest waits (${r.longestWaits.length}):`);
  for (const w of r.longestWaits) {
    const end = w.outcome === 'ran' ? '' : ` [${w.outcome === 'timeout' ? 'timed out' : w.outcome}]`;
    out.push(
      `  ${formatDuration(w.waitedMs).padStart(9)}  ${w.mode.padEnd(9)}  ${name(w.label, w.pid, w.command)}${end}`,
    );
    out.push(`             waited for ${holderNames(w.heldBy)}`);
  }
  if (r.badLines > 0)
    out.push('', `  ${r.badLines} lines of the log were not records (torn or foreign) and were left out`);
  return `${out.join('\n')}\n`;
}

/** The records asked for at or after `since`, and the log files read. */
export function recordsSince(
  lockfile: string,
  since?: number,
): { records: EventRecord[]; bad: number; files: string[] } {
  const { records, bad, files } = readEvents(lockfile);
  return { records: since === undefined ? records : records.filter((r) => r.asked >= since), bad, files };
}

/** A usage error as one line, status 2. */
export function usage(err: unknown): number {
  if (!(err instanceof UsageError)) throw err;
  fs.writeSync(2, `piplock: error: ${err.message}\n`);
  return USAGE_STATUS;
}

/** A lock file with no event log: a typo, or a lock nothing has taken through piplock. Status 1. */
export function noEventLog(lockfile: string): number {
  fs.writeSync(
    2,
    `piplock: error: no event log for '${lockfile}' (no '${path.join(sideDir(lockfile), EVENTS_FILE)}'): ` +
      'nothing has taken this lock through piplock with the event log on (PIPLOCK_EVENT_LOG, piplock_event_log), or the path is mistyped\n',
  );
  return 1;
}

/** `piplock report LOCKFILE [--json] [--since TIME] [--html FILE]`: returns the exit status. */
export async function execute(input: ReportInput): Promise<number> {
  const lockfile = path.resolve(input.lockfile);
  let since: number | undefined;
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
  const { records, bad, files } = recordsSince(lockfile, since);
  if (files.length === 0) return noEventLog(lockfile);
  const report = summarize(lockfile, records, bad, since);
  if (input.html !== undefined) {
    const { htmlPage } = require('./report-html') as typeof import('./report-html');
    try {
      fs.writeFileSync(input.html, htmlPage(report, records));
    } catch (err) {
      fs.writeSync(
        2,
        `piplock: error: cannot write '${input.html}': ${describeErrno((err as NodeJS.ErrnoException).code)}\n`,
      );
      return 1;
    }
  }
  writeStdout(input.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return 0;
}
