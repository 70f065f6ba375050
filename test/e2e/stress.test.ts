import * as assert from 'node:assert/strict';
import { check } from '../../scripts/stress/checker';
import { availableKinds, defaultOptions, formatSummary, runStress } from '../../scripts/stress/stress';
import type { StressOptions } from '../../scripts/stress/stress';
import { IS_WINDOWS } from '../support/paths';
import { sabotaged } from '../support/sabotage';

describe('stress checker', function () {
  it('passes shared holders that overlap and exclusive ones that do not', function () {
    const r = check(
      [
        'E a.0 shared 1',
        'E b.0 shared 2',
        'X a.0',
        'X b.0',
        'E c.0 exclusive 3',
        'X c.0',
        'E d.0 shared 4',
        'X d.0',
        '',
      ].join('\n'),
    );
    assert.equal(r.acquisitions, 4);
    assert.equal(r.exclusive, 1);
    assert.deepEqual(r.violations, []);
    assert.equal(r.maxConcurrent, 2);
  });

  it('reports an exclusive holder that overlaps a shared one, in either order', function () {
    assert.equal(check('E a.0 shared 1\nE b.0 exclusive 2\nX a.0\nX b.0\n').violations.length, 1);
    assert.equal(check('E a.0 exclusive 1\nE b.0 shared 2\nX b.0\nX a.0\n').violations.length, 1);
    assert.equal(check('E a.0 exclusive 1\nE b.0 exclusive 2\nX a.0\nX b.0\n').violations[0]?.entered, 'b.0');
  });

  it('ends a killed holder at its K line, but not a command that writes after it', function () {
    assert.equal(check('E a.0 exclusive 1\nK a\nE b.0 exclusive 2\nX b.0\n').violations.length, 0);
    // The command outlived its killed runner and wrote after someone else entered.
    assert.equal(check('E a.0 exclusive 1\nK a\nE b.0 shared 2\nX a.0\nX b.0\n').violations.length, 1);
    assert.equal(check('E a.0 exclusive 1\nK a\nE b.0 shared 2\n').killedHolding, 1);
  });

  it('counts lines it cannot read', function () {
    assert.deepEqual(check('E a.0 shared 1\nX a.0 X b.0\n').malformed, ['X a.0 X b.0']);
  });
});

describe('stress run (short)', function () {
  this.timeout(240_000);

  function shortOptions(): StressOptions {
    // Linux: ~250 acquisitions of every kind with kills, ~10 s on 2 cores. Under Wine every process start costs ~0.3 s.
    // The deadline and lock timeout turn a participant stuck for good into a reported error well within this test's timeout.
    const bounds = { deadlineMs: 120_000, lockTimeoutMs: 60_000 };
    return IS_WINDOWS
      ? { ...defaultOptions(), ...bounds, workers: 3, acquisitions: 10, killRate: 0.2, exclusivePct: 35 }
      : { ...defaultOptions(), ...bounds, workers: 8, acquisitions: 30, killRate: 0.1 };
  }

  it('no exclusive holder overlaps another holder, with random kills, across every kind of participant', async function () {
    // PIPLOCK_TEST_SABOTAGE=nolock runs it with locking off: it must then fail.
    const opts = { ...shortOptions(), noLock: sabotaged('nolock') };
    const s = await runStress(opts);
    const report = formatSummary(s, opts);
    assert.deepEqual(s.malformed, [], report);
    assert.deepEqual(s.errors, [], report);
    assert.deepEqual(s.violations, [], report);
    assert.ok(s.freeAfter, report);
    assert.deepEqual(s.statusAfter, [], report);
    // Liveness: every participant that was not killed got the lock. How many started before the deadline
    // depends on the machine's load, and is not what this test is about.
    assert.ok(s.acquisitions > 0 && s.acquisitions >= s.participants - s.kills, report);
    assert.ok(s.exclusive > 0 && s.shared > 0, report);
    assert.deepEqual(s.kindsUsed, availableKinds());
  });

  it('checks the checker: with locking switched off in the harness it reports violations', async function () {
    // Holds of 300 ms or more against process starts of ~0.3 s (Wine) make overlaps, without a lock, all but certain;
    // a few tries make a miss practically impossible.
    const opts = { ...shortOptions(), deadlineMs: 60_000, noLock: true, killRate: 0, exclusivePct: 50, minHoldMs: 300 };
    let violations = 0;
    for (let i = 0; i < 3 && violations === 0; i++) violations = (await runStress(opts)).violations.length;
    assert.ok(violations > 0, 'no violation seen with locking off: the checker (or the harness) proves nothing');
  });
});
