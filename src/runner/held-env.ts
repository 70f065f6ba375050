import { platform } from '../../platform';
import type { LockMode } from '../../platform';
import { isSameProcess, ownStartTag } from './process-identity';

/**
 * Nested runners. A runner tells its child which lock it holds through
 * PIPLOCK_HELD: one line `<mode>:<pid>:<start tag>:<canonical lock path>` per
 * lock held by an ancestor piplock. The path is absolute with symlinks
 * resolved; on Windows it is spelled as the file system stores the name, on
 * macOS lower-cased. A runner that finds its own lock file there trusts it
 * only if that PID is one of its ancestors and still the same process (start
 * tag), so that a value exported in a shell, or left by a runner that died,
 * never switches locking off.
 */
export const HELD_ENV = 'PIPLOCK_HELD';

export interface HeldLock {
  mode: LockMode;
  pid: number;
  /** Empty where the OS gives no start tag. */
  start: string;
  path: string;
}

const LINE = /^(shared|exclusive):(\d+):(\d*):(.+)$/;

/** The well-formed lines of PIPLOCK_HELD; `malformed` counts the others. */
export function parseHeld(value: string | undefined): { held: HeldLock[]; malformed: number } {
  const held: HeldLock[] = [];
  let malformed = 0;
  for (const line of (value ?? '').split('\n')) {
    if (line === '') continue;
    const m = LINE.exec(line);
    if (m) held.push({ mode: m[1] as LockMode, pid: Number(m[2]), start: m[3]!, path: m[4]! });
    else malformed++;
  }
  return { held, malformed };
}

/** Whether `h` was written by a runner that is an ancestor of this process and still alive. */
function backedByAncestor(h: HeldLock): boolean {
  return platform.ancestors().includes(h.pid) && isSameProcess(h.pid, h.start) === true;
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
  const { held, malformed } = parseHeld(value);
  const mine = held.filter((h) => h.path === canonical);
  const backed = mine.filter(backedByAncestor);
  if (backed.length === 0) {
    if (mine.length === 0 && malformed === 0) return { action: 'lock' };
    return {
      action: 'lock',
      warning: `${HELD_ENV} says this lock is held, but no running ancestor piplock holds it (a value exported by hand, or left by a runner that died); locking '${lockfile}' as usual`,
    };
  }
  const holder = backed.find((h) => h.mode === 'exclusive') ?? (mode === 'shared' ? backed[0] : undefined);
  if (holder !== undefined) return { action: 'inherited', holder };
  return {
    action: 'refuse',
    error: `cannot take an exclusive lock on '${lockfile}': this process runs under a shared lock on it, held by an ancestor piplock (${HELD_ENV}), and would wait for itself`,
  };
}

/** The environment for a child of this runner, which holds `mode` on `lockfile`. */
export function childEnv(lockfile: string, mode: LockMode, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const canonical = platform.canonicalPath(lockfile);
  const others = parseHeld(env[HELD_ENV]).held.filter((h) => h.path !== canonical);
  const mine: HeldLock = { mode, pid: process.pid, start: ownStartTag() ?? '', path: canonical };
  const lines = [...others, mine].map((h) => `${h.mode}:${h.pid}:${h.start}:${h.path}`);
  return { ...env, [HELD_ENV]: lines.join('\n') };
}
