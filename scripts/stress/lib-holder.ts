// A stress-run participant that uses the library in-process: COUNT
// acquisitions in a row with acquire(), each writing its enter and exit lines
// itself while it holds the lock.
// usage: node lib-holder.js LOCKFILE LOG PARTICIPANT COUNT EXCLUSIVE_PERCENT [HOLD_MIN_MS HOLD_MAX_MS [TIMEOUT_MS]]
// PIPLOCK_STRESS_NOLOCK=1 (the harness's check-the-checker switch) gives every
// acquisition a lock file of its own, so that nothing excludes anything.
import * as fs from 'node:fs';
import { acquire } from '../../src/lock/acquire';

async function main(): Promise<void> {
  const [lockfile, log, participant, count, exclusivePct, holdMin, holdMax, timeout] = process.argv.slice(2) as [
    string,
    string,
    string,
    string,
    string,
    ...(string | undefined)[],
  ];
  const minMs = Number(holdMin ?? 0);
  const maxMs = Number(holdMax ?? 10);
  const timeoutMs = timeout === undefined ? undefined : Number(timeout);
  const fd = fs.openSync(log, 'a');
  const nolock = process.env.PIPLOCK_STRESS_NOLOCK === '1';
  for (let n = 0; n < Number(count); n++) {
    const mode = Math.random() * 100 < Number(exclusivePct) ? 'exclusive' : 'shared';
    const start = performance.now();
    const lock = await acquire(nolock ? `${lockfile}.${participant}.${n}` : lockfile, { mode, timeoutMs });
    const waited = performance.now() - start;
    fs.writeSync(fd, `E ${participant}.${n} ${mode} ${process.pid} t=${Date.now() / 1000} w=${waited.toFixed(1)}\n`);
    const hold = minMs + Math.floor(Math.random() * (maxMs - minMs));
    if (hold > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, hold);
    fs.writeSync(fd, `X ${participant}.${n}\n`);
    lock.release();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`lib-holder: ${(err as Error).message}\n`);
  process.exit(3);
});
