import fs = require('node:fs');
import path = require('node:path');
import { describeErrno, mkdirs, platform, sideDir, sideFile } from '../../platform';
import type { LockMode } from '../../platform';
import { ownStartTag, processAlive } from './process-identity';

/**
 * The registry of holders and waiters: one file per runner,
 * `<lockfile>.d/<pid>@<PID namespace>.json` (`<pid>.json` where the OS has no
 * PID namespaces), written whole (temporary file, then rename), so that a
 * reader never sees half an entry. A runner removes its entry when it lets go;
 * the entry of a runner that was killed stays until a reader (status, a
 * waiting runner) finds the runner gone and removes it. On POSIX the runner
 * holds an exclusive flock on its entry file while it runs (the life mark),
 * so that a reader in any PID namespace tells a live runner from a dead one
 * without its PID; elsewhere, and for entries without the mark, the PID and
 * its start tag tell, in the reader's own namespace only.
 */
export interface RegistryEntry {
  pid: number;
  mode: LockMode;
  state: 'holding' | 'waiting';
  command: string[];
  /** When it started waiting or holding, ms since the epoch. */
  since: number;
  /** Tells this process from a later one with the same PID (Linux: start time; Windows: creation time). */
  start?: string;
  /**
   * While holding: the identity of the lock file held (`<dev>.<ino>`; on Windows volume serial and file ID), so
   * that a runner that locks a new file at the same path can tell a holder of the earlier one, and wait for it.
   */
  lock?: string;
  /** Holding through an ancestor runner's lock (PIPLOCK_HELD), not a lock of its own. */
  inherited?: boolean;
  /**
   * The process that PIPLOCK_HELD names as the holder, where it is not this runner: the GN launcher, whose child
   * runs the action, so that a nested runner in the action can find this entry.
   */
  holder?: number;
  /** The GN label of the action, where the runner was given one. */
  label?: string;
  /** The runner's PID namespace (Linux), which its PID belongs to. */
  ns?: string;
  /** The runner holds an exclusive flock on this file for as long as it runs (POSIX): a reader that can take one knows it is gone. */
  mark?: true;
}

/** What a holding entry says about the lock it holds. */
export type HeldBy = Pick<RegistryEntry, 'lock' | 'inherited' | 'holder'>;

/** An entry is a few hundred bytes; anything far larger is not one of ours. */
const MAX_ENTRY_BYTES = 64 * 1024;
/** A writer keeps its entry well below that: the command is shortened, never the entry dropped. */
const MAX_COMMAND_CHARS = 16 * 1024;
/** The range of a JavaScript Date: a `since` outside it is not a time. */
const MAX_DATE_MS = 8.64e15;

/** The command as an entry records it: whole, or its first words up to MAX_COMMAND_CHARS, with '…' for the rest. */
function recorded(command: readonly string[]): string[] {
  let total = 0;
  const out: string[] = [];
  for (const a of command) {
    if (total + a.length > MAX_COMMAND_CHARS) {
      out.push(`${a.slice(0, Math.max(0, MAX_COMMAND_CHARS - total))}…`);
      return out;
    }
    total += a.length;
    out.push(a);
  }
  return out;
}
const ENTRY_NAME = /^\d+(@\d+)?\.json$/;

/** This process's PID namespace, read once; undefined where the OS has none. */
function ownNamespace(): string | undefined {
  return platform.pidNamespace?.();
}

/** Whether an entry's runner is in this process's PID namespace, where its PID means what it says (no `ns`: written so). */
export function inOwnNamespace(e: { ns?: string }): boolean {
  return e.ns === undefined || e.ns === ownNamespace();
}

/** Whether an entry is this process's own. */
export function isThisProcess(e: { pid: number; ns?: string }): boolean {
  return e.pid === process.pid && inOwnNamespace(e);
}

function entryName(pid: number, ns: string | undefined): string {
  return ns === undefined ? `${pid}.json` : `${pid}@${ns}.json`;
}

/** Whether a file name in `<lockfile>.d/` is that of a registry entry (`<pid>.json`, `<pid>@<PID namespace>.json`). */
export function isEntryFileName(name: string): boolean {
  return ENTRY_NAME.test(name);
}

/** The file name of the entry of runner `pid` of this PID namespace, in `<lockfile>.d/`. */
export function entryFileName(pid: number): string {
  return entryName(pid, ownNamespace());
}

/** How long a rename refused by another program's handle on the new file is retried: graceful-fs's bound. */
const RENAME_RETRY_MS = 1000;

/**
 * renameSync, retried briefly where an open file blocks it (Windows: an
 * antivirus scanner or indexer that has just opened the new file without
 * FILE_SHARE_DELETE answers EPERM, EACCES or EBUSY for a moment). Elsewhere
 * those codes are permissions, and final.
 */
