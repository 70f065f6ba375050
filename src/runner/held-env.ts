import { identityText, platform } from '../../platform';
import type { FileIdentity, LockMode } from '../../platform';
import { relock } from '../lock/request';
import { isSameProcess, ownStartTag } from './process-identity';
import { inOwnNamespace, readRegistry } from './registry';

/**
 * Nested runners. A runner tells its child which lock it holds through
 * PIPLOCK_HELD: one line `<mode>:<pid>:<start tag>:<identity>:<canonical lock path>`
 * per lock held by an ancestor piplock. The identity is that of the file the
 * runner locked (`<dev>.<ino>`; on Windows volume serial and file ID), read
 * from its open handle; the path is absolute with symlinks resolved, read
 * once the file exists (on Windows spelt as the file system stores the name,
 * on macOS lower-cased), with `%`, CR and LF written as %25, %0D and %0A, so
 * that any path fits on one line. A runner whose lock file is one of these,
 * by identity (a hard link, a bind mount, another spelling) or by path, trusts
 * the line only if that PID is one of its ancestors and still the same
 * process (start tag), where the process table it reads is its own PID
 * namespace's, and, for an exclusive line, only if the lock is really
 * held exclusively; so that a value exported in a shell, left by a runner
 * that died, or raised from shared to exclusive by a descendant, never
 * switches locking off.
 */
export const HELD_ENV = 'PIPLOCK_HELD';

export interface HeldLock {
  mode: LockMode;
  pid: number;
  /** Empty where the OS gives no start tag. */
  start: string;
  /** The locked file's identity (platform identityText); empty where none was read. */
  id: string;
  path: string;
}

const LINE = /^(shared|exclusive):(\d+):(\d*):(\d+\.\d+|):(.+)$/;

function encodePath(p: string): string {
  return p.replace(/[%\r\n]/g, (c) => (c === '%' ? '%25' : c === '\r' ? '%0D' : '%0A'));
}

function decodePath(p: string): string {
  return p.replace(/%(25|0D|0A)/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The well-formed lines of PIPLOCK_HELD; `malformed` counts the others. */
export function parseHeld(value: string | undefined): { held: HeldLock[]; malformed: number } {
  const held: HeldLock[] = [];
  let malformed = 0;
  for (const line of (value ?? '').split('\n')) {
    if (line === '') continue;
    const m = LINE.exec(line);
    if (m) held.push({ mode: m[1] as LockMode, pid: Number(m[2]), start: m[3]!, id: m[4]!, path: decodePath(m[5]!) });
    else malformed++;
  }
  return { held, malformed };
}

function formatHeld(h: HeldLock): string {
  return `${h.mode}:${h.pid}:${h.start}:${h.id}:${encodePath(h.path)}`;
}

/** Whether `h` was written by a runner that is an ancestor of this process and still alive. */
function backedByAncestor(h: HeldLock): boolean {
  return platform.ancestors().includes(h.pid) && isSameProcess(h.pid, h.start) === true;
}

/** Whether an exclusive line tells the truth: then nobody, this process included, can have the lock shared. */
function heldExclusively(lockfile: string): boolean {
  try {
    const probe = relock(lockfile, 'shared');
    probe?.release();
    return probe === null;
  } catch {
    return false;
  }
}

/**
 * Whether the ancestor of an exclusive line holds its lock on a file since deleted or replaced at this path: the
 * probe then finds the path's new file free, until the ancestor's guard locks it too, and a nested runner that
 * locked that file itself would then wait for its own ancestor. The registry entry the ancestor wrote tells its
 * mode and the file it first locked, and names the launcher where the ancestor is the GN launcher, whose Node
 * runner wrote it.
 */
function holdsReplaced(lockfile: string, h: HeldLock, idNow: string): boolean {
  return readRegistry(lockfile).some(
    (e) =>
      (e.pid === h.pid || e.holder === h.pid) &&
      inOwnNamespace(e) &&
      e.state === 'holding' &&
      e.mode === 'exclusive' &&
      e.lock !== undefined &&
      e.lock !== idNow,
  );
}

function identityNow(lockfile: string): string {
  try {
    return identityText(platform.fileIdentity(lockfile));
  } catch {
    return '';
  }
}

export type NestedDecision =
  /** No ancestor holds the lock: take it. `warning` says why PIPLOCK_HELD was not trusted. */
  | { action: 'lock'; warning?: string }
  /** An ancestor holds it in a mode that covers the request: run without locking, while `holder` holds it. */
  | { action: 'inherited'; holder: HeldLock }
  /** The request can never be granted: exclusive inside a shared holder would wait for its own ancestor. */
  | { action: 'refuse'; error: string };

/** What a runner asking `mode` on `lockfile` does given PIPLOCK_HELD. */
export function nestedDecision(lockfile: string, mode: LockMode, env: NodeJS.ProcessEnv = process.env): NestedDecision {
  const value = env[HELD_ENV];
  if (!value) return { action: 'lock' };
  const canonical = platform.canonicalPath(lockfile);
  const id = identityNow(lockfile);
  const { held, malformed } = parseHeld(value);
  const mine = held.filter((h) => h.path === canonical || (h.id !== '' && h.id === id));
  if (mine.length === 0 && malformed === 0) return { action: 'lock' };
  const untrusted = (why: string): NestedDecision => ({
    action: 'lock',
    warning: `${HELD_ENV} says this lock is held, but ${why}; locking '${lockfile}' as usual`,
  });
  if (platform.ownProcessTable?.() === false) {
    return untrusted(
      'it cannot be checked: /proc belongs to another PID namespace (mount a /proc of this namespace to nest runners)',
    );
  }
  const backed = mine.filter(backedByAncestor);
  if (backed.length === 0) {
    return untrusted('no running ancestor piplock holds it (a value exported by hand, or left by a runner that died)');
  }
  const exclusive = backed.find((h) => h.mode === 'exclusive');
  if (exclusive !== undefined && (heldExclusively(lockfile) || holdsReplaced(lockfile, exclusive, id)))
    return { action: 'inherited', holder: exclusive };
  const shared = backed.find((h) => h.mode === 'shared');
  if (shared === undefined) return untrusted('nobody holds it exclusively');
  if (mode === 'shared') return { action: 'inherited', holder: shared };
  return {
    action: 'refuse',
    error: `cannot take an exclusive lock on '${lockfile}': this process runs under a shared lock on it, held by an ancestor piplock (${HELD_ENV}), and would wait for itself`,
  };
}

/**
 * The environment for the command of this runner, which holds `mode` on
 * `lockfile`, the file `identity` (computed once the file is open, so that the
 * path of a lock file that did not exist before, a dangling symlink, is its
 * own). `holder` is the process that the line names: this runner, or an
 * ancestor of the command that holds the lock with it (the GN launcher, whose
 * child runs the action and which is not a child of this runner).
 */
export function childEnv(
  lockfile: string,
  mode: LockMode,
  env: NodeJS.ProcessEnv = process.env,
  identity?: FileIdentity,
  holder = process.pid,
): NodeJS.ProcessEnv {
  const canonical = platform.canonicalPath(lockfile);
  const id = identityText(identity);
  const others = parseHeld(env[HELD_ENV]).held.filter((h) => h.path !== canonical && (id === '' || h.id !== id));
  const start = holder === process.pid ? ownStartTag() : platform.startTag(holder);
  const mine: HeldLock = { mode, pid: holder, start: start ?? '', id, path: canonical };
  return { ...env, [HELD_ENV]: [...others, mine].map(formatHeld).join('\n') };
}
