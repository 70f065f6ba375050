import fs = require('node:fs');
import path = require('node:path');
import { describeErrno, platform, sideDir, sideFile } from '../../platform';
import type { LockHandle } from '../../platform';
import type { LockMode } from '../../platform';

/**
 * The event log of a lock file: `<lockfile>.d/events.jsonl`, one JSON line per
 * acquisition, written once when it ends (lock let go, timed out, or failed).
 * `piplock report` and `piplock trace` read it after a build.
 *
 * Each record is one write(2) on a descriptor opened with O_APPEND
 * (FILE_APPEND_DATA on Windows), made while holding an exclusive lock on
 * `events.lock` beside it: O_APPEND alone keeps whole records apart on a
 * local POSIX file system, but not on NFS, and Wine was seen to tear them, so
 * the lock is what keeps records of concurrent runners from interleaving. It
 * is held for the one write; a runner that cannot have it within about
 * 100 ms writes without it rather than wait longer. A record is kept under MAX_RECORD_BYTES by shortening the
 * command. The log is bounded: past MAX_LOG_BYTES it is renamed to
 * `events.1.jsonl` (replacing the one before), so at most about twice that
 * is kept. Writing it never fails the action: an error costs the record and
 * one warning.
 */

/** One acquisition, as the log keeps it. Times are ms since the Unix epoch. */
export interface EventRecord {
  /** Format version. */
  v: 1;
  pid: number;
  mode: LockMode;
  /** The GN label of the action (`--label`), where the runner was given one. */
  label?: string;
  command: string[];
  /** When the runner asked for the lock. */
  asked: number;
  /** When it was granted; absent when it never was. */
  granted?: number;
  /** When it was let go; absent when it never was granted. */
  released?: number;
  /** When it gave up (timeout) or failed (error); absent for `ran`. */
  ended?: number;
  /** ran: granted and let go; timeout: gave up waiting; error: failed while waiting; interrupted: a signal ended the wait. */
  outcome: 'ran' | 'timeout' | 'error' | 'interrupted';
  /** The command's exit status, for `ran`. */
  status?: number;
  /** Who held the lock when this runner first found it busy; absent when it never waited. */
  heldBy?: EventHolder[];
}

export interface EventHolder {
  pid: number;
  mode: LockMode;
  label?: string;
  command: string[];
  /** False for a holder found only in the kernel's lock table (flock(1), the reference runner). */
  registered: boolean;
}

export const EVENTS_FILE = 'events.jsonl';
export const ROTATED_FILE = 'events.1.jsonl';
export const MAX_LOG_BYTES = 4 * 1024 * 1024;
const MAX_RECORD_BYTES = 8 * 1024;
const MAX_ARG_CHARS = 200;

/** PIPLOCK_EVENT_LOG=0 turns the log off, as the GN build arg piplock_event_log = false does. */
export function eventLogEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PIPLOCK_EVENT_LOG !== '0';
}

/** `https://user:secret@host` as `https://user:****@host`, as pip shows an index URL: the log outlives the build. */
function redacted(argv: readonly string[]): string[] {
  return argv.map((a) => a.replace(/(\w+:\/\/[^/\s:@]*):[^/\s@]*@/g, '$1:****@'));
}

function shortened(full: EventRecord): string {
  const record: EventRecord = {
    ...full,
    command: redacted(full.command),
    ...(full.heldBy ? { heldBy: full.heldBy.map((h) => ({ ...h, command: redacted(h.command) })) } : {}),
  };
  let line = JSON.stringify(record);
  if (Buffer.byteLength(line) <= MAX_RECORD_BYTES) return line;
  const cut = (argv: string[]): string[] =>
    argv.slice(0, 20).map((a) => (a.length > MAX_ARG_CHARS ? `${a.slice(0, MAX_ARG_CHARS)}...` : a));
  const small: EventRecord = {
    ...record,
    command: cut(record.command),
    heldBy: record.heldBy?.slice(0, 10).map((h) => ({ ...h, command: cut(h.command) })),
  };
  line = JSON.stringify(small);
  return Buffer.byteLength(line) <= MAX_RECORD_BYTES ? line : JSON.stringify({ ...small, command: [], heldBy: [] });
}

