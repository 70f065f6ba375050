// Bench helper: takes the lock through the library, prints "held", keeps it
// WAIT_MS, then prints the epoch time in ns just before it lets go.
// usage: holder.js LOCKFILE WAIT_MS
import { acquire } from '../../src/lock/acquire';

async function main(): Promise<void> {
  const [lockfile, waitMs] = process.argv.slice(2) as [string, string];
  const lock = await acquire(lockfile, { mode: 'exclusive' });
  process.stdout.write('held\n');
  await new Promise((r) => setTimeout(r, Number(waitMs)));
  const t = process.hrtime.bigint() - hrAtEpoch0;
  lock.release();
  process.stdout.write(`released ${t}\n`);
}

// hrtime is monotonic; anchor it to the epoch once, in ns.
const hrAtEpoch0 = process.hrtime.bigint() - BigInt(Date.now()) * 1_000_000n;

void main();
