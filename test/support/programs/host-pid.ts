// Preloaded (node -r) into a runner by the PID-namespace test under PIPLOCK_TEST_SABOTAGE=noownproc: the runner
// takes the PID /proc gives it (the host's) for its own, so that /proc looks like its own namespace's.
import * as fs from 'node:fs';

Object.defineProperty(process, 'pid', { value: Number(fs.readlinkSync('/proc/self')) });
