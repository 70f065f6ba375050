// Take the exclusive lock only if it is free right now.
import { tryAcquire } from 'piplock';

const lock = tryAcquire(process.argv[2] ?? 'pip.lock', 'exclusive'); // a Lock, or null when busy
if (lock === null) {
  console.log('busy');
} else {
  console.log('free: locked, now releasing');
  lock.release();
}