function renameRetrying(from: string, to: string): void {
  const start = Date.now();
  for (let pause = 10; ; pause = Math.min(pause * 2, 100)) {
    try {
      fs.renameSync(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const blocked = code === 'EPERM' || code === 'EACCES' || code === 'EBUSY';
      if (!blocked || platform.unlinkOpenFiles || Date.now() - start >= RENAME_RETRY_MS) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    }
  }
}

const NEW_FILE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0);

/**
 * A new temporary file in `dir`, open for writing. Created new (O_EXCL) and never through a link (O_NOFOLLOW),
 * under a name no one can know in advance, so that a file or symlink planted in the registry is never written
 * through; a name taken meanwhile only means another name. (Not node:crypto: loading it costs every build action
 * milliseconds; O_EXCL does the rest.)
 */
function createNew(dir: string): { file: string; fd: number } {
  for (let attempt = 0; ; attempt++) {
    const tag = `${process.hrtime.bigint().toString(36)}${Math.random().toString(36).slice(2)}`;
    const file = `${dir}${path.sep}.${process.pid}-${tag}.tmp`;
    try {
      return { file, fd: fs.openSync(file, NEW_FILE, 0o644) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 10) continue;
      throw err;
    }
  }
}

/** This runner's entry. Best effort: a registry that cannot be written never stops the build. */
export class Registration {
  /** The entry file in place, and where it has a life mark, the descriptor that holds it; undefined while none is written. */
  private current: { file: string; fd: number | undefined } | undefined;

  constructor(
    private readonly lockfile: string,
    private readonly mode: LockMode,
    private readonly command: string[],
    /** Told, in one line, why the entry could not be written. */
    private readonly onFailure: (message: string) => void = () => {},
    private readonly label?: string,
  ) {}

  set(state: RegistryEntry['state'], held: HeldBy = {}): void {
    const ns = ownNamespace();
    const file = sideFile(this.lockfile, entryName(process.pid, ns));
    const dir = sideDir(this.lockfile);
    let tmp: { file: string; fd: number } | undefined;
    try {
      try {
        tmp = createNew(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        mkdirs(dir);
        tmp = createNew(dir);
      }
      // Marked before it is named: an entry in place is never without the mark of its living runner.
      let marked = false;
      try {
        marked = platform.markAlive?.(tmp.fd) ?? false;
      } catch {
        // no mark (flock not loaded): readers judge the entry by its PID
      }
      const entry: RegistryEntry = {
        pid: process.pid,
        mode: this.mode,
        state,
        command: recorded(this.command),
        since: Date.now(),
        start: ownStartTag(),
        ...held,
        ...(this.label !== undefined ? { label: this.label } : {}),
        ...(ns !== undefined ? { ns } : {}),
        ...(marked ? { mark: true as const } : {}),
      };
      fs.writeSync(tmp.fd, JSON.stringify(entry));
      // Kept open only for its mark: without one (Windows) an open entry would stand in the way of the next rename.
      let fd: number | undefined = tmp.fd;
      if (!marked) {
        fd = undefined;
        fs.closeSync(tmp.fd);
        tmp.fd = -1;
      }
      renameRetrying(tmp.file, file);
      const previous = this.current;
      this.current = { file, fd };
      tmp = undefined;
      if (previous?.fd !== undefined) fs.closeSync(previous.fd);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.onFailure(
        `piplock status will not list this runner: cannot write '${e.path ?? file}': ${describeErrno(e.code)}`,
      );
      if (tmp !== undefined) {
        if (tmp.fd >= 0) fs.closeSync(tmp.fd);
        fs.rmSync(tmp.file, { force: true });
      }
    }
  }

  remove(): void {
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    try {
      fs.unlinkSync(current.file);
    } catch {
      // already gone
    }
    if (current.fd === undefined) return;
    try {
      fs.closeSync(current.fd);
    } catch {
      // closed already
    }
  }
}

/** Whether a parsed registry file has the shape of an entry (a truncated or foreign file must not crash a reader). */
function isEntry(e: unknown): e is RegistryEntry {
  if (typeof e !== 'object' || e === null) return false;
  const r = e as Record<string, unknown>;
  return (
    Number.isInteger(r.pid) &&
    (r.pid as number) > 0 &&
    (r.mode === 'shared' || r.mode === 'exclusive') &&
    (r.state === 'holding' || r.state === 'waiting') &&
    Array.isArray(r.command) &&
    r.command.every((a) => typeof a === 'string') &&
    typeof r.since === 'number' &&
    Math.abs(r.since) <= MAX_DATE_MS &&
    (r.start === undefined || typeof r.start === 'string') &&
    (r.lock === undefined || typeof r.lock === 'string') &&
    (r.inherited === undefined || typeof r.inherited === 'boolean') &&
    (r.holder === undefined || (Number.isInteger(r.holder) && (r.holder as number) > 0)) &&
    (r.label === undefined || typeof r.label === 'string') &&
    (r.ns === undefined || (typeof r.ns === 'string' && /^\d+$/.test(r.ns))) &&
    (r.mark === undefined || r.mark === true)
  );
}

/**
 * The text of a registry file, read as untrusted input: a regular file only,
 * never through a symlink, never blocking (a FIFO or a device named like an
 * entry), and never more than MAX_ENTRY_BYTES. Undefined otherwise. With it,
 * whether a process holds the file's life mark (undefined where that cannot
 * be told).
 */
function readEntryFile(file: string): { text: string; marked: boolean | undefined } | undefined {
  // Without O_NOFOLLOW (Windows, where it and O_NONBLOCK are 0) the name is looked at first: a symlink or junction
  // (a reparse point) is never followed, and the file opened must be the one looked at.
  let named: fs.Stats | undefined;
  if (!fs.constants.O_NOFOLLOW) {
    try {
      named = fs.lstatSync(file);
    } catch {
      return undefined;
    }
    if (!named.isFile()) return undefined;
  }
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (fs.constants.O_NOFOLLOW ?? 0));
  } catch {
    return undefined; // removed meanwhile, a symlink, or not ours to read
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > MAX_ENTRY_BYTES) return undefined;
    // The file index only: some libuv versions give lstat and fstat different volume serials.
    if (named !== undefined && named.ino !== st.ino) return undefined;
    const buf = Buffer.alloc(st.size);
    const n = fs.readSync(fd, buf, 0, st.size, 0);
    let marked: boolean | undefined;
    try {
      marked = platform.markedAlive?.(fd);
    } catch {
      // cannot be told: the PID decides
    }
    return { text: buf.toString('utf8', 0, n), marked };
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Whether the runner of an entry still runs: its life mark where it has one (any PID namespace); else, in this
 * process's PID namespace, its PID and start tag. Undefined where that cannot be told: an entry of another
 * namespace without a mark, or one without a start tag where the OS gives start tags (a PID since reused would
 * pass), which a reader neither trusts nor removes.
 */
