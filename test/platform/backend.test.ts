import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { startHolder } from '../support/holders';
import { IS_WINDOWS, supportScript } from '../support/paths';
import { nodeEval, runCli, tmpDir } from '../support/procs';

// fs-ext is optional: where it is missing, libc's flock through koffi does the job.
describe('POSIX flock backends', function () {
  before(function () {
    if (IS_WINDOWS) this.skip(); // Windows has one backend, LockFileEx through koffi
  });

  const hide = ['--require', supportScript('hide-fs-ext.js')];

  it('uses fs-ext when it is installed', async function () {
    const r = await runCli([
      '--lockfile',
      path.join(tmpDir(), 'pip.lock'),
      '--log-level',
      'debug',
      '--',
      ...nodeEval('0'),
    ]);
    assert.match(r.stderr, /lock taken with flock \(fs-ext\)/);
  });

  it('falls back to koffi when fs-ext cannot be loaded, and still excludes', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const env = { ...process.env, NODE_OPTIONS: hide.join(' ') };
    const free = await runCli(['--lockfile', lockfile, '--log-level', 'debug', '--', ...nodeEval('0')], { env });
    assert.equal(free.status, 0, free.stderr);
    assert.match(free.stderr, /lock taken with flock \(koffi\)/);

    // A koffi-backed holder against an fs-ext requester, and the other way round.
    const koffiHolder = await startHolder(lockfile, 'exclusive', { env: { NODE_OPTIONS: hide.join(' ') } });
    try {
      const r = await runCli(['--lockfile', lockfile, '--timeout', '0', '--', ...nodeEval('0')]);
      assert.equal(r.status, 1, 'fs-ext requester is refused by the koffi holder');
    } finally {
      await koffiHolder.release();
    }
    const fsExtHolder = await startHolder(lockfile, 'shared');
    try {
      const shared = await runCli(['--lockfile', lockfile, '--timeout', '0', '--', ...nodeEval('0')], { env });
      assert.equal(shared.status, 0, 'koffi shares with an fs-ext shared holder');
      const excl = await runCli(
        ['--lockfile', lockfile, '--mode', 'exclusive', '--timeout', '0', '--', ...nodeEval('0')],
        { env },
      );
      assert.equal(excl.status, 1, 'koffi exclusive is refused by an fs-ext shared holder');
    } finally {
      await fsExtHolder.release();
    }
  });

  it('PIPLOCK_FLOCK=koffi forces the fallback', async function () {
    const r = await runCli(
      ['--lockfile', path.join(tmpDir(), 'pip.lock'), '--log-level', 'debug', '--', ...nodeEval('0')],
      {
        env: { ...process.env, PIPLOCK_FLOCK: 'koffi' },
      },
    );
    assert.match(r.stderr, /lock taken with flock \(koffi\)/);
  });
});
