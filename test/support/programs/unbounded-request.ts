// The request of lock/gate-stall.test.ts under PIPLOCK_TEST_SABOTAGE=nostallbound: the runner's GatedRequest with no
// bound on how long its gate may stay busy over a free lock (stallMs = Infinity), tried every 50 ms until it has the
// lock or TIMEOUT_MS has passed. Exits 0 once it has the lock, 1 with "timed out" on stderr when it never got it.
//
// usage: programs/unbounded-request.js LOCKFILE shared|exclusive TIMEOUT_MS
import { GatedRequest } from '../../../src/lock/request';

const [lockfile, mode, timeout] = process.argv.slice(2);
if (lockfile === undefined || (mode !== 'shared' && mode !== 'exclusive') || !(Number(timeout) >= 0)) {
  process.stderr.write('usage: programs/unbounded-request.js LOCKFILE shared|exclusive TIMEOUT_MS\n');
  process.exit(2);
}
const request = new GatedRequest(lockfile, mode, undefined, undefined, Infinity);
const deadline = performance.now() + Number(timeout);
const poll = (): void => {
  const r = request.tryOnce();
  if ('lock' in r) {
    r.lock.release();
    request.close();
    process.exit(0);
  }
  if (performance.now() >= deadline) {
    request.close();
    process.stderr.write(
      `unbounded-request: timed out after ${timeout} ms waiting for a ${mode} lock on '${lockfile}'\n`,
    );
    process.exit(1);
  }
  setTimeout(poll, 50);
};
poll();