/** Appends one record; `onFailure` gets one line when it cannot. */
export function appendEvent(lockfile: string, record: EventRecord, onFailure: (message: string) => void): void {
  const file = sideFile(lockfile, EVENTS_FILE);
  const line = `${shortened(record)}\n`;
  let fd: number;
  try {
    // Never through a link, never blocking on a FIFO planted under the name.
    const flags =
      fs.constants.O_WRONLY |
      fs.constants.O_APPEND |
      fs.constants.O_CREAT |
      (fs.constants.O_NOFOLLOW ?? 0) |
      (fs.constants.O_NONBLOCK ?? 0);
    fd = fs.openSync(file, flags, 0o666);
  } catch (err) {
    onFailure(`the event log will miss this action: cannot open '${file}': ${describeErrno(errCode(err))}`);
    return;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      onFailure(`the event log will miss this action: '${file}' is not a regular file`);
      return;
    }
    const buf = Buffer.from(line);
    const guard = appendLock(lockfile);
    let n: number;
    try {
      // One write: O_APPEND puts it at the end as a whole.
      n = fs.writeSync(fd, buf, 0, buf.length);
    } finally {
      guard?.close();
    }
    if (n !== buf.length)
      onFailure(`the event log may hold a short record: wrote ${n} of ${buf.length} bytes to '${file}'`);
    if (st.size + n > MAX_LOG_BYTES) rotate(file, fd);
  } catch (err) {
    onFailure(`the event log will miss this action: cannot write '${file}': ${describeErrno(errCode(err))}`);
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // written or not, the action goes on
    }
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** The lock that serialises appends, or undefined where it cannot be had soon (the write goes ahead without it). */
function appendLock(lockfile: string): LockHandle | undefined {
  let h: LockHandle;
  try {
    h = platform.openLockHandle(path.join(sideDir(lockfile), 'events.lock'));
  } catch {
    return undefined;
  }
  try {
    for (let i = 0; i < 100; i++) {
      if (h.tryLock()) return h;
      Atomics.wait(pause, 0, 0, 1); // another runner's write takes microseconds
    }
  } catch {
    // a lock error here costs only the serialisation
  }
  h.close();
  return undefined;
}

/** Renames a full log aside, unless another runner already has (the name then names a newer file). */
function rotate(file: string, fd: number): void {
  try {
    const mine = fs.fstatSync(fd, { bigint: true });
    const now = fs.statSync(file, { bigint: true });
    if (mine.ino !== now.ino || mine.dev !== now.dev) return;
    fs.renameSync(file, `${file.slice(0, file.length - EVENTS_FILE.length)}${ROTATED_FILE}`);
  } catch {
    // another runner rotated it meanwhile; the next full log rotates again
  }
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

function isHolder(h: unknown): h is EventHolder {
  if (typeof h !== 'object' || h === null) return false;
  const r = h as Record<string, unknown>;
  return (
    Number.isInteger(r.pid) &&
    (r.mode === 'shared' || r.mode === 'exclusive') &&
    Array.isArray(r.command) &&
    (r.label === undefined || typeof r.label === 'string')
  );
}

/** Whether a parsed line is a record: a torn or foreign line must not break a report. */
export function isEventRecord(e: unknown): e is EventRecord {
  if (typeof e !== 'object' || e === null) return false;
  const r = e as Record<string, unknown>;
  const time = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isFinite(v));
  return (
    r.v === 1 &&
    Number.isInteger(r.pid) &&
    (r.mode === 'shared' || r.mode === 'exclusive') &&
    Array.isArray(r.command) &&
    r.command.every((a) => typeof a === 'string') &&
    typeof r.asked === 'number' &&
    Number.isFinite(r.asked) &&
    time(r.granted) &&
    time(r.released) &&
    time(r.ended) &&
    (r.outcome === 'ran' || r.outcome === 'timeout' || r.outcome === 'error' || r.outcome === 'interrupted') &&
    (r.label === undefined || typeof r.label === 'string') &&
    (r.heldBy === undefined || (Array.isArray(r.heldBy) && r.heldBy.every(isHolder)))
  );
}

/** The records of `lockfile`'s log, oldest first (the rotated file, then the current one); `bad` counts lines that are not records. */
export function readEvents(lockfile: string): { records: EventRecord[]; bad: number; files: string[] } {
  const dir = sideDir(lockfile);
  const records: EventRecord[] = [];
  const files: string[] = [];
  let bad = 0;
  for (const name of [ROTATED_FILE, EVENTS_FILE]) {
    const file = `${dir}${path.sep}${name}`;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    files.push(file);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let e: unknown;
      try {
        e = JSON.parse(line);
      } catch {
        bad++;
        continue;
      }
      if (isEventRecord(e)) records.push(e);
      else bad++;
    }
  }
  records.sort((a, b) => a.asked - b.asked);
  return { records, bad, files };
}

/**
 * How long a record waited: from asking to the grant, or to giving up; 0 for
 * one that never found the lock busy (its few milliseconds are the cost of
 * locking, not a wait).
 */
export function waitOf(r: EventRecord): number {
  if (r.heldBy === undefined) return 0;
  return Math.max(0, (r.granted ?? r.ended ?? r.asked) - r.asked);
}

/** How long a record held the lock; 0 when it never did. */
export function holdOf(r: EventRecord): number {
  return r.granted !== undefined && r.released !== undefined ? Math.max(0, r.released - r.granted) : 0;
}
