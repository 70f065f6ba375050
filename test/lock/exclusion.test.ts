import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { tryAcquire } from '../../src/lock/acquire';
import { startHolder } from '../support/holders';
import { aMode, READER_WRITER } from '../support/matrix';
import { nodeEval, runCli, tmpDir } from '../support/procs';

// The reader-writer matrix, each time between two real processes: a holder,
// and a second process that tries once (the CLI with --timeout 0).

describe('reader-writer exclusion between processes', function () {
  for (const { held, asked, coexist } of READER_WRITER) {
    it(`${asked} request ${coexist ? 'coexists with' : 'is refused by'} ${aMode(held)} holder in another process`, async function () {
      const lockfile = path.join(tmpDir(), 'pip.lock');
      const holder = await startHolder(lockfile, held);
      try {
        const r = await runCli(['--lockfile', lockfile, '--mode', asked, '--timeout', '0', '--', ...nodeEval('0')]);
        assert.equal(r.status, coexist ? 0 : 1, `second process: ${r.stderr}`);
        if (!coexist) assert.match(r.stderr, /busy: cannot take an? (shared|exclusive) lock on '.*' without waiting; /);
        const inProcess = tryAcquire(lockfile, asked);
        assert.equal(inProcess !== null, coexist, 'in-process try');
        inProcess?.release();
      } finally {
        await holder.release();
      }
      const after = tryAcquire(lockfile, 'exclusive');
      assert.ok(after, 'the lock is free once the holder released it');
      after.release();
    });
  }

  it('a second handle in the same process is refused an exclusive lock', function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const first = tryAcquire(lockfile, 'exclusive');
    assert.ok(first);
    try {
      assert.equal(tryAcquire(lockfile, 'exclusive'), null);
      assert.equal(tryAcquire(lockfile, 'shared'), null);
    } finally {
      first.release();
    }
    const again = tryAcquire(lockfile, 'shared');
    assert.ok(again);
    again.release();
  });

  it('the lock is free again once its holder is killed', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive');
    assert.equal(tryAcquire(lockfile, 'shared'), null, 'held before the kill');
    await holder.kill(); // SIGKILL; TerminateProcess on Windows
    const lock = tryAcquire(lockfile, 'exclusive');
    assert.ok(lock, 'free at once after the holder died');
    lock.release();
  });
});
