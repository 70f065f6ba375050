import { platform } from '../../platform';
import type { Gate, LockErrorReason, LockHandle, LockMode } from '../../platform';
import { LockError } from '../base/errors';
import { Lock } from './lock';

/**
 * What a warning is about, so that a runner can route it without reading its
 * text: the files beside the lock (a place where they cannot be written), or
 * the gate itself (abandoned, or with less reach than it should have).
 */
export type WarningKind = 'side-files' | 'gate';

export type TryResult = { lock: Lock } | { busy: true; transient?: LockError; atGate?: boolean };

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
      if (!this.enterGate(handle)) {
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
        // Only a place where nothing can be written, or a squatted name, costs the gate; anything else (EMFILE, a bug) is an error.
        if (!(err instanceof LockError) || !UNWRITABLE.has(err.reason)) throw err;
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

/**
 * Why a gate may not be had where the lock file is usable: a place that is read-only, not ours, or full; on Windows
 * also a gate name that another program took for an object of another type.
 */
const UNWRITABLE: ReadonlySet<LockErrorReason> = new Set([
  'read-only',
  'access-denied',
  'no-space',
  'not-found',
  'name-taken',
]);
