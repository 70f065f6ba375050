import fs = require('node:fs');
import { describeErrno, LockError, platform } from '../../platform';
import type { LockMode } from '../../platform';
import { formatDuration } from '../base/duration';
import { quoteCommand } from '../base/quote';
import { inOwnNamespace, isThisProcess, readRegistry } from './registry';
import type { RegistryEntry } from './registry';

/** A holder or waiter as `piplock status` shows it. */
export interface StatusEntry {
  pid: number;
  mode: LockMode;
  state: 'holding' | 'waiting';
  command: string[];
  /** ms since the epoch; undefined for a holder piplock did not register. */
  since?: number;
  /** False for a holder found only in the kernel's lock table (flock(1), the reference runner). */
  registered: boolean;
  /** The GN label of the action, where the runner was given one. */
  label?: string;
  /** Stopped (SIGSTOP, Ctrl-Z, a debugger): it will not move until continued. Absent where not stopped or unknown. */
  stopped?: boolean;
  /** The PID namespace of a runner in another one than this process (a container on the same build directory), whose PID it is. */
  namespace?: string;
}

/** " (stopped)" for a stopped process, where the OS tells; never for another namespace's PID, which is another process here. */
function stoppedMark(e: { pid: number; ns?: string }): string {
  return inOwnNamespace(e) && platform.stopped?.(e.pid) ? ' (stopped)' : '';
}

/** Whether two entries are one process: the same PID in the same PID namespace. */
export function sameRunner(a: { pid: number; namespace?: string }, b: { pid: number; namespace?: string }): boolean {
  return a.pid === b.pid && a.namespace === b.namespace;
}

/** Holders and waiters: the registry, plus (Linux) flock holders piplock did not register. */
export function lockStatus(lockfile: string): StatusEntry[] {
  const entries: StatusEntry[] = readRegistry(lockfile).map(({ pid, mode, state, command, since, label, ns }) => ({
    pid,
    mode,
    state,
    command,
    since,
    registered: true,
    ...(label !== undefined ? { label } : {}),
    ...(ns !== undefined && !inOwnNamespace({ ns }) ? { namespace: ns } : {}),
  }));
  const key = (pid: number, ns?: string): string => `${ns ?? ''}/${pid}`;
  const known = new Set(entries.map((e) => key(e.pid, e.namespace)));
  for (const h of platform.kernelLockHolders(lockfile)) {
    // A runner of another namespace is listed once, by its entry, under the PID it has there.
    if (known.has(key(h.pid)) || (h.inner !== undefined && known.has(key(h.inner.pid, h.inner.ns)))) continue;
    entries.push({ pid: h.pid, mode: h.mode, command: h.command, state: 'holding', registered: false });
  }
  for (const e of entries) if (e.namespace === undefined && platform.stopped?.(e.pid)) e.stopped = true;
  const order = (e: StatusEntry): number => (e.state === 'holding' ? 0 : 1);
  return entries.sort((a, b) => order(a) - order(b) || (a.since ?? 0) - (b.since ?? 0));
}

/** "PID 123 (shared, 2.0 s: python3 x.py), ..." for the waiting notice. */
export function describeHolders(lockfile: string): string {
  const holders = lockStatus(lockfile).filter(
    (e) => e.state === 'holding' && !(e.pid === process.pid && e.namespace === undefined),
  );
  if (holders.length === 0) {
    const writer = readRegistry(lockfile).find(
      (e) => e.state === 'waiting' && e.mode === 'exclusive' && !isThisProcess(e),
    );
    if (writer) {
      return `an exclusive request is ahead of it: ${who(entryWho(writer))}${stoppedMark(writer)}: ${quoteCommand(writer.command)}`;
    }
    return 'held by a process that piplock does not know (flock(1), the reference runner or another tool)';
  }
  const now = Date.now();
  const shown = holders.slice(0, 5).map((h) => {
    const age = (h.since === undefined ? '' : `, ${formatDuration(now - h.since)}`) + (h.stopped ? ', stopped' : '');
    return `${who(h)} (${h.mode}${age}: ${quoteCommand(h.command)})`;
  });
  const more = holders.length > shown.length ? ` and ${holders.length - shown.length} more` : '';
  return `held by ${shown.join(', ')}${more}`;
}

/** Who holds a gate that stays busy over a free lock, where the registry knows: the exclusive waiters, stopped or not. */
export function describeGateHolder(lockfile: string): string {
  const writers = readRegistry(lockfile).filter(
    (e) => e.state === 'waiting' && e.mode === 'exclusive' && !isThisProcess(e),
  );
  if (writers.length === 0) return 'its holder is not a registered piplock runner';
  const shown = writers.map((w) => `${pidText(entryWho(w))}${stoppedMark(w)}: ${quoteCommand(w.command)}`);
  return `held by the exclusive request of ${shown.join(', ')}`;
}

/**
 * What a non-blocking try on the lock itself says, for a status that lists nobody: 'free', 'held' (by a process
 * piplock cannot see: another user's registry, another PID namespace, a foreign tool where the OS lists no lock
 * holders), or 'no lock file'. Nothing is created. Throws LockError for a path that cannot be a lock file.
 */
export function lockState(lockfile: string): 'free' | 'held' | 'no lock file' {
  let st: import('node:fs').Stats | undefined;
  try {
    st = fs.statSync(lockfile, { throwIfNoEntry: false });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new LockError(`cannot use '${lockfile}' as a lock file: ${describeErrno(e.code)}`, e.code ?? 'EUNKNOWN');
  }
  if (st === undefined) return 'no lock file';
  if (st.isDirectory()) throw new LockError(`cannot use '${lockfile}' as a lock file: it is a directory`, 'EISDIR');
  if (!st.isFile()) throw new LockError(`cannot use '${lockfile}' as a lock file: it is not a regular file`, 'ENOTREG');
  const handle = platform.openLockHandle(lockfile);
  try {
    return handle.tryLock() ? 'free' : 'held';
  } finally {
    handle.close();
  }
}

/** An entry as `who` names it: its namespace only where it is another one. */
function entryWho(e: RegistryEntry): { pid: number; label?: string; namespace?: string } {
  return { pid: e.pid, label: e.label, ...(inOwnNamespace(e) ? {} : { namespace: e.ns }) };
}

/** "PID 123", or "PID 123 of PID namespace 4026532871" for a runner in another one. */
export function pidText(e: { pid: number; namespace?: string }): string {
  return e.namespace === undefined ? `PID ${e.pid}` : `PID ${e.pid} of PID namespace ${e.namespace}`;
}

/** "PID 123", or "//pkg:gen (PID 123)" for a runner that was given a GN label. */
function who(e: { pid: number; label?: string; namespace?: string }): string {
  return e.label === undefined ? pidText(e) : `${e.label} (${pidText(e)})`;
}

/** Who holds and who waits for one lock file, for library users (what proper-lockfile's check() and py-filelock's is_locked answer). */
export interface LockInfo {
  /** The lock file, absolute. */
  path: string;
  holders: StatusEntry[];
  waiters: StatusEntry[];
}

/**
 * Who holds `lockfile` and who waits for it: the runners piplock registered,
 * plus (Linux) any other holder the kernel lists. A snapshot: it may be out of
 * date as soon as it returns, so it is for showing, never for deciding to lock.
 */
export function check(lockfile: string): LockInfo {
  const { resolve } = require('node:path') as typeof import('node:path');
  const file = resolve(lockfile);
  const entries = lockStatus(file);
  return {
    path: file,
    holders: entries.filter((e) => e.state === 'holding'),
    waiters: entries.filter((e) => e.state === 'waiting'),
  };
}
