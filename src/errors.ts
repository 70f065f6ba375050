import type { LockMode } from '../platform';

export class LockTimeoutError extends Error {
  constructor(
    readonly path: string,
    readonly mode: LockMode,
    readonly waitedMs: number,
  ) {
    super(`timed out after ${formatDuration(waitedMs)} waiting for ${mode === 'exclusive' ? 'an' : 'a'} ${mode} lock on '${path}'`);
    this.name = 'LockTimeoutError';
  }
}

/** A problem with what the user asked for: shown as one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s === 0 ? `${m} min` : `${m} min ${s} s`;
}
