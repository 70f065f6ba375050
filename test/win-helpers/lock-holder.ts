/**
 * Child process for the Windows lock tests.
 * Usage: node lock-holder.js <lock path> <shared|exclusive>
 * Prints one line, "locked", "busy" or "error <message>". When it got the
 * lock it keeps it until its stdin ends (or it is killed), then exits.
 */
import { platform } from '../../platform';

const [file, mode] = process.argv.slice(2);
if (file === undefined || (mode !== 'shared' && mode !== 'exclusive')) {
  process.stderr.write('usage: lock-holder.js <lock path> <shared|exclusive>\n');
  process.exit(2);
}

let handle;
try {
  handle = platform.openLockHandle(file);
} catch (err) {
  process.stdout.write(`error ${(err as Error).message}\n`);
  process.exit(1);
}
const locked = mode === 'exclusive' ? handle.tryLock() : handle.tryRLock();
process.stdout.write(locked ? 'locked\n' : 'busy\n');
if (locked) {
  const h = handle;
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => h.close());
} else {
  handle.close();
}
