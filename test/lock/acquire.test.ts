import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { acquire, DEFAULT_BACKOFF_STEP_MS, DEFAULT_TIMEOUT_MS, tryAcquire, withLock } from '../../src/lock/acquire';
import { LockTimeoutError } from '../../src/base/errors';
import { startHolder } from '../support/holders';
import { tmpDir } from '../support/procs';

describe('acquire loop', function () {
  it("defaults to the reference runner's schedule: 50 ms x attempt, 30 minutes", function () {
    assert.equal(DEFAULT_BACKOFF_STEP_MS, 50);
    assert.equal(DEFAULT_TIMEOUT_MS, 30 * 60 * 1000);
  });

  it('waits 50 ms x attempt between tries, and gets in at the first try after the holder released', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive');
    const start = performance.now();
    const busyAt: number[] = [];
    const waiting = acquire(lockfile, { mode: 'shared', onBusy: () => busyAt.push(performance.now() - start) });
    // Let the waiter go through several rounds of the schedule before the release.
    await new Promise((r) => setTimeout(r, 800));
    await holder.release();
    const releasedAt = performance.now() - start;
    const lock = await waiting;
    const gotAt = performance.now() - start;
    lock.release();

    assert.ok(busyAt.length >= 3, `several busy tries before the release: ${busyAt.map(Math.round)}`);
    // The i-th sleep is i x 50 ms. Timers never fire early, but on Windows the wait is WaitForSingleObject,
    // which may return one system timer tick (15.625 ms) early; elsewhere allow 2 ms of clock rounding.
    const slack = process.platform === 'win32' ? 16 : 2;
    for (let i = 1; i < busyAt.length; i++) {
      assert.ok(busyAt[i]! - busyAt[i - 1]! >= 50 * i - slack, `gap ${i} was ${busyAt[i]! - busyAt[i - 1]!} ms`);
    }
    assert.ok(
      busyAt.every((t) => t < releasedAt),
      'no try found the lock busy after it was released',
    );
    // The next try comes (busy tries + 1) x 50 ms after the last busy one; a generous second on top for a loaded machine.
    const nextTry = busyAt[busyAt.length - 1]! + 50 * (busyAt.length + 1);
    assert.ok(
      gotAt <= Math.max(nextTry, releasedAt) + 1000,
      `got the lock at ${gotAt} ms, schedule allowed ${nextTry} ms`,
    );
  });

  it('gives up after the timeout with a LockTimeoutError naming the file, the mode and the wait', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'shared');
    try {
      const start = performance.now();
      const err = await acquire(lockfile, { mode: 'exclusive', timeoutMs: 400 }).then(
        () => assert.fail('acquired a lock that is held'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof LockTimeoutError);
      assert.ok(performance.now() - start >= 400 - 2, 'waited the whole timeout');
      assert.match(err.message, /timed out after [\d.]+ (ms|s) waiting for an exclusive lock on '.*pip\.lock'/);
      assert.equal(err.path, lockfile);
      assert.equal(err.mode, 'exclusive');
    } finally {
      await holder.release();
    }
  });

  it('timeout 0 tries exactly once', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive');
    let tries = 0;
    try {
      await assert.rejects(
        acquire(lockfile, { mode: 'shared', timeoutMs: 0, onBusy: () => tries++ }),
        LockTimeoutError,
      );
      assert.equal(tries, 1);
    } finally {
      await holder.release();
    }
  });

  it('stops waiting when its AbortSignal fires', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive');
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('stop waiting')), 200);
      await assert.rejects(acquire(lockfile, { signal: ac.signal }), /stop waiting/);
    } finally {
      await holder.release();
    }
    const lock = tryAcquire(lockfile, 'exclusive');
    assert.ok(lock, 'an aborted waiter leaves nothing locked');
    lock.release();
  });
});

describe('library API', function () {
  it('tryAcquire returns null when busy and a Lock otherwise', function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const a = tryAcquire(lockfile, 'shared');
    const b = tryAcquire(lockfile, 'shared');
    assert.ok(a && b);
    assert.equal(tryAcquire(lockfile, 'exclusive'), null);
    a.release();
    b.release();
    b.release(); // idempotent
    assert.ok(b.released);
  });

  it('await using releases the lock at the end of the block', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    {
      await using lock = await acquire(lockfile, { mode: 'exclusive' });
      assert.equal(lock.mode, 'exclusive');
      assert.equal(tryAcquire(lockfile, 'shared'), null);
    }
    const after = tryAcquire(lockfile, 'exclusive');
    assert.ok(after);
    after.release();
  });

  it('withLock releases the lock when the function throws', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    await assert.rejects(
      withLock(lockfile, { mode: 'exclusive' }, () => {
        assert.equal(tryAcquire(lockfile, 'shared'), null);
        throw new Error('boom');
      }),
      /boom/,
    );
    const after = tryAcquire(lockfile, 'exclusive');
    assert.ok(after);
    after.release();
  });

  it('withLock returns what the function returns', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    assert.equal(await withLock(lockfile, { mode: 'shared' }, async () => 42), 42);
  });
});
