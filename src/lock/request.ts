import { platform } from '../../platform';
import type { Gate, LockHandle, LockMode } from '../../platform';
import { monotonicMs } from '../base/duration';
import { LockError } from '../base/errors';
import { Lock } from './lock';

/**
 * What a warning is about, so that a runner can route it without reading its
 * text: the files beside the lock (a place where they cannot be written), or
 * the gate itself (abandoned, or with less reach than it should have).
 */
export type WarningKind = 'side-files' | 'gate' | 'gate-stalled' | 'release-signal';

/**
 * How long the gate may stay busy while the lock itself is free before requests go ahead without it. A waiting
 * writer takes a free lock at its next try (at once when a holder signals its release; at worst after its current
 * backoff), so a gate busy that long over a free lock is held by a writer that is stopped (SIGSTOP, Ctrl-Z, a
 * debugger) or by a foreign process. Writer preference is an optimisation, never worth a stalled build.
 */
export const GATE_STALL_MS = 5000;

/** The lock is probed (an exclusive try, undone at once) at most this often, so that a waiting writer's own try all but never meets a probe. */
const STALL_PROBE_EVERY_MS = 1000;

export type TryResult = { lock: Lock } | { busy: true; transient?: LockError; atGate?: boolean };

/**
 * One try on the file now at `path`, without the gate: how a holder locks a
 * replaced lock file again (the watch), and how a nested runner whose
 * ancestor has let go takes the lock itself. The gate is for newcomers: a
 * writer waiting there would keep out a runner whose command already runs,
 * for as long as it waits. Null when busy; throws only on real errors.
 */
export function relock(path: string, mode: LockMode): Lock | null {
  let handle: LockHandle;
  try {
    handle = platform.openLockHandle(path);
  } catch (err) {
    if (err instanceof LockError && (err.busy || err.transient)) return null;
    throw err;
  }
  try {
    if ((mode === 'exclusive' ? handle.tryLock() : handle.tryRLock()) && handle.namedBy(path) === 'yes') {
      return new Lock(handle, mode, () => platform.signalRelease(path));
    }
  } catch (err) {
    handle.close();
    throw err;
  }
  handle.close();
  return null;
}

/**
 * One request for the lock, tried again and again. Writer preference: an
 * exclusive request takes the gate at its first try and keeps it until it has
 * the main lock; a shared request must pass the gate before each try, so that
 * it queues behind a waiting exclusive one. The main lock keeps the reference
 * runner's semantics; only piplock looks at the gate.
 */
export class GatedRequest {
  private gateOpened = false;
  /** Undefined where no gate can be had (a read-only or full place): the lock works without writer preference. */
  private gate: Gate | undefined;
  private gateHeld = false;
  /** Since when the gate has been busy while the lock itself was free at every probe (monotonic ms). */
  private stalledSince: number | undefined;
  private lastProbe: number | undefined;
  private stallWarned = false;

  constructor(
    private readonly path: string,
    private readonly mode: LockMode,
    private readonly onWarning?: (message: string, kind: WarningKind) => void,
    /**
     * A handle on the lock file that another process opened (the GN launcher),
     * tried instead of opening one, until it is locked or found to be another
     * file than the one at the path; then the request opens its own.
     */
    private adopted?: LockHandle,
    private readonly stallMs = GATE_STALL_MS,
  ) {}

