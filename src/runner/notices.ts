import type { LockMode } from '../../platform';
import { formatDuration, monotonicMs } from '../base/duration';
import type { Logger } from '../base/log';

/** The waiting notice: first after --notice-after (default 5 s), then every 30 s. */
export const DEFAULT_NOTICE_AFTER_MS = 5000;
export const NOTICE_EVERY_MS = 30_000;

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Says on stderr, while the runner waits, how long it has waited and who holds the lock. */
export function startNotices(lockfile: string, mode: LockMode, afterMs: number, log: Logger): () => void {
  const start = monotonicMs();
  let every: NodeJS.Timeout | undefined;
  const notice = (): void => {
    // Only now, after seconds of waiting, is the code that reads the registry loaded.
    const { describeHolders } = require('./holders') as typeof import('./holders');
    const waited = formatDuration(monotonicMs() - start);
    log.warn(
      `waited ${waited} for ${mode === 'exclusive' ? 'an' : 'a'} ${mode} lock on '${lockfile}'; ${describeHolders(lockfile)}`,
    );
  };
  // Past setTimeout's range (about 24.8 days) there is no notice, rather than one at once.
  if (!(afterMs <= MAX_TIMER_MS)) return () => {};
  const first = setTimeout(() => {
    notice();
    every = setInterval(notice, NOTICE_EVERY_MS);
    every.unref();
  }, afterMs);
  first.unref();
  return () => {
    clearTimeout(first);
    if (every) clearInterval(every);
  };
}
