// Wait for a shared lock, hold it for a block, give up after a timeout or on Ctrl-C.
import { acquire, LockTimeoutError } from 'piplock';

async function main(lockfile: string): Promise<void> {
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort(new Error('interrupted')));
  try {
    await using lock = await acquire(lockfile, { mode: 'shared', timeoutMs: 2_000, signal: stop.signal });
    console.log(`holding a ${lock.mode} lock on ${lock.path}`);
    // ... read the virtualenv; the lock is released at the end of the block
  } catch (err) {
    if (!(err instanceof LockTimeoutError)) throw err;
    console.error(`gave up after ${Math.round(err.waitedMs)} ms`);
    process.exitCode = 1;
  }
}

void main(process.argv[2] ?? 'pip.lock');