  /**
   * One non-blocking try. Busy is not an error; a replaced lock file counts as
   * busy, because a lock on a file no longer at `path` excludes nobody. The
   * lock file is opened, and so checked to be a regular file, before anything
   * is made beside it.
   */
  tryOnce(): TryResult {
    let handle: LockHandle;
    const adopted = this.adopted;
    try {
      handle = adopted ?? platform.openLockHandle(this.path);
    } catch (err) {
      if (err instanceof LockError && err.busy) return { busy: true };
      if (err instanceof LockError && err.transient) return { busy: true, transient: err };
      throw err;
    }
    // A busy try closes its own handle; the adopted one stays open for the next try.
    const done = (): void => (handle === adopted ? undefined : handle.close());
    try {
      if (!this.enterGate(handle) && !this.pastStalledGate(handle)) {
        done();
        return { busy: true, atGate: true };
      }
      const locked = this.mode === 'exclusive' ? handle.tryLock() : handle.tryRLock();
      const got = locked && handle.namedBy(this.path) === 'yes';
      // A shared request only passes through; an exclusive one keeps the gate until it has the lock.
      if (this.mode === 'shared' || got) this.leave();
      if (got) {
        if (handle === adopted) this.adopted = undefined;
        return { lock: new Lock(handle, this.mode, () => platform.signalRelease(this.path), handle === adopted) };
      }
      if (locked && handle === adopted) {
        // The file the launcher opened is no longer the one at the path: from now on, open the path's.
        handle.unlock();
        this.dropAdopted();
      }
      done();
      return { busy: true };
    } catch (err) {
      if (handle === adopted) this.dropAdopted();
      else handle.close();
      this.leave();
      throw err;
    }
  }

  private dropAdopted(): void {
    this.adopted?.close();
    this.adopted = undefined;
  }

  private enterGate(handle: LockHandle): boolean {
    if (!this.gateOpened) {
      this.gateOpened = true;
      try {
        this.gate = platform.openGate(this.path, handle.identity());
        if (this.gate.warning !== undefined) this.onWarning?.(this.gate.warning, 'gate');
      } catch (err) {
        // Whatever keeps the gate from being had where the lock file works (a place where nothing can be written, a
        // stray file in its place, a squatted name) costs only writer preference; no descriptors left is an error.
        if (!(err instanceof LockError) || err.reason === 'too-many-files') throw err;
        this.onWarning?.(`locking '${this.path}' without writer preference: ${err.message}`, 'side-files');
      }
    }
    if (this.gateHeld || this.gate === undefined) return true;
    const g = this.gate.tryEnter(this.mode);
    if (!g) return false;
    if (g === 'abandoned')
      this.onWarning?.(
        `the writer-preference gate of '${this.path}' was abandoned by a process that died while waiting; taken over`,
        'gate',
      );
    this.gateHeld = true;
    return true;
  }

  /**
   * At a busy gate: whether it has stayed busy for stallMs while the lock itself was free at every probe, so that
   * this request goes past it. The first probe comes a second after the first refusal, not at the release that
   * woke every waiter at once. Says so once.
   */
  private pastStalledGate(handle: LockHandle): boolean {
    const now = monotonicMs();
    if (this.lastProbe === undefined) {
      this.lastProbe = now;
      return false;
    }
    if (now - this.lastProbe >= STALL_PROBE_EVERY_MS) {
      this.lastProbe = now;
      const free = handle.tryLock();
      if (free) handle.unlock();
      if (!free) {
        this.stalledSince = undefined;
        return false;
      }
      this.stalledSince ??= now;
    }
    if (this.stalledSince === undefined || now - this.stalledSince < this.stallMs) return false;
    if (!this.stallWarned) {
      this.stallWarned = true;
      this.onWarning?.(
        `the writer-preference gate of '${this.path}' has been busy for ${Math.round((now - this.stalledSince) / 1000)} s while the lock itself is free; going ahead without writer preference`,
        'gate-stalled',
      );
    }
    return true;
  }

  private leave(): void {
    if (!this.gateHeld) return;
    this.gateHeld = false;
    this.gate!.leave();
  }

  /** Ends the request: a writer that gives up lets the shared requests queued behind it go. */
  close(): void {
    this.dropAdopted();
    const wasHeld = this.gateHeld && this.mode === 'exclusive';
    this.leave();
    this.gate?.close();
    this.gate = undefined;
    this.gateOpened = false;
    if (wasHeld) platform.signalRelease(this.path);
  }
}
