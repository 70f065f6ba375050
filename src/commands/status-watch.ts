import fs = require('node:fs');
import { formatDuration } from '../base/duration';
import { quoteCommand } from '../base/quote';
import { lockStatus } from '../runner/holders';
import type { StatusEntry } from '../runner/holders';

/** Who a waiter waits for: the holders its mode conflicts with, else the exclusive request ahead of it at the gate. */
export function waitsFor(waiter: StatusEntry, entries: readonly StatusEntry[]): StatusEntry[] {
  const holders = entries.filter((e) => e.state === 'holding' && e.pid !== waiter.pid);
  const blocking = waiter.mode === 'exclusive' ? holders : holders.filter((h) => h.mode === 'exclusive');
  if (blocking.length > 0) return blocking;
  if (waiter.mode === 'shared')
    return entries.filter((e) => e.state === 'waiting' && e.mode === 'exclusive' && e.pid !== waiter.pid);
  return [];
}

function name(e: StatusEntry): string {
  return e.label ?? `PID ${e.pid}`;
}

/** One view of the lock: holders, then waiters with how long they have waited and for whom. */
export function snapshot(lockfile: string, now = Date.now()): string {
  const entries = lockStatus(lockfile);
  const head = `${new Date(now).toISOString()}  ${lockfile}`;
  if (entries.length === 0) return `${head}: no holders, no waiters\n`;
  const rows = [['STATE', 'MODE', 'FOR', 'PID', 'LABEL', 'WAITS FOR / COMMAND']];
  for (const e of entries) {
    const age = e.since === undefined ? '?' : formatDuration(now - e.since);
    const last =
      e.state === 'waiting'
        ? `${waitsFor(e, entries).map(name).join(', ') || 'a holder piplock does not know'}`
        : quoteCommand(e.command) + (e.registered ? '' : '  (not a piplock runner)');
    rows.push([e.state, e.mode, age, String(e.pid), e.label ?? '-', last]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  const holding = entries.filter((e) => e.state === 'holding').length;
  return `${head}: ${holding} holding, ${entries.length - holding} waiting\n${lines.join('\n')}\n`;
}

/**
 * `piplock status --watch`: on a terminal, redraws the view in place every
 * `intervalMs`, like top; elsewhere, prints one snapshot per interval. Ctrl-C
 * (or SIGTERM) ends it with status 0, the terminal as it was.
 */
export function watch(lockfile: string, intervalMs: number): Promise<number> {
  const tty = process.stdout.isTTY === true;
  return new Promise((resolve) => {
    const draw = (): void => {
      const view = snapshot(lockfile);
      // Home, the view, then clear what the last, longer view left below.
      fs.writeSync(1, tty ? `\x1b[H${view.replace(/\n/g, '\x1b[K\n')}\x1b[J` : `${view}\n`);
    };
    if (tty) fs.writeSync(1, '\x1b[?25l\x1b[2J');
    draw();
    const timer = setInterval(draw, intervalMs);
    const stop = (): void => {
      clearInterval(timer);
      if (tty) fs.writeSync(1, '\x1b[?25h');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
