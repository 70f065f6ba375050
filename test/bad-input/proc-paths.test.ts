import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { IS_WINDOWS, NODE } from '../support/paths';
import { tmpDir } from '../support/procs';
import {
  assertEnded,
  assertOneError,
  cliBounded,
  describeRun,
  gnArgs,
  libraryChild,
  type Threw,
} from '../support/bad-input';

// Places where mkdir answers ENOENT although the parent exists: for the lock's own directory (the first
// two) and for the side directory <lock>.d beside a lock file in an existing /proc directory (the others).
const PROC_PATHS = ['/proc/self/piplock-x/pip.lock', '/proc/1/nope/pip.lock', '/proc/self/pip.lock', '/proc/pip.lock'];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('hardening: a lock path where mkdir answers ENOENT fails fast', function () {
  before(function () {
    // /proc exists only on Linux; Windows (and macOS) have no such place.
    if (IS_WINDOWS || !fs.existsSync('/proc/self')) this.skip();
  });

  for (const lockfile of PROC_PATHS) {
    it(`run: --lockfile ${lockfile} ends by itself with one error line naming the path, within its --timeout`, async function () {
      const r = await cliBounded(['--lockfile', lockfile, '--timeout', '5s', '--', NODE, '-e', '0']);
      assertOneError(r, new RegExp(escape(lockfile)));
    });

    it(`python-runner: --lockfile ${lockfile} ends by itself with one error line naming the path`, async function () {
      const dir = tmpDir();
      const r = await cliBounded(
        [
          'python-runner',
          ...gnArgs(dir),
          '--python',
          NODE,
          '--lockfile',
          lockfile,
          '--timeout',
          '5s',
          '--',
          'script.py',
        ],
        20_000,
        { cwd: dir },
      );
      assertOneError(r, new RegExp(escape(lockfile)));
    });

    it(`library: acquire('${lockfile}', {timeoutMs: 5000}) rejects with a LockError instead of hanging`, async function () {
      const { r, out } = await libraryChild(
        `await L.acquire(${JSON.stringify(lockfile)}, { timeoutMs: 5000 }); return 'acquired';`,
      );
      assertEnded(r);
      const t = out as Threw;
      assert.ok(t?.threw, `rejected: ${describeRun(r)}`);
      assert.equal(t.threw.lockError, true, `a LockError: ${describeRun(r)}`);
      assert.match(t.threw.message, new RegExp(escape(lockfile)));
    });

    it(`library: tryAcquire('${lockfile}') throws instead of hanging`, async function () {
      const { r, out } = await libraryChild(
        `const l = L.tryAcquire(${JSON.stringify(lockfile)}, 'shared'); return l ? 'acquired' : 'busy';`,
      );
      assertEnded(r);
      const t = out as Threw;
      assert.ok(t?.threw, `threw: ${describeRun(r)}`);
      assert.equal(t.threw.lockError, true, `a LockError: ${describeRun(r)}`);
    });
  }
});
