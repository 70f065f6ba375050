import { platform } from '../platform';
import type { LockMode } from '../platform';

/**
 * Nested runners. A runner tells its child which lock it holds through
 * PIPLOCK_HELD: one line `<mode>:<canonical lock file path>` per lock held by
 * an ancestor piplock (mode `shared` or `exclusive`; the path absolute, with
 * symlinks resolved; on Windows spelled as the file system stores the name,
 * on macOS lower-cased).
 */
export const HELD_ENV = 'PIPLOCK_HELD';

export interface HeldLock {
  mode: LockMode;
  path: string;
}

export function parseHeld(value: string | undefined): HeldLock[] {
  if (!value) return [];
  const out: HeldLock[] = [];
  for (const line of value.split('\n')) {
    const i = line.indexOf(':');
    const mode = line.slice(0, i);
    if (i > 0 && (mode === 'shared' || mode === 'exclusive')) out.push({ mode, path: line.slice(i + 1) });
  }
  return out;
}

/**
 * What a runner asking `mode` on `lockfile` does given its ancestors' locks:
 * 'lock' (no ancestor holds it: take it), 'inherited' (an ancestor holds it
 * in a mode that covers the request: run without locking), or a message when
 * the request can never be granted (exclusive inside a shared holder: it
 * would wait for its own ancestor).
 */
export function nestedDecision(lockfile: string, mode: LockMode, env: NodeJS.ProcessEnv = process.env): 'lock' | 'inherited' | { error: string } {
  const held = parseHeld(env[HELD_ENV]);
  if (held.length === 0) return 'lock';
  const canonical = platform.canonicalPath(lockfile);
  const mine = held.filter((h) => h.path === canonical);
  if (mine.length === 0) return 'lock';
  if (mode === 'shared' || mine.some((h) => h.mode === 'exclusive')) return 'inherited';
  return {
    error: `cannot take an exclusive lock on '${lockfile}': this process runs under a shared lock on it, held by an ancestor piplock (${HELD_ENV}), and would wait for itself`,
  };
}

/** The environment for a child of a runner that holds `mode` on `lockfile`. */
export function childEnv(lockfile: string, mode: LockMode, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const canonical = platform.canonicalPath(lockfile);
  const others = parseHeld(env[HELD_ENV]).filter((h) => h.path !== canonical);
  const lines = [...others.map((h) => `${h.mode}:${h.path}`), `${mode}:${canonical}`];
  return { ...env, [HELD_ENV]: lines.join('\n') };
}
