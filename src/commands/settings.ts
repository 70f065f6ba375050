import { UsageError } from '../base/errors';
import { LOG_LEVELS } from '../base/log';
import type { LogLevel } from '../base/log';
import { choice, durationValue } from '../base/options';
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

/** A variable's value through an option's parse function, its errors naming the variable. */
function fromEnv<T>(env: NodeJS.ProcessEnv, name: string, parse: (text: string) => T): T | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  try {
    return parse(text);
  } catch (err) {
    throw err instanceof UsageError ? new UsageError(`${name}: ${err.message}`) : err;
  }
}

/** The settings the environment gives; throws UsageError naming a variable with a bad value. */
export function envSettings(env: NodeJS.ProcessEnv = process.env): EnvSettings {
  const out: EnvSettings = {};
  const timeoutMs = fromEnv(env, 'PIPLOCK_TIMEOUT', durationValue);
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  const noticeAfterMs = fromEnv(env, 'PIPLOCK_NOTICE_AFTER', durationValue);
  if (noticeAfterMs !== undefined) out.noticeAfterMs = noticeAfterMs;
  const logLevel = fromEnv(env, 'PIPLOCK_LOG_LEVEL', choice(LOG_LEVELS, true));
  if (logLevel !== undefined) out.logLevel = logLevel;
  return out;
}

/** A label is shown on terminals and written in one-line messages: no control characters. */
export function checkLabel(label: string | undefined): void {
  if (label === undefined) return;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new UsageError(`--label: ${quoteValue(label)} has a control character`);
  }
}
