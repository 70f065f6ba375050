import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { tryAcquire } from '../../src/lock/acquire';
import type { LockMode } from '../../platform';
import { startHolder } from '../support/holders';
import { READER_WRITER } from '../support/matrix';
import { IS_WINDOWS, ROOT } from '../support/paths';
import { exited, run, tmpDir, waitForLine, which } from '../support/procs';

const REFERENCE_LOCK = path.join(ROOT, 'scripts', 'reference-lock.py');
const FLAG: Record<LockMode, string> = { shared: '-s', exclusive: '-x' };

// Other users of the same lock file: flock(1), and the reference runner's algorithm in
// Python (fcntl.flock with LOCK_NB). Both are flock(2), which Windows lacks.
const PEERS: Array<{
  name: string;
  tool: string;
  args: (lockfile: string, mode: LockMode, cmd: string[]) => string[];
}> = [
  { name: 'flock(1)', tool: 'flock', args: (l, m, cmd) => ['-n', FLAG[m], l, ...cmd] },
  {
    name: "the reference runner's lock in Python (scripts/reference-lock.py)",
    tool: 'python3',
    args: (l, m, cmd) => [REFERENCE_LOCK, '--lockfile', l, '--mode', m, '--timeout', '0', '--', ...cmd],
  },
];

describe('interop with other flock users (POSIX)', function () {
  before(function () {
    if (IS_WINDOWS) this.skip(); // flock(2) does not exist on Windows
  });

  for (const peer of PEERS) {
    describe(peer.name, function () {
      before(function () {
        if (!which(peer.tool)) this.skip();
      });

      for (const { held, asked, coexist } of READER_WRITER) {
        it(`piplock ${held} holder ${coexist ? 'admits' : 'excludes'} its ${asked} request`, async function () {
          const lockfile = path.join(tmpDir(), 'pip.lock');
          const holder = await startHolder(lockfile, held);
          try {
            const r = await run(peer.tool, peer.args(lockfile, asked, ['true']));
            assert.equal(r.status === 0, coexist, `${peer.name} exit ${r.status}: ${r.stderr}`);
          } finally {
            await holder.release();
          }
        });

        it(`its ${held} holder ${coexist ? 'admits' : 'excludes'} a piplock ${asked} request`, async function () {
          const lockfile = path.join(tmpDir(), 'pip.lock');
          const cmd = ['sh', '-c', 'echo held; read line'];
          const peerProc = spawn(peer.tool, peer.args(lockfile, held, cmd), { stdio: ['pipe', 'pipe', 'inherit'] });
          await waitForLine(peerProc, /^held/);
          try {
            const lock = tryAcquire(lockfile, asked);
            assert.equal(lock !== null, coexist);
            lock?.release();
          } finally {
            peerProc.stdin!.end('\n');
            await exited(peerProc);
          }
        });
      }
    });
  }
});
