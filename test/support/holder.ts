// A lock holder in its own process, driven over stdin/stdout by the tests:
// prints "locked" once it holds the lock, releases on a "release" line (or
// when stdin closes) and prints "released" before exiting.
//
// usage: holder.js LOCKFILE shared|exclusive
// PIPLOCK_TEST_SABOTAGE=nolock makes it pretend: it says "locked" without
// locking, so that the safety tests can be shown to fail without the lock.
import { acquire } from '../../src/acquire';
import type { LockMode } from '../../platform';

async function main(): Promise<void> {
  const [lockfile, mode] = process.argv.slice(2) as [string, LockMode];
  const sabotage = process.env.PIPLOCK_TEST_SABOTAGE === 'nolock';
  const lock = sabotage ? undefined : await acquire(lockfile, { mode });
  process.stdout.write(`locked ${process.pid}\n`);
  const release = (): void => {
    lock?.release();
    process.stdout.write('released\n', () => process.exit(0));
  };
  process.stdin.on('data', (d) => {
    if (d.toString().includes('release')) release();
  });
  process.stdin.on('end', release);
}

main().catch((err: unknown) => {
  process.stderr.write(`holder: ${(err as Error).message}\n`);
  process.exit(3);
});
