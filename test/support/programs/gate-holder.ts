// Holds the writer-preference gate of LOCKFILE, as an exclusive request waiting for the lock does (or one that is
// stopped, or a foreign process), without ever trying the lock itself. Prints "holding"; lets go at the end of stdin.
//
// usage: programs/gate-holder.js LOCKFILE
import { platform } from '../../../platform';

const lockfile = process.argv[2];
if (lockfile === undefined) {
  process.stderr.write('usage: programs/gate-holder.js LOCKFILE\n');
  process.exit(2);
}
const handle = platform.openLockHandle(lockfile);
const gate = platform.openGate(lockfile, handle.identity());
handle.close();
if (!gate.tryEnter('exclusive')) {
  process.stdout.write('busy\n');
  process.exit(1);
}
process.stdout.write('holding\n');
process.stdin.resume();
process.stdin.on('end', () => {
  gate.close();
  process.exit(0);
});
