import path = require('node:path');
import { absolutePath, describeErrno, identityText, mkdirs, platform } from '../../platform';
import type { LockHandle, LockMode } from '../../platform';
import { formatDuration, monotonicMs } from '../base/duration';
import { DirectoryError, FAILURE_STATUS, LockError, LockTimeoutError } from '../base/errors';
import type { Logger } from '../base/log';
import { acquireWith, DEFAULT_TIMEOUT_MS } from '../lock/acquire';
import type { TryReport } from '../lock/acquire';
import type { Lock } from '../lock/lock';
import { relock } from '../lock/request';
import { exitStatus } from './child';
import { childEnv, nestedDecision } from './held-env';
import type { HeldLock } from './held-env';
import { describeGateHolder } from './holders';
import { processAlive } from './process-identity';
import { appendEvent, eventLogEnabled } from './event-log';
import type { EventHolder, EventRecord } from './event-log';
import { DEFAULT_NOTICE_AFTER_MS, startNotices } from './notices';
import { holdersBeside, inOwnNamespace, Registration } from './registry';
import { WATCH_INTERVAL_MS, watchLockFile } from './watch';

export interface HoldOptions {
  lockfile: string;
  mode: LockMode;
  timeoutMs?: number;
  /** Infinity: no notice. */
  noticeAfterMs?: number;
  /** What `piplock status` shows as this holder's command. */
  command: readonly string[];
  log: Logger;
  /** The child's environment before PIPLOCK_HELD is added. */
  env?: NodeJS.ProcessEnv;
  /** The GN label of the action, for `piplock status`, the event log and notices. */
  label?: string;
  /** Whether to append this acquisition to the event log. Default: unless PIPLOCK_EVENT_LOG=0. */
  eventLog?: boolean;
  /**
   * After a wait at least this long, one line on stderr once the lock is
   * granted or given up: who waited how long, and for whom. Infinity (the
   * default): none. For builds that show an action's output only when it ends.
   */
  waitedLineAfterMs?: number;
  /** The status when the lock stayed busy until the timeout (flock's -E). Default: FAILURE_STATUS. */
  conflictStatus?: number;
  /**
   * A handle on the lock file opened by the process that will run the
   * command (the GN launcher), locked instead of one of this runner's own
   * where it can be: start() is told whether it was (Lock.adopted).
   */
  adopted?: LockHandle;
  /** The process that PIPLOCK_HELD names as the holder: an ancestor of the command. Default: this one. */
  holder?: number;
}

/**
 * What both runners do around their command: skip locking when an ancestor
 * piplock already holds the lock, register as waiting then holding (for
 * `piplock status`), give waiting notices, take the lock, watch the lock file
 * while the command runs, and let go once `start` has settled. `start` gets
 * the child's environment, PIPLOCK_HELD included, and the lock (none when an
 * ancestor holds it), which it may hand over (Lock.handOver) rather than have
 * it released. Resolves with start's status, or FAILURE_STATUS after saying
 * on stderr why the lock was not taken.
 */
