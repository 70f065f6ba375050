import { notADuration, parseDuration } from '../base/duration';
import { UsageError } from '../base/errors';
import { LOG_LEVELS } from '../base/log';
import type { LogLevel } from '../base/log';
import { quoteValue } from '../base/quote';

/**
 * Settings a build can give every runner through the environment, where a
 * GN build arg or a CI job sets them once: PIPLOCK_TIMEOUT,
 * PIPLOCK_LOG_LEVEL and PIPLOCK_NOTICE_AFTER. A flag on the command line wins
 * over its variable.
 */
export interface EnvSettings {
  timeoutMs?: number;
  logLevel?: LogLevel;
  noticeAfterMs?: number;
}

function duration(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${name}: ${notADuration(text)}`);
  return ms;
}

/** The settings the environment gives; throws UsageError naming a variable with a bad value. */
export function envSettings(env: NodeJS.ProcessEnv = process.env): EnvSettings {
  const out: EnvSettings = {};
  const timeoutMs = duration(env, 'PIPLOCK_TIMEOUT');
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  const noticeAfterMs = duration(env, 'PIPLOCK_NOTICE_AFTER');
  if (noticeAfterMs !== undefined) out.noticeAfterMs = noticeAfterMs;
  const level = env.PIPLOCK_LOG_LEVEL;
  if (level !== undefined && level !== '') {
    const lower = level.toLowerCase();
    if (!(LOG_LEVELS as readonly string[]).includes(lower))
      throw new UsageError(
        `PIPLOCK_LOG_LEVEL: invalid choice ${quoteValue(level)} (choose from ${LOG_LEVELS.join(', ')})`,
      );
    out.logLevel = lower as LogLevel;
  }
  return out;
}
