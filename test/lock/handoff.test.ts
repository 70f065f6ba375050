import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { acquire } from '../../src/lock/acquire';
import { startHolder } from '../support/holders';
import { tmpDir } from '../support/procs';

describe('hand-off', function () {
  for (const [held, asked] of [
    ['exclusive', 'shared'],
    ['shared', 'exclusive'],
  ] as const) {
    it(`${asked === 'shared' ? 'a' : 'an'} ${asked} waiter gets the lock as soon as ${held === 'shared' ? 'a' : 'an'} ${held} holder lets go, well before the reference runner's next try`, async function () {
      const lockfile = path.join(tmpDir(), 'pip.lock');
      const holder = await startHolder(lockfile, held);
      const start = performance.now();
      let releaseAsked: number | undefined;
      let nextPoll = 0;
      let released: Promise<void> | undefined;
      const lock = await acquire(lockfile, {
        mode: asked,
        onBusy: (attempt, waited) => {
          // After a several-second wait, let go right after a busy try: the reference runner would next try attempt x 50 ms later.
          if (waited >= 3000 && releaseAsked === undefined) {
            releaseAsked = performance.now() - start;
            nextPoll = releaseAsked + 50 * attempt;
            released = holder.release();
          }
        },
      });
      const gotAt = performance.now() - start;
      lock.release();
      await released;
      assert.ok(releaseAsked !== undefined);
      const interval = nextPoll - releaseAsked;
      assert.ok(interval >= 500, `the poll interval had grown to ${interval} ms`);
      // The hand-off includes the release round trip to the holder process; half the interval is a generous bound.
      assert.ok(
        gotAt < releaseAsked + interval / 2,
        `got the lock ${Math.round(gotAt - releaseAsked)} ms after asking the holder to let go; the reference runner would have tried again after ${interval} ms`,
      );
    });
  }
});