function runnerAlive(e: RegistryEntry, marked: boolean | undefined): boolean | undefined {
  if (e.mark === true && marked !== undefined) return marked;
  if (!inOwnNamespace(e)) return undefined;
  if (!processAlive(e.pid, e.start)) return false;
  if ((e.start === undefined || e.start === '') && platform.startTag(e.pid) !== undefined) return undefined;
  return true;
}

/** The live registry entries of `lockfile`; removes the entries of dead runners. */
export function readRegistry(lockfile: string): RegistryEntry[] {
  const dir = sideDir(lockfile);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: RegistryEntry[] = [];
  for (const name of names) {
    if (!ENTRY_NAME.test(name)) continue;
    const file = `${dir}${path.sep}${name}`;
    const read = readEntryFile(file);
    if (read === undefined) continue;
    let e: unknown;
    try {
      e = JSON.parse(read.text);
    } catch {
      continue;
    }
    if (!isEntry(e) || entryName(e.pid, e.ns) !== name) continue; // corrupt or foreign: ignored, never a crash
    const alive = runnerAlive(e, read.marked);
    if (alive === true) {
      out.push(e);
    } else if (alive === false) {
      try {
        fs.unlinkSync(file);
      } catch {
        // another reader was first
      }
    }
  }
  return out;
}

function conflict(a: LockMode, b: LockMode): boolean {
  return a === 'exclusive' || b === 'exclusive';
}

/**
 * The live holders that the lock itself does not keep away from a runner that holds `mode` on the file `id`:
 * runners that hold an earlier file at the same path (deleted or replaced while they held it), and runners that
 * hold through an ancestor's lock (which may have let go meanwhile). Only those whose mode conflicts, and never
 * this process nor `ancestors()`, which this runner runs inside.
 */
export function holdersBeside(
  lockfile: string,
  mode: LockMode,
  id: string,
  ancestors: () => readonly number[],
): RegistryEntry[] {
  const found = readRegistry(lockfile).filter(
    (e) =>
      e.state === 'holding' &&
      !isThisProcess(e) &&
      conflict(mode, e.mode) &&
      (e.inherited === true || (e.lock !== undefined && e.lock !== id)),
  );
  if (found.length === 0) return found;
  const above = ancestors();
  // Another namespace's PIDs are other processes: none of them is an ancestor by number.
  return found.filter((e) => !(inOwnNamespace(e) && above.includes(e.pid)));
}