export async function holdWhile(
  o: HoldOptions,
  start: (env: NodeJS.ProcessEnv | undefined, lock?: Lock) => Promise<number>,
): Promise<number> {
  const { log, mode } = o;
  // As open(2) resolves it: `out/../pip.lock` with `out` a symlink is beside its target.
  const lockfile = absolutePath(o.lockfile);
  const nested = nestedDecision(lockfile, mode);
  if (nested.action === 'refuse') {
    log.error(nested.error);
    return FAILURE_STATUS;
  }
  if (nested.action === 'lock' && nested.warning) log.warn(nested.warning);
  if (nested.action === 'inherited') return holdInherited(o, lockfile, nested.holder, start);
  let lock: Lock | undefined;
  // The files beside the lock (gate, registry) are a help, not a need: where they cannot be written
  // (a full disk, a read-only directory) the runner locks all the same, and says so once.
  let sideFilesWarned = false;
  const sideFilesWarning = (message: string): void => {
    if (sideFilesWarned) return;
    sideFilesWarned = true;
    log.warn(message, { lockfile });
  };
  const registration = new Registration(lockfile, mode, [...o.command], sideFilesWarning, o.label);
  const record: EventRecord = {
    v: 1,
    pid: process.pid,
    mode,
    ...(o.label !== undefined ? { label: o.label } : {}),
    command: [...o.command],
    asked: Date.now(),
    outcome: 'error',
  };
  const logEvent = (o.eventLog ?? eventLogEnabled()) ? () => appendEvent(lockfile, record, sideFilesWarning) : () => {};
  let stopNotices: (() => void) | undefined;
  let interrupt: ReturnType<typeof pidOneInterrupt>;
  let env: NodeJS.ProcessEnv;
  // A signal while waiting ends the wait as it would end the runner, but with the record written and
  // the registry entry gone: a long wait is often why someone presses Ctrl-C. (PID 1, which the kernel
  // spares signals it has no handler for, has its own: pidOneInterrupt.)
  const signalled = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    interruptedBy = sig;
    signalled.abort(new Error(`interrupted by ${sig}`));
  };
  const signals = process.pid === 1 ? [] : platform.forwardSignals;
  for (const sig of signals) process.on(sig, onSignal);
  const stopListening = (): void => {
    for (const sig of signals) process.off(sig, onSignal);
  };
  try {
    mkdirs(path.dirname(lockfile));
    // Everything the command's start needs is ready before the lock is: from the moment it is granted
    // only the registry and the spawn stand between the lock and the command (hand-off latency).
    // Not for a command that the launcher runs: it is spawned only if the launcher's file cannot be locked.
    if (o.adopted === undefined) platform.prepareSpawn(o.command[0], { env: o.env ?? process.env });
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const begun = monotonicMs();
    interrupt = pidOneInterrupt();
    let registeredWaiting = false;
    // The launcher's handle is tried in the first round only: a later round locks the file now at the path.
    let adopted = o.adopted;
    for (;;) {
      lock = await acquireWith(
        lockfile,
        {
          mode,
          signal: interrupt?.signal ?? signalled.signal,
          timeoutMs: o.timeoutMs === undefined ? undefined : Math.max(0, timeoutMs - (monotonicMs() - begun)),
          onWarning: (message, kind) => {
            if (kind === 'side-files' || kind === 'release-signal') sideFilesWarning(message);
            else if (kind === 'gate-stalled') log.warn(`${message}; ${describeGateHolder(lockfile)}`, { lockfile });
            else log.warn(message, { lockfile });
          },
          onBusy: (attempt, waited) => {
            if (!registeredWaiting) {
              registeredWaiting = true;
              registration.set('waiting');
              if (record.heldBy === undefined) {
                record.heldBy = holdersNow(lockfile);
                if (log.enabled('info'))
                  log.info(`waiting for ${article(mode)} ${mode} lock: ${describeHeldBy(record.heldBy)}`, {
                    lockfile,
                    mode,
                    holders: record.heldBy,
                  });
              }
              stopNotices ??= startNotices(lockfile, mode, o.noticeAfterMs ?? DEFAULT_NOTICE_AFTER_MS, log);
            }
            // A holder granted a moment ago writes its registry entry just after starting its command, and a writer
            // registers as waiting only after its first try, gate taken: where the kernel's lock table named one the
            // registry did not yet, or a shared request found no writer to name, look again at the next tries.
            if (attempt > 1 && record.heldBy !== undefined && incomplete(record.heldBy, mode, attempt))
              record.heldBy = updateHolders(record.heldBy, holdersNow(lockfile));
            log.debug(`lock busy, attempt ${attempt} after ${formatDuration(waited)}`, {
              lockfile,
              mode,
              attempt,
              waitedMs: Math.round(waited),
            });
          },
          ...(log.enabled('trace') ? { onTry: (t: TryReport) => traceTry(log, lockfile, mode, t) } : {}),
        },
        adopted,
      );
      adopted = undefined;
      // Registered as holding, with the file it holds, before the command starts: should this file be deleted,
      // a runner that locks the new one at this path finds this one, and waits for it.
      const id = identityText(lock.identity());
      registration.set('holding', {
        lock: id,
        ...(o.holder !== undefined && o.holder !== process.pid ? { holder: o.holder } : {}),
      });
      const remaining = Math.max(0, timeoutMs - (monotonicMs() - begun));
      if (await waitForHoldersBeside(lockfile, mode, id, remaining, log, lock)) break;
      // Its own file was deleted while it waited: that lock excludes nobody. Let go and lock the file now there.
      lock.release();
      lock = undefined;
      registration.set('waiting');
      registeredWaiting = true;
    }
    // The identity and the path as they are now that the file is open (a dangling symlink resolves now).
    env = childEnv(lockfile, mode, o.env ?? process.env, lock.identity(), o.holder);
  } catch (err) {
    registration.remove();
    lock?.release();
    if (interruptedBy !== undefined) {
      record.outcome = 'interrupted';
      record.ended = Date.now();
      if (record.heldBy !== undefined) logEvent();
      stopListening();
      // The signal's own end, now that nothing listens: the status a shell shows for it.
      process.kill(process.pid, interruptedBy);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return exitStatus(null, interruptedBy);
    }
    if (interrupt?.status !== undefined) return interrupt.status;
    // A timeout, or an error after waiting, is part of the build's story; a lock that could not be
    // taken at all (a refused path) gets its one error line and nothing written beside it.
    if (err instanceof LockTimeoutError) record.outcome = 'timeout';
    if (err instanceof LockTimeoutError || record.heldBy !== undefined) {
      record.ended = Date.now();
      logEvent();
    }
    waitedLine(o, record, Date.now());
    if (err instanceof LockTimeoutError) {
      log.error(timeoutMessage(err, lockfile, record, o.timeoutMs === 0));
      return o.conflictStatus ?? FAILURE_STATUS;
    }
    if (err instanceof LockError) {
      log.error(err.message);
      return FAILURE_STATUS;
    }
    if (err instanceof DirectoryError) {
      log.error(`cannot create directory '${err.path}' for lock file '${lockfile}': ${describeErrno(err.code)}`);
      return FAILURE_STATUS;
    }
    throw err;
  } finally {
    stopNotices?.();
    stopListening();
    interrupt?.close();
  }
  record.granted = Date.now();
  if (log.enabled('info')) {
    const waitedMs = record.granted - record.asked;
    log.info(`acquired ${article(mode)} ${mode} lock after ${formatDuration(waitedMs)}`, { lockfile, mode, waitedMs });
  }
  if (log.enabled('debug'))
    log.debug(`${mode} lock taken with ${platform.lockBackend()}; running ${JSON.stringify(o.command)}`, { lockfile });
  const held = lock;
  // The command first; the bookkeeping below can wait the millisecond it takes.
  const running = start(env, held);
  // A lock file deleted or replaced while held would let newcomers in: notice it, say so, and lock the new file too.
  const stopWatch = watchLockFile(held, lockfile, (message) => log.warn(message, { lockfile }));
  try {
    waitedLine(o, record, record.granted);
    const status = await running;
    record.status = status;
    return status;
  } finally {
    stopWatch();
    registration.remove();
    // Stamped before the release, so that a waiter granted at once is never granted before it.
    record.released = Date.now();
    held.release();
    record.outcome = 'ran';
    logEvent();
    if (log.enabled('info')) {
      const heldMs = record.released - record.granted;
      log.info(`released the ${mode} lock after holding it ${formatDuration(heldMs)}`, { lockfile, mode, heldMs });
    }
  }
}

