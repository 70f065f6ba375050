/**
 * The identity check of acquire() on Windows: the lock handle and the path
 * are compared through one Win32 call, never through Node's stat.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { platform } from '../../platform';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { nodeEval, run, runCli, tmpDir } from '../support/procs';

const WIDE_DEV = path.join(__dirname, '..', 'support', 'wide-dev.js');

describe('Windows: lock file identity', function () {
  before(function () {
    // POSIX compares fstat(fd) with stat(path), both from libc: one source by design.
    if (!IS_WINDOWS) this.skip();
  });

  it('the preload widens the volume serial in Node stat of a path (the condition the next test runs under)', async function () {
    const file = path.join(tmpDir(), 'pip.lock');
    fs.writeFileSync(file, '');
    const r = await run(NODE, [
      '-r',
      WIDE_DEV,
      '-e',
      `process.stdout.write(String(require('fs').statSync(${JSON.stringify(file)}, { bigint: true }).dev))`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(BigInt(r.stdout) > 0xffff_ffffn, `dev ${r.stdout} has bits above 32`);
  });

  it('takes the lock at once when Node stat reports a 64-bit volume serial', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await run(NODE, [
      '-r',
      WIDE_DEV,
      CLI,
      '--lockfile',
      lockfile,
      '--mode',
      'shared',
      '--timeout',
      '5s',
      '--',
      ...nodeEval('0'),
    ]);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
  });

  it('a handle and its path have one identity, and two files two', function () {
    const dir = tmpDir();
    const a = path.join(dir, 'a.lock');
    const b = path.join(dir, 'b.lock');
    fs.writeFileSync(b, '');
    const h = platform.openLockHandle(a);
    try {
      const id = h.identity();
      assert.deepEqual(platform.fileIdentity(a), id);
      assert.deepEqual(platform.fileIdentity(a.toUpperCase()), id, 'another spelling of the path');
      assert.notDeepEqual(platform.fileIdentity(b), id);
      assert.equal(platform.fileIdentity(path.join(dir, 'none.lock')), undefined);
    } finally {
      h.close();
    }
  });

  it('a held lock is not reported replaced while Node stat reports a 64-bit volume serial', async function () {
    // The guard re-checks the identity every 200 ms while the command runs.
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await runCli(
      ['--lockfile', lockfile, '--timeout', '5s', '--', ...nodeEval('setTimeout(() => {}, 1500)')],
      {
        env: { ...process.env, NODE_OPTIONS: `-r ${JSON.stringify(WIDE_DEV)}` },
      },
    );
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
  });
});
