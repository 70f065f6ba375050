/**
 * The one interface between piplock and the operating system, in three
 * concerns: locking, processes and spawning. `index.ts` picks the
 * implementation for this OS once; one file per OS implements it.
 */
import type { SpawnOptions } from 'node:child_process';

export type LockMode = 'shared' | 'exclusive';

/** Identity of the file behind a handle or a path; equal identities mean the same file. */
export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
  /**
   * Set where the file system gives no file ID (Windows: FILE_ID_INFO and the
   * 64-bit index both 0, as on WinFsp, Dokan and some network drives): `ino`
   * is then derived from the file's canonical path, so that equal identities
   * mean one name, not one file. LockHandle.namedBy() still tells.
   */
  readonly unreliable?: true;
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** A file identity as text, `<dev>.<ino>` (the registry, PIPLOCK_HELD); '' for none. */
export function identityText(id: FileIdentity | undefined): string {
  return id === undefined ? '' : `${id.dev}.${id.ino}`;
}

/**
 * One open lock file. The lock belongs to this handle: closing the handle or
 * the death of the process releases it, so there is never a stale lock.
 *
 * Every method is non-blocking. `tryLock`/`tryRLock` return false when the lock
 * is busy and throw a `LockError` only on real errors.
 */
export interface LockHandle {
  readonly path: string;
  /** Exclusive lock. False when another handle holds the lock in any mode. */
  tryLock(): boolean;
  /** Shared lock. False when another handle holds the lock exclusively. */
  tryRLock(): boolean;
  unlock(): void;
  /** Closes the handle, which drops any lock it holds. Idempotent. */
  close(): void;
  /** Identity of the open file, to detect a lock file replaced under us. */
  identity(): FileIdentity;
  /**
   * Whether `path` names the open file now: 'yes'; 'pending' where the file
   * was deleted but its name stays until every handle on it closes (Windows
   * without POSIX delete semantics: nobody can open it meanwhile, so newcomers
   * wait); 'no' where it was removed, renamed or replaced. Never throws.
   */
  namedBy(path: string): 'yes' | 'pending' | 'no';
}

/**
 * The writer-preference gate of one lock file. An exclusive requester holds
 * it from its first busy try until it has the main lock; a shared requester
 * must pass it (take and drop it at once) before each try, so that it queues
 * behind a waiting writer. Every method is non-blocking.
 */
export interface Gate {
  /**
   * Takes the gate: true, false when it is busy, or 'abandoned' when it was
   * taken from an owner that died while holding it (Windows only).
   * POSIX gates have a shared mode; the Windows mutex is exclusive only, and
   * a shared requester holds it for a few microseconds.
   */
  tryEnter(mode: LockMode): boolean | 'abandoned';
  /** A one-line warning when the gate works with less reach than it should (Windows: Local\ instead of Global\). */
  readonly warning?: string;
  leave(): void;
  /** Lets go of the gate if held and closes it. Idempotent. */
  close(): void;
}

/**
 * The release signal of one lock file: cooperating holders notify it when
 * they let go, and a waiter retries at once instead of at its next poll.
 * The reference runner's poll schedule stays the fallback (foreign holders, a
 * missed wake-up), so a signal is only ever a hint.
 */
export interface ReleaseWaiter {
  /**
   * Resolves true when a release was signalled since the last wait (or
   * during this one), false after `ms`. Never ties up a thread for longer
   * than `ms`.
   */
  wait(ms: number, abort?: AbortSignal): Promise<boolean>;
  /**
   * Why releases cannot be heard at the moment (POSIX: the release file cannot be watched: no inotify instance or
   * watch left, a read-only side directory, the directory removed), as one line; undefined while they can. The
   * waiter then polls on a short schedule (acquire's POLL_UNHEARD_MS) and tries to watch again at each wait.
   */
  readonly unheard?: string;
  close(): void;
}

/** A holder of a lock as the kernel's own lock table lists it (any program, not only piplock). */
export interface KernelLockHolder {
  pid: number;
  mode: LockMode;
  command: string[];
  /**
   * Where the holder runs in another PID namespace than this process (a container on the same build directory):
   * that namespace and the holder's PID there, as its own registry entry names it.
   */
  inner?: { ns: string; pid: number };
}

/**
 * How to start a command so that it cannot outlive a runner that is killed;
 * or, as data, why the OS would refuse to run it (the runner reports it as the
 * shell would, status 126).
 */
export type SpawnPlan =
  | {
      command: string;
      args: string[];
      /** Call as soon as spawn() has returned. */
      spawned(): void;
    }
  | { refused: string };

/** See SpawnPlatform.signalWitness. */
export interface SignalWitness {
  /**
   * Whether the witness got `sig` too since it was last asked, so that the group got it; undefined where it cannot
   * tell. Having seen it, the witness renews itself for the next one.
   */
  saw(sig: NodeJS.Signals): boolean | undefined;
  /** Ends the witness. Idempotent. */
  close(): void;
}