const TRY_OUTCOME: Record<TryReport['outcome'], string> = {
  taken: 'taken',
  busy: 'busy',
  gate: 'busy at the gate (a writer waits ahead)',
  transient: 'an open error that may clear by itself',
};

/** `--log-level trace`: one line for every try of the lock, with its number, its round and the time waited. */
function traceTry(log: Logger, lockfile: string, mode: LockMode, t: TryReport): void {
  log.trace(
    `try ${t.try} (attempt ${t.attempt}) for ${article(mode)} ${mode} lock after ${formatDuration(t.waitedMs)}: ${TRY_OUTCOME[t.outcome]}`,
    {
      lockfile,
      mode,
      try: t.try,
      attempt: t.attempt,
      waitedMs: Math.round(t.waitedMs),
      outcome: t.outcome,
    },
  );
}

function article(mode: LockMode): string {
  return mode === 'exclusive' ? 'an' : 'a';
}

/** The holders (and a writer waiting ahead) when this runner first found the lock busy, for the event log. */
function holdersNow(lockfile: string): EventHolder[] {
  const { lockStatus } = require('./holders') as typeof import('./holders');
  try {
    // The exclusive ones first: a shared waiter waits for them, and they are the ones to name.
    return lockStatus(lockfile)
      .filter(
        (e) =>
          !(e.pid === process.pid && e.namespace === undefined) && (e.state === 'holding' || e.mode === 'exclusive'),
      )
      .sort((a, b) => (a.mode === b.mode ? 0 : a.mode === 'exclusive' ? -1 : 1))
      .map(({ pid, mode, label, command, registered }) => ({
        pid,
        mode,
        ...(label !== undefined ? { label } : {}),
        command,
        registered,
      }));
  } catch {
    return [];
  }
}

/**
 * Whether the holders first seen may leave out who the wait is for: a shared request waits only for a writer, and
 * looks for one at every try until it is named; a holder known only from the kernel's table (flock(1), which never
 * registers) is looked up again for three tries.
 */
