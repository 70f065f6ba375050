/**
 * Waiting acquire() calls leave libuv's thread pool to the rest of the
 * process: on Windows a waiter that blocked a pool thread in
 * WaitForSingleObject for its whole poll interval took the default pool of
 * four with four waiters, and every fs.promises, dns.lookup, zlib and crypto
 * call then waited behind them.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acquire } from '../../src/lock/acquire';
import type { Lock } from '../../src/lock/lock';
import { startHolder } from '../support/holders';
import { eventually, tmpDir } from '../support/procs';

const WAITERS = 8;
/** Each waiter's first pause: long, so that a waiter holding a pool thread for its pause holds it for all of this test. */
const STEP_MS = 20_000;
/** fs.promises.readFile of a small file takes a few milliseconds; the bound is generous for a loaded machine, and far below STEP_MS. */
const READ_BOUND_MS = 3000;

describe('waiting and the libuv thread pool', function () {
  it(`fs.promises.readFile completes at once while ${WAITERS} acquire() calls wait`, async function () {
    this.timeout(120_000);
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const file = path.join(dir, 'data.txt');
    fs.writeFileSync(file, 'x'.repeat(1000));
    const holder = await startHolder(lockfile, 'exclusive');
    let busy = 0;
    const waits: Promise<Lock>[] = [];
    try {
      for (let i = 0; i < WAITERS; i++)
        waits.push(
          acquire(lockfile, { mode: 'shared', backoffStepMs: STEP_MS, timeoutMs: 100_000, onBusy: () => void busy++ }),
        );
      assert.ok(await eventually(() => busy >= WAITERS, 30_000), `every waiter found the lock busy (${busy})`);
      await new Promise((r) => setTimeout(r, 200)); // each is in its first pause now
      const start = performance.now();
      assert.equal(await fs.promises.readFile(file, 'utf8'), 'x'.repeat(1000));
      const took = performance.now() - start;
      assert.ok(took < READ_BOUND_MS, `readFile took ${Math.round(took)} ms while ${WAITERS} acquire() calls waited`);
    } finally {
      await holder.release();
    }
    // Every waiter is woken by the release, long before its next poll: they were waiting, not stuck.
    const released = performance.now();
    const locks = await Promise.all(waits);
    const after = performance.now() - released;
    for (const l of locks) l.release();
    assert.ok(after < STEP_MS / 2, `the waiters got the lock ${Math.round(after)} ms after the release`);
  });
});
