import fs = require('node:fs');
import { absolutePath } from '../../platform';
import { formatDuration } from '../base/duration';
import { quoteCommand } from '../base/quote';
import { FAILURE_STATUS, LockError, USAGE_STATUS, writeStdout } from '../base/errors';

import { lockState, lockStatus } from '../runner/holders';

/** What `piplock status` was asked. */
export interface StatusInput {
  lockfile: string;
  json: boolean;
  /** Redraw every this many ms until Ctrl-C (`--watch`). */
  watchMs?: number;
}

/**
 * `piplock status LOCKFILE [--json]`: prints, and returns the exit status: 0, or 1 after one error line for a
 * path that cannot be a lock file. "free" only when a non-blocking try on the lock says so; a lock held by
 * nobody piplock can see is said to be held.
 */
export async function execute({ lockfile, json, watchMs }: StatusInput): Promise<number> {
  if (lockfile === '') {
    fs.writeSync(2, 'piplock: error: status: the lock file is an empty string\n');
    return USAGE_STATUS;
  }
  const file = absolutePath(lockfile);
  if (watchMs !== undefined) return (require('./status-watch') as typeof import('./status-watch')).watch(file, watchMs);
  const entries = lockStatus(file);
  let state: ReturnType<typeof lockState> | undefined;
  if (entries.length === 0) {
    try {
      state = lockState(file);
    } catch (err) {
      if (!(err instanceof LockError)) throw err;
      fs.writeSync(2, `piplock: error: ${err.message}\n`);
      return FAILURE_STATUS;
    }
  }
  const now = Date.now();
  // A mistyped path must not look like a quiet lock: a lock file that does not exist is said so, with status 1.
  const missing = state === 'no lock file';
  if (missing && !json) {
    fs.writeSync(2, `piplock: error: no lock file '${file}': nothing has locked it yet, or the path is mistyped\n`);
    return FAILURE_STATUS;
  }
  if (json) {
    const out = {
      lockfile: file,
      state: state ?? (entries.some((e) => e.state === 'holding') ? 'held' : 'waited for'),
      entries: entries.map((e) => ({ ...e, since: e.since === undefined ? null : new Date(e.since).toISOString() })),
    };
    writeStdout(`${JSON.stringify(out, null, 2)}\n`);
    return missing ? FAILURE_STATUS : 0;
  }
  if (state === 'free') {
    writeStdout(`${file}: free (no holders, no waiters)\n`);
    return 0;
  }
  if (state === 'held') {
    fs.writeSync(
      1,
      `${file}: held, by a process piplock cannot see (another user's registry, another PID namespace, or a tool this OS lists no lock holders for)\n`,
    );
    return 0;
  }
  const rows = [['PID', 'MODE', 'STATE', 'FOR', 'COMMAND']];
  for (const e of entries) {
    const cmd = quoteCommand(e.command) + (e.registered ? '' : '  (not a piplock runner)');
    rows.push([
      e.namespace === undefined ? String(e.pid) : `${e.pid} (PID namespace ${e.namespace})`,
      e.mode,
      e.stopped ? `${e.state} (stopped)` : e.state,
      e.since === undefined ? '?' : formatDuration(now - e.since),
      cmd,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  writeStdout(`${file}:\n${lines.join('\n')}\n`);
  return 0;
}
