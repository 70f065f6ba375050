/**
 * Preload (node -r dist/scripts/bench/require-timer.js ...) that times every
 * require() of the process it is loaded into and, at exit, writes to stderr
 * the slowest ones: inclusive ms (with what they require), then the module.
 * PIPLOCK_REQUIRE_TIMER_TOP sets how many (default 15).
 */
const Module = require('node:module') as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
import * as fs from 'node:fs';

const t0 = performance.now();
const seen: Array<[number, string]> = [];
const load = Module._load;
Module._load = function timed(request, parent, isMain) {
  const t = performance.now();
  try {
    return load.call(this, request, parent, isMain);
  } finally {
    const ms = performance.now() - t;
    if (ms > 0.05) seen.push([ms, request]);
  }
};
process.on('exit', () => {
  const top = Number(process.env.PIPLOCK_REQUIRE_TIMER_TOP ?? 15);
  const lines = seen
    .sort((a, b) => b[0] - a[0])
    .slice(0, top)
    .map(([ms, req]) => `${ms.toFixed(2).padStart(7)} ms  ${req}`);
  fs.writeSync(
    2,
    `require-timer: ${(performance.now() - t0).toFixed(1)} ms from preload to exit; slowest require() calls, inclusive:\n${lines.join('\n')}\n`,
  );
});
