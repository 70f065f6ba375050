import * as fs from 'node:fs';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'text' | 'json';
type Fields = Record<string, unknown>;

const LEVEL_VALUE: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const LEVEL_NAME: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export interface Logger {
  enabled(level: LogLevel): boolean;
  trace(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

interface PinoLike {
  [level: string]: unknown;
}

function textLine(json: string): string {
  const { level, time: _t, pid: _p, hostname: _h, name: _n, msg, ...rest } = JSON.parse(json) as Fields;
  const extra = Object.entries(rest)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join('');
  return `piplock: ${LEVEL_NAME[level as number] ?? 'log'}: ${String(msg)}${extra}\n`;
}

/**
 * pino behind a level check: the runner is quiet on its common path, and pino
 * is only loaded when a message is actually written, which keeps it off the
 * start-up cost of every build action. Writes are synchronous so that a line
 * is on stderr before the process exits.
 */
export function createLogger(level: LogLevel = 'warn', format: LogFormat = 'text'): Logger {
  const threshold = LEVEL_VALUE[level];
  let pino: PinoLike | undefined;
  const get = (): PinoLike => {
    if (pino) return pino;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const create = require('pino') as typeof import('pino');
    const dest =
      format === 'json'
        ? create.destination({ dest: 2, sync: true })
        : { write: (s: string) => void fs.writeSync(2, textLine(s)) };
    pino = create.default({ level, base: { pid: process.pid }, name: 'piplock' }, dest) as unknown as PinoLike;
    return pino;
  };
  const at =
    (lvl: LogLevel) =>
    (msg: string, fields?: Fields): void => {
      if (LEVEL_VALUE[lvl] < threshold) return;
      (get()[lvl] as (o: Fields, m: string) => void)(fields ?? {}, msg);
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