/** Locks, the gate and the release signal of one lock file. */
export interface LockPlatform {
  /** The locking mechanism in use, for logs. */
  lockBackend(): string;
  /** Opens (creating if needed) the lock file. */
  openLockHandle(path: string): LockHandle;
  /**
   * A handle on a lock file that another process opened and passed down as
   * descriptor `fd` (the GN launcher): locking it locks the open file that
   * both share, which keeps the lock for as long as either has it open.
   * POSIX only; elsewhere a LockError.
   */
  adoptLockHandle(fd: number, path: string): LockHandle;
  /** Identity of the file a path names now, by the same means as LockHandle.identity(); undefined when nothing is there. */
  fileIdentity(path: string): FileIdentity | undefined;
  /**
   * The lock file's canonical path: absolute, symlinks resolved (those of its
   * directory when the file does not exist yet), and one spelling per file
   * where the file system ignores case (Windows: the case stored on disk), so
   * that two spellings of one file give one name and two files give two.
   */
  canonicalPath(lockfile: string): string;
  /**
   * The writer-preference gate of `lockfile`. `identity` is that of the lock
   * file the caller has open, where it has one: Windows names the gate after
   * it, and would otherwise open the path once more to read it.
   */
  openGate(lockfile: string, identity?: FileIdentity): Gate;
  /** Starts listening for releases of `lockfile`; call before the try that precedes the first wait. */
  listenForRelease(lockfile: string): ReleaseWaiter;
  /** Tells waiters on `lockfile` that a lock or the gate was let go. Cheap, and never throws. */
  signalRelease(lockfile: string): void;
  /** Holders of `file` in the kernel's lock table; empty where the OS does not list them. */
  kernelLockHolders(file: string): KernelLockHolder[];
  /** Whether a file may be deleted while it is open (POSIX) or only once closed (Windows). */
  readonly unlinkOpenFiles: boolean;
}

/** Other processes: telling one from a later one with the same PID, and this one's ancestry. */
export interface ProcessPlatform {
  /**
   * A token that tells process `pid` apart from a later one with the same PID; undefined where none can be read.
   * For a process that has ended but not yet been reaped (a zombie, which holds no lock any more), a token that
   * matches no recorded one.
   */
  startTag(pid: number): string | undefined;
  /**
   * This process's PID namespace (Linux: the inode number of /proc/self/ns/pid), so that registry entries of
   * runners in other namespaces (containers sharing a build directory) are told apart; absent or undefined where
   * the OS has none.
   */
  pidNamespace?(): string | undefined;
  /**
   * A life mark that needs no PID: `markAlive(fd)` takes an exclusive lock (flock) on an open file of this
   * process's own, which the kernel drops when the process ends, however it ends; `markedAlive(fd)`, on another
   * descriptor of that file, says whether a process still holds it (undefined where that cannot be told). Readers
   * in any PID namespace can tell, and neither a reused PID nor a zombie fools them. POSIX; absent on Windows.
   */
  markAlive?(fd: number): boolean;
  markedAlive?(fd: number): boolean | undefined;
  /**
   * Whether the process table read here (PIDs, parents, start tags, lock holders) is this process's own PID
   * namespace's. Not so on Linux in a PID namespace that shares the host's /proc (`unshare -p -f` without
   * --mount-proc): there /proc/<pid> is another process than `pid`, and startTag, ancestors and
   * kernelLockHolders answer nothing rather than the wrong thing. Absent: always true.
   */
  ownProcessTable?(): boolean;
  /**
   * A new anonymous file in memory (Linux: memfd_create), for output captured from a command: it needs no room in
   * $TMPDIR and leaves nothing behind. Undefined where the OS has none, or it cannot be made.
   */
  memoryFile?(name: string): number | undefined;
  /**
   * This process's arguments and environment as the bytes it was started with (Linux: /proc/self/cmdline and
   * /proc/self/environ), to tell which of them Node decoded with U+FFFD for bytes that are not UTF-8; absent or
   * undefined where the OS does not give them.
   */
  startBytes?(what: 'argv' | 'environ'): Buffer[] | undefined;
  /** Whether process `pid` is stopped (SIGSTOP, Ctrl-Z, a debugger); absent or undefined where that cannot be read. */
  stopped?(pid: number): boolean | undefined;
  /** The PIDs of this process's parent, its parent, and so on up, as far as they can be read. */
  ancestors(): number[];
  /** Whether environment variable names ignore case. */
  readonly caseInsensitiveEnv: boolean;
}

/** Starting the command, so that it never runs on without the runner that holds its lock. */
export interface SpawnPlatform {
  /**
   * Does before waiting what the spawn of `command` would otherwise do
   * between the lock and the command (PATH search, checks): the hand-off
   * then costs only the spawn.
   */
  prepareSpawn(command?: string, options?: SpawnOptions): void;
  /** The command line that starts `command` so that it dies with this process, where the OS allows. */
  spawnPlan(command: string, args: readonly string[], options: SpawnOptions): SpawnPlan;
  /** Signals the runner passes on to its command while it runs. */
  readonly forwardSignals: readonly NodeJS.Signals[];
  /**
   * A witness of the signals sent to this process's whole process group (a terminal's Ctrl-C, ninja interrupting
   * an action, `kill -- -PGID`), which the command, a member of that group, gets from the kernel by itself: the
   * runner passes on only those the witness did not see. Absent, or undefined, where none can be made.
   */
  signalWitness?(signals: readonly NodeJS.Signals[]): SignalWitness | undefined;
  /**
   * Signals the runner only outlives while its command runs: on Windows a
   * console Ctrl-C or Ctrl-Break already reaches every process on the
   * console, and Node's kill() there is TerminateProcess, so the runner waits
   * for the command to decide.
   */
  readonly outliveSignals: readonly NodeJS.Signals[];
  /** The Python interpreters to try, in order, when none is chosen (Windows: the py launcher first). */
  readonly defaultPythons: readonly (readonly string[])[];
  /** What to add to "command not found" where the OS searches PATH its own way (Windows: not with PATHEXT). */
  readonly notFoundHint?: string;
}

export interface Platform extends LockPlatform, ProcessPlatform, SpawnPlatform {
  /** The OS this implementation is for, as process.platform names it, or 'unsupported'. */
  readonly name: string;
}
