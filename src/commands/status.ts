import fs = require('node:fs');
import { absolutePath } from '../../platform';
import { formatDuration } from '../base/duration';
import { quoteCommand } from '../base/quote';
import { lockStatus } from '../runner/holders';

/** What `piplock status` was asked. */
export interface StatusInput {
  lockfile: string;
  json: boolean;
}

/** `piplock status LOCKFILE [--json]`: prints, and returns the exit status (always 0). */
export async function execute({ lockfile, json }: StatusInput): Promise<number> {
  const file = absolutePath(lockfile);
  const entries = lockStatus(file);
  const now = Date.now();
  if (json) {
    const out = {
      lockfile: file,
      entries: entries.map((e) => ({ ...e, since: e.since === undefined ? null : new Date(e.since).toISOString() })),
    };
    fs.writeSync(1, `${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  if (entries.length === 0) {
    fs.writeSync(1, `${file}: free (no holders, no waiters)\n`);
    return 0;
  }
  const rows = [['PID', 'MODE', 'STATE', 'FOR', 'COMMAND']];
  for (const e of entries) {
    const cmd = quoteCommand(e.command) + (e.registered ? '' : '  (not a piplock runner)');
    rows.push([
      String(e.pid),
      e.mode,
      e.stopped ? `${e.state} (stopped)` : e.state,
      e.since === undefined ? '?' : formatDuration(now - e.since),
      cmd,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  fs.writeSync(1, `${file}:\n${lines.join('\n')}\n`);
  return 0;
}
