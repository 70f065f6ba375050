import fs = require('node:fs');
import { BROKEN_PIPE_STATUS, StdoutClosed, writeStdout } from '../base/errors';
import { formatDuration } from '../base/duration';
import { quoteCommand } from '../base/quote';
import { lockStatus, pidText, sameRunner } from '../runner/holders';
import type { StatusEntry } from '../runner/holders';

/** Who a waiter waits for: the holders its mode conflicts with, else the exclusive request ahead of it at the gate. */
export function waitsFor(waiter: StatusEntry, entries: readonly StatusEntry[]): StatusEntry[] {
  const holders = entries.filter((e) => e.state === 'holding' && !sameRunner(e, waiter));
  const blocking = waiter.mode === 'exclusive' ? holders : holders.filter((h) => h.mode === 'exclusive');
  if (blocking.length > 0) return blocking;
  if (waiter.mode === 'shared')
    return entries.filter((e) => e.state === 'waiting' && e.mode === 'exclusive' && !sameRunner(e, waiter));
  return [];
}

function name(e: StatusEntry): string {
  return e.label ?? pidText(e);
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
    const pid = e.namespace === undefined ? String(e.pid) : `${e.pid}@${e.namespace}`;
    rows.push([e.state, e.mode, age, pid, e.label ?? '-', last]);
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
    let timer: NodeJS.Timeout | undefined = undefined;
    const write = (text: string): boolean => {
      try {
        writeStdout(text);
        return true;
      } catch (err) {
        // A reader that went away (`| head`) ends the view; anything else is one line.
        const gone = err instanceof StdoutClosed;
        if (!gone) {
          const code = (err as NodeJS.ErrnoException).code;
          fs.writeSync(2, `piplock: error: cannot write the view: ${code ?? String(err)}\n`);
        }
        stop(gone ? BROKEN_PIPE_STATUS : 1);
        return false;
      }
    };
    const draw = (): void => {
      const view = snapshot(lockfile);
      // On a terminal: the whole view in the alternate screen, clipped to its size, redrawn from the top.
      if (!tty) return void write(`${view}\n`);
      const cols = process.stdout.columns || 80;
      const rows = process.stdout.rows || 24;
      const lines = view
        .split('\n')
        .slice(0, rows - 1)
        .map((l) => l.slice(0, cols));
      write(`\x1b[H${lines.join('\x1b[K\n')}\x1b[K\x1b[J`);
    };
    const stop = (status = 0): void => {
      if (timer) clearInterval(timer);
      if (tty) {
        try {
          fs.writeSync(1, '\x1b[?25h\x1b[?1049l');
        } catch {
          // the terminal went away
        }
      }
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(status);
    };
    const onSignal = (): void => stop(0);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (tty && !write('\x1b[?1049h\x1b[?25l\x1b[2J')) return;
    draw();
    timer = setInterval(draw, intervalMs);
  });
}
