// A holder that deletes the lock file before it lets go of an exclusive lock,
// as some lock libraries do (the only time deleting is harmless to exclusion:
// nobody else holds that file), so that a waiter that had already opened the
// old file may lock a file that is no longer at the path. Each of COUNT
// rounds: acquire (exclusive or shared at random), write E and X lines (the
// stress checker's format) to LOG.ID, each after a monotonic timestamp, unlink
// the file if exclusive, release. One log per process, merged by timestamp
// (mergeLogs), because appends from several processes to one file can lose
// lines under Wine, which seeks to the end and then writes.
//
// usage: unlink-holder.js LOCKFILE LOG ID COUNT
// PIPLOCK_TEST_SABOTAGE=nosamefile takes the lock without the identity check
// (open, lock, done), so that the test can be shown to fail without it.
import * as fs from 'node:fs';
import { acquire } from '../../../src/lock/acquire';
import { platform } from '../../../platform';
import type { LockMode } from '../../../platform';
import { sabotaged } from '../sabotage';

async function naive(lockfile: string, mode: LockMode): Promise<{ release(): void }> {
  for (;;) {
    const h = platform.openLockHandle(lockfile);
    if (mode === 'exclusive' ? h.tryLock() : h.tryRLock()) return { release: () => h.close() };
    h.close();
    await new Promise((r) => setTimeout(r, 1 + Math.random() * 3));
  }
}

async function main(): Promise<void> {
  const [lockfile, log, id, count] = process.argv.slice(2) as [string, string, string, string];
  const fd = fs.openSync(`${log}.${id}`, 'a');
  const line = (text: string) => fs.writeSync(fd, `${process.hrtime.bigint()} ${text}\n`);
  const sabotage = sabotaged('nosamefile');
  for (let n = 0; n < Number(count); n++) {
    const mode: LockMode = Math.random() < 0.5 ? 'exclusive' : 'shared';
    const lock = sabotage ? await naive(lockfile, mode) : await acquire(lockfile, { mode, backoffStepMs: 2 });
    line(`E ${id}.${n} ${mode} ${process.pid}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.random() * 3);
    line(`X ${id}.${n}`);
    try {
      if (mode === 'exclusive') fs.unlinkSync(lockfile);
    } catch {
      // (Windows) still open elsewhere
    }
    lock.release();
  }
}

/** The logs of `ids`, one stress-checker log in the order of their timestamps (the clock is the system's monotonic one). */
export function mergeLogs(log: string, ids: string[]): string {
  const lines = ids.flatMap((id) =>
    fs
      .readFileSync(`${log}.${id}`, 'utf8')
      .split('\n')
      .filter((l) => l !== ''),
  );
  const stamped = lines.map((l) => {
    const space = l.indexOf(' ');
    return { at: BigInt(l.slice(0, space)), text: l.slice(space + 1) };
  });
  stamped.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return stamped.map((s) => `${s.text}\n`).join('');
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`unlink-holder: ${(err as Error).message}\n`);
    process.exit(3);
  });