function incomplete(heldBy: EventHolder[], mode: LockMode, attempt: number): boolean {
  if (mode === 'shared' && !heldBy.some((h) => h.mode === 'exclusive')) return true;
  return attempt <= 4 && heldBy.some((h) => !h.registered);
}

/**
 * The holders first seen, each replaced by what the registry now says of the same PID, after the writers seen
 * only now (exclusive ones first, as holdersNow sorts them).
 */
function updateHolders(first: EventHolder[], now: EventHolder[]): EventHolder[] {
  const byPid = new Map(now.filter((h) => h.registered).map((h) => [h.pid, h]));
  const known = new Set(first.map((h) => h.pid));
  const writers = first.some((h) => h.mode === 'exclusive')
    ? []
    : now.filter((h) => h.mode === 'exclusive' && !known.has(h.pid));
  return [...writers, ...first.map((h) => (h.registered ? h : (byPid.get(h.pid) ?? h)))];
}

/** "//:pip_install, PID 8123", or the command where there is no label. */
function nameOf(h: EventHolder): string {
  const { quoteCommand } = require('../base/quote') as typeof import('../base/quote');
  return h.label !== undefined ? `${h.label}, PID ${h.pid}` : `PID ${h.pid}: ${quoteCommand(h.command)}`;
}

function describeHeldBy(heldBy: EventHolder[] | undefined): string {
  if (heldBy === undefined || heldBy.length === 0) return 'held by a process that piplock does not know';
  const shown = heldBy.slice(0, 3).map(nameOf);
  const more = heldBy.length > shown.length ? ` and ${heldBy.length - shown.length} more` : '';
  return `held by ${shown.join('; ')}${more}`;
}

/**
 * A timeout names who holds the lock now, as the waiting notice does, and who
 * held it when the wait began where that was someone else; a single try
 * (--timeout 0) says who holds it.
 */
function timeoutMessage(err: LockTimeoutError, lockfile: string, record: EventRecord, once: boolean): string {
  const { describeHolders, lockStatus } = require('./holders') as typeof import('./holders');
  const now = describeHolders(lockfile);
  if (once) {
    const mode = err.mode === 'exclusive' ? 'an exclusive' : 'a shared';
    return `busy: cannot take ${mode} lock on '${lockfile}' without waiting; ${now}`;
  }
  const pidsNow = new Set(lockStatus(lockfile).map((e) => e.pid));
  const earlier = record.heldBy?.filter((h) => !pidsNow.has(h.pid)) ?? [];
  const before = earlier.length > 0 ? `; when the wait began it was ${describeHeldBy(record.heldBy)}` : '';
  return `${err.message}; ${now}${before}`;
}

/** python-runner's line after a long wait: ninja shows an action's output only when it ends. */
function waitedLine(o: HoldOptions, record: EventRecord, now: number): void {
  const waited = now - record.asked;
  if (!(waited >= (o.waitedLineAfterMs ?? Infinity)) || record.heldBy === undefined) return;
  const who = o.label ?? `PID ${process.pid}`;
  const fs = require('node:fs') as typeof import('node:fs');
  try {
    fs.writeSync(
      2,
      `piplock: ${who} waited ${formatDuration(waited)} for the pip lock (${describeHeldBy(record.heldBy)})\n`,
    );
  } catch {
    // a closed stderr must not cost the action
  }
}

/**
 * After locking, before the command: waits while a live runner holds what the lock does not show, in a mode that
 * conflicts (registry.holdersBeside): a holder of an earlier file at this path, deleted or replaced under it, or a
 * nested runner whose ancestor has let go. Such a newcomer would otherwise run beside it: until the holder's watch
 * has locked the new file too (up to 200 ms, or never while a writer holds the gate), or for as long as the nested
 * runner runs. True once there are none. False as soon as this runner's own file is no longer at the path (deleted
 * again while it waited): a lock on it excludes nobody, and two runners waiting on two such files would otherwise
 * wait for each other. Gives up after `timeoutMs` (LockTimeoutError), releasing the lock.
 */
