import fs = require('node:fs');

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'text' | 'json';
type Fields = Record<string, unknown>;
type Level = Exclude<LogLevel, 'silent'>;

const LEVEL_VALUE: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: Infinity };

export interface Logger {
  enabled(level: LogLevel): boolean;
  trace(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

/** `piplock: warn: message key=value ...`, one line; lists and objects are for JSON lines, and the message says them. */
function textLine(level: Level, msg: string, fields: Fields): string {
  const extra = Object.entries(fields)
    .filter(([, v]) => typeof v !== 'object' || v === null)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join('');
  return `piplock: ${level}: ${msg}${extra}\n`;
}

/**
 * A logger behind a level check: the runner is quiet on its common path.
 * Text lines are written directly; JSON lines come from pino, loaded only when
 * one is written, which keeps it off the start-up cost of every build action.
 * Writes are synchronous so that a line is on stderr before the process exits.
 */
export function createLogger(level: LogLevel = 'warn', format: LogFormat = 'text'): Logger {
  const threshold = LEVEL_VALUE[level];
  let pino: Record<Level, (o: Fields, m: string) => void> | undefined;
  const json = (lvl: Level, msg: string, fields: Fields): void => {
    if (!pino) {
      const create = require('pino') as typeof import('pino');
      pino = create.default(
        { level, base: { pid: process.pid }, name: 'piplock' },
        create.destination({ dest: 2, sync: true }),
      ) as unknown as typeof pino;
    }
    pino![lvl](fields, msg);
  };
  const at =
    (lvl: Level) =>
    (msg: string, fields: Fields = {}): void => {
      if (LEVEL_VALUE[lvl] < threshold) return;
      if (format === 'json') json(lvl, msg, fields);
      else fs.writeSync(2, textLine(lvl, msg, fields));
    };
  return {
    enabled: (lvl) => LEVEL_VALUE[lvl] >= threshold,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

/**
 * An error line written before any logger exists (a usage error, a bad
 * setting), in the format the command line asked for: `piplock: error: ...`,
 * or a line as pino writes one at level `error`.
 */
export function errorLine(msg: string, format: LogFormat = 'text'): string {
  if (format === 'text') return `piplock: error: ${msg}\n`;
  return `${JSON.stringify({ level: LEVEL_VALUE.error, time: Date.now(), pid: process.pid, name: 'piplock', msg })}\n`;
}
