import type { FileIdentity, LockHandle, LockMode } from '../../platform';

/**
 * A held lock. Releasing closes the handle, which is what drops the lock, so
 * a lock can never outlive its handle. `await using` / `using` release it.
 */
export class Lock {
  private handle: LockHandle | undefined;
  /** The lock file, as given to acquire(). */
  readonly path: string;

  constructor(
    handle: LockHandle,
    readonly mode: LockMode,
    private readonly onRelease?: () => void,
    /** Taken on a handle that another process opened and passed down (the GN launcher), which shares the lock. */
    readonly adopted = false,
  ) {
    this.handle = handle;
    this.path = handle.path;
  }

  get released(): boolean {
    return this.handle === undefined;
  }

  /** Identity of the locked file (undefined once released), to notice the lock file replaced under the holder. */
  identity(): FileIdentity | undefined {
    return this.handle?.identity();
  }

  /** Whether `path` still names the locked file: see LockHandle.namedBy(); 'no' once released. */
  namedBy(path: string): 'yes' | 'pending' | 'no' {
    return this.handle?.namedBy(path) ?? 'no';
  }

  /** Releases the lock. Idempotent. */
  release(): void {
    const h = this.handle;
    if (h === undefined) return;
    this.handle = undefined;
    try {
      h.unlock();
    } finally {
      h.close();
      this.onRelease?.();
    }
  }

  /**
   * Closes this process's handle without unlocking: the lock stays with the
   * processes that share the open file (an adopted handle's), and ends when
   * the last of them closes it. For a handle of this process's own, the same
   * as release().
   */
  handOver(): void {
    if (!this.adopted) return this.release();
    const h = this.handle;
    if (h === undefined) return;
    this.handle = undefined;
    h.close();
  }

  [Symbol.dispose](): void {
    this.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}