async function waitForHoldersBeside(
  lockfile: string,
  mode: LockMode,
  id: string,
  timeoutMs: number,
  log: Logger,
  lock: Lock,
): Promise<boolean> {
  const ancestors = (): number[] => platform.ancestors();
  let beside = holdersBeside(lockfile, mode, id, ancestors);
  if (beside.length === 0) return true;
  const start = monotonicMs();
  const waiter = platform.listenForRelease(lockfile);
  const stillMine = (): boolean => {
    try {
      return identityText(platform.fileIdentity(lockfile)) === id;
    } catch {
      return false;
    }
  };
  try {
    const who = beside
      .map(
        (e) =>
          `PID ${e.pid}${inOwnNamespace(e) ? '' : ` of PID namespace ${e.ns}`} (${e.mode}) ${e.inherited ? INHERITED : EARLIER}`,
      )
      .join(', ');
    log.warn(`locked '${lockfile}', but ${who}; waiting for ${beside.length === 1 ? 'it' : 'them'} to finish`, {
      lockfile,
    });
    for (let attempt = 1; beside.length > 0; attempt++) {
      const waited = monotonicMs() - start;
      if (waited >= timeoutMs) {
        lock.release();
        throw new LockTimeoutError(lockfile, mode, waited);
      }
      // The holders signal their release; polling covers one that was killed.
      await waiter.wait(Math.min(50 * attempt, 500, timeoutMs - waited));
      if (!stillMine()) return false;
      beside = holdersBeside(lockfile, mode, id, ancestors);
    }
    return true;
  } finally {
    waiter.close();
  }
}

const EARLIER = 'holds an earlier lock file at this path, deleted or replaced while it held it';
const INHERITED = 'runs under the lock of an ancestor runner that has let go';

/**
 * A runner whose ancestor holds the lock (PIPLOCK_HELD) runs its command without locking again, registered as
 * holding through that ancestor: a runner that locks after the ancestor has let go then waits for this one
 * (waitForHoldersBeside). It also watches the ancestor, and once that is gone takes the lock itself, directly
 * (not through the gate), so that programs that are not piplock are kept out too.
 */
async function holdInherited(
  o: HoldOptions,
  lockfile: string,
  holder: HeldLock,
  start: (env: NodeJS.ProcessEnv | undefined) => Promise<number>,
): Promise<number> {
  const { log, mode } = o;
  log.debug(`an ancestor piplock holds the lock; running ${JSON.stringify(o.command)} without locking again`, {
    lockfile,
    mode,
  });
  let warned = false;
  const registration = new Registration(
    lockfile,
    mode,
    [...o.command],
    (message) => {
      if (warned) return;
      warned = true;
      log.warn(
        `${message}; should the ancestor runner let go first, a runner that locks then may run beside this one`,
        {
          lockfile,
        },
      );
    },
    o.label,
  );
  let id = holder.id;
  if (id === '') {
    try {
      id = identityText(platform.fileIdentity(lockfile));
    } catch {
      // none to record: a runner of a new file still waits for an inherited holder
    }
  }
  registration.set('holding', { lock: id === '' ? undefined : id, inherited: true });
  const running = start(o.env);
  let own: Lock | undefined;
  let stopWatch: (() => void) | undefined;
  const check = setInterval(() => {
    if (processAlive(holder.pid, holder.start)) return;
    try {
      own = relock(lockfile, mode) ?? undefined;
    } catch {
      return; // tried again at the next check; the registry keeps piplock runners out meanwhile
    }
    if (own === undefined) return;
    clearInterval(check);
    log.debug('the ancestor runner has let go; this runner holds the lock itself now', { lockfile, mode });
    registration.set('holding', { lock: identityText(own.identity()) });
    stopWatch = watchLockFile(own, lockfile, (message) => log.warn(message, { lockfile }));
  }, WATCH_INTERVAL_MS);
  check.unref();
  try {
    return await running;
  } finally {
    clearInterval(check);
    stopWatch?.();
    registration.remove();
    own?.release();
  }
}

/**
 * As PID 1 (a container without an init), a signal that has no handler is ignored by the kernel: a runner waiting
 * for the lock would sit out SIGINT and SIGTERM. There, while it waits, they end the wait, with the shell's status
 * 128+N. Elsewhere nothing (the default action already ends the runner, and nothing is held yet).
 */
function pidOneInterrupt(): { signal: AbortSignal; status: number | undefined; close(): void } | undefined {
  if (process.pid !== 1 || process.platform === 'win32') return undefined;
  const controller = new AbortController();
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const state = {
    signal: controller.signal,
    status: undefined as number | undefined,
    close: () => {
      for (const sig of sigs) process.off(sig, on);
    },
  };
  function on(sig: NodeJS.Signals): void {
    state.status = exitStatus(null, sig);
    controller.abort(new Error(`interrupted by ${sig}`));
  }
  for (const sig of sigs) process.on(sig, on);
  return state;
}
