import { quoteValue } from './quote';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90", "90s", "1.5m", "500ms" to milliseconds; a bare number is seconds. Undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNITS[m[2] ?? 's']!;
  return Number.isFinite(ms) ? ms : undefined;
}

/** The message for a value that parseDuration refused. */
export function notADuration(text: string): string {
  return `${quoteValue(text)} is not a duration: use seconds, or a number with ms, s, m or h`;
}

/** "350 ms", "2.5 s", "3 min 5 s". Rounded before the unit is chosen, so that 999.6 ms is "1.0 s", never "1000 ms". */
export function formatDuration(ms: number): string {
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return s === 0 ? `${m} min` : `${m} min ${s} s`;
}

/**
 * A monotonic clock in milliseconds. process.hrtime rather than
 * performance.now(): the first use of the global `performance` loads
 * perf_hooks and its dependencies, which every run would pay for a timestamp.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
