// A build stand-in for the writer-preference tests: takes a shared lock,
// holds it HOLD_MS, lets go and at once asks again, until stdin closes.
// Prints "holding" the first time it holds the lock.
//
// usage: shared-loop.js LOCKFILE HOLD_MS gate|nogate
// "nogate" polls the main lock with the platform handle directly (the reference
// runner's algorithm, as scripts/reference-lock.py and flock(1) do), ignoring the gate: the
// tests use it to show an exclusive request starving without the gate.
// PIPLOCK_TEST_SABOTAGE=nogate forces it, so that the writer-preference
// test can be seen to fail without the gate.
import { setTimeout as sleep } from 'node:timers/promises';
import { acquire } from '../../../src/lock/acquire';
import { platform } from '../../../platform';
import { sabotaged } from '../sabotage';

async function takeWithoutGate(lockfile: string): Promise<() => void> {
  for (let attempt = 1; ; attempt++) {
    const h = platform.openLockHandle(lockfile);
    if (h.tryRLock()) return () => h.close();
    h.close();
    await sleep(50 * attempt);
  }
}

async function main(): Promise<void> {
  const [lockfile, holdText, how] = process.argv.slice(2) as [string, string, string];
  const hold = Number(holdText);
  const gate = how === 'gate' && !sabotaged('nogate');
  let stop = false;
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => (stop = true));
  let first = true;
  while (!stop) {
    let release: () => void;
    if (gate) {
      const lock = await acquire(lockfile, { mode: 'shared' });
      release = () => lock.release();
    } else {
      release = await takeWithoutGate(lockfile);
    }
    if (first) process.stdout.write('holding\n');
    first = false;
    await sleep(hold);
    release();
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`shared-loop: ${(err as Error).message}\n`);
  process.exit(3);
});
