// A lock holder in a process of its own, driven by test/support/holders.ts.
//
// usage: holder.js LOCKFILE shared|exclusive [--bare] [--try]
//   --bare  lock with a bare platform handle (no gate, no identity check),
//           to test the platform layer; otherwise through the library (acquire).
//   --try   try once; otherwise wait until the lock is granted.
//
// Prints one line: "locked <pid>", "busy" (only with --try; then exits) or
// "error <message>" (then exits 1). Once locked it holds the lock until a
// "release" line or the end of stdin, then prints "released" and exits.
//
// PIPLOCK_TEST_SABOTAGE=nolock makes it pretend: it says "locked" without
// locking, so that the safety tests can be shown to fail without the lock.
import { setTimeout as sleep } from 'node:timers/promises';
import { acquire, tryAcquire } from '../../../src/lock/acquire';
import { platform } from '../../../platform';
import type { LockMode } from '../../../platform';
import { sabotaged } from '../sabotage';

const USAGE = 'usage: holder.js LOCKFILE shared|exclusive [--bare] [--try]';

function say(line: string, then?: () => void): void {
  process.stdout.write(`${line}\n`, then);
}

/** The bare handle's lock, or null when busy; waits by polling unless `once`. */
async function lockBare(lockfile: string, mode: LockMode, once: boolean): Promise<(() => void) | null> {
  for (let attempt = 1; ; attempt++) {
    const h = platform.openLockHandle(lockfile);
    if (mode === 'exclusive' ? h.tryLock() : h.tryRLock()) return () => h.close();
    h.close();
    if (once) return null;
    await sleep(Math.min(10 * attempt, 200));
  }
}

async function lockWithLibrary(lockfile: string, mode: LockMode, once: boolean): Promise<(() => void) | null> {
  const lock = once ? tryAcquire(lockfile, mode) : await acquire(lockfile, { mode });
  return lock && (() => lock.release());
}

async function main(): Promise<void> {
  const [lockfile, mode, ...flags] = process.argv.slice(2);
  const unknown = flags.filter((f) => f !== '--bare' && f !== '--try');
  if (lockfile === undefined || (mode !== 'shared' && mode !== 'exclusive') || unknown.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const once = flags.includes('--try');
  const take = flags.includes('--bare') ? lockBare : lockWithLibrary;
  const release = sabotaged('nolock') ? () => {} : await take(lockfile, mode, once);
  if (release === null) {
    say('busy', () => process.exit(0));
    return;
  }
  say(`locked ${process.pid}`);
  let done = false;
  const letGo = (): void => {
    if (done) return;
    done = true;
    release();
    say('released', () => process.exit(0));
  };
  process.stdin.on('data', (d) => {
    if (d.toString().includes('release')) letGo();
  });
  process.stdin.on('end', letGo);
}

main().catch((err: unknown) => {
  say(`error ${(err as Error).message.replace(/\r?\n/g, ' ')}`, () => process.exit(1));
});
