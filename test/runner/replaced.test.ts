import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { check } from '../../scripts/stress/checker';
import { tryAcquire } from '../../src/lock/acquire';
import { startHolder } from '../support/holders';
import { CLI, IS_WINDOWS, NODE, supportScript } from '../support/paths';
import { eventually, exited, run, tmpDir } from '../support/procs';
import { sabotaged } from '../support/sabotage';
import { mergeLogs } from '../support/programs/unlink-holder';

/** Whether a newcomer would be refused a shared lock at the path (the lock is excluded again). */
function refused(lockfile: string): boolean {
  const l = tryAcquire(lockfile, 'shared');
  l?.release();
  return l === null;
}

/**
 * Whether deleting a locked file removes its name at once: POSIX always;
 * Windows with POSIX delete semantics on NTFS (Node 22 and later, whose
 * libuv asks for them); not with Node 20's unlink, nor on FAT, nor under
 * Wine for a file with a locked byte range, where the name stays until the
 * last handle closes. Found
 * by trying, in `dir`, on a file locked as the holders lock it.
 */
function namesGoAtOnce(dir: string): boolean {
  const probe = path.join(dir, 'delete-semantics.probe');
  const lock = tryAcquire(probe, 'exclusive');
  assert.ok(lock, 'a new file is free');
  try {
    fs.unlinkSync(probe);
    // readdir lists a name that stays, though stat (and so existsSync) fails on it on Windows.
    return !fs.readdirSync(dir).includes(path.basename(probe));
  } finally {
    lock.release();
  }
}

describe('the lock file deleted or replaced', function () {
  it('deleted between holds: the next holder creates and locks a new file', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const first = await startHolder(lockfile, 'exclusive');
    await first.release();
    fs.unlinkSync(lockfile);
    const second = await startHolder(lockfile, 'exclusive');
    try {
      assert.ok(fs.existsSync(lockfile));
      assert.ok(refused(lockfile), 'the new file excludes');
    } finally {
      await second.release();
    }
  });

  it('deleted by exclusive holders as they let go: a waiter never keeps a lock on the old file (identity check after locking)', async function () {
    const dir = tmpDir();
    // Without POSIX delete semantics the holders' deletions leave the name until the last handle closes: nothing to race.
    // Windows with Node 22+ on NTFS has them (appveyor runs this); Node 20 and Wine for a locked file do not.
    if (!namesGoAtOnce(dir)) {
      console.log('      pending: deleting a locked file here leaves its name until the last handle closes');
      this.skip();
    }
    const lockfile = path.join(dir, 'pip.lock');
    const log = path.join(dir, 'holders.log');
    const helper = supportScript('programs/unlink-holder.js');
    // PIPLOCK_TEST_SABOTAGE=nosamefile: the holders lock without the identity check, and this test fails.
    const ids = Array.from({ length: 6 }, (_, i) => `p${i}`);
    const procs = ids.map((id) => run(NODE, [helper, lockfile, log, id, '120'], { env: process.env }));
    for (const r of await Promise.all(procs)) assert.equal(r.status, 0, r.stderr);
    const result = check(mergeLogs(log, ids));
    assert.equal(result.acquisitions, 720);
    assert.deepEqual(result.violations.slice(0, 3), [], `${result.violations.length} overlaps`);
  });

  for (const how of ['deleted', 'renamed'] as const) {
    it(`${how} during a hold: the runner says so and locks the new file, so that newcomers wait again`, async function () {
      const dir = tmpDir();
      const lockfile = path.join(dir, 'pip.lock');
      const go = path.join(dir, 'go');
      const started = path.join(dir, 'started');
      // PIPLOCK_TEST_SABOTAGE=noguard: a library holder, which has no guard, instead of the runner; this test then fails.
      const noGuard = sabotaged('noguard');
      const code = `const fs=require('fs');fs.writeFileSync(${JSON.stringify(started)},'');const t=setInterval(()=>{if(fs.existsSync(${JSON.stringify(go)}))clearInterval(t)},20)`;
      const holder = noGuard ? await startHolder(lockfile, 'exclusive') : undefined;
      const runner = noGuard
        ? undefined
        : spawn(NODE, [CLI, '--lockfile', lockfile, '--mode', 'exclusive', '--', NODE, '-e', code], {
            stdio: ['ignore', 'ignore', 'pipe'],
          });
      let stderr = '';
      let stays = false;
      runner?.stderr!.on('data', (d) => (stderr += d));
      try {
        if (runner) assert.ok(await eventually(() => fs.existsSync(started), 30_000), 'the command started');
        assert.ok(refused(lockfile), 'held');
        if (how === 'deleted') fs.unlinkSync(lockfile);
        else fs.renameSync(lockfile, `${lockfile}.old`);
        // Legacy delete semantics (Node 20's unlink, DeleteFileW before Windows 10 1903, FAT, and Wine for a file another
        // process has open): the name of a file still open stays until its last handle closes. Windows lets nobody open it
        // meanwhile, so newcomers wait (busy); Wine opens that same file, whose lock still excludes them. readdir lists
        // such a name, though stat (and so existsSync) fails on it on Windows. Asked of the lock file itself, since Wine
        // treats a file this process opened differently from one another process holds.
        stays = IS_WINDOWS && how === 'deleted' && fs.readdirSync(dir).includes('pip.lock');
        if (stays) {
          assert.ok(refused(lockfile), 'the old file, still at the path, excludes');
        } else {
          // The guard checks every 200 ms; allow it plenty.
          assert.ok(
            await eventually(() => fs.existsSync(lockfile) && refused(lockfile), 5000),
            'a newcomer is refused again after the file was replaced',
          );
        }
      } finally {
        fs.writeFileSync(go, '');
        if (runner) {
          const { code: status } = await exited(runner);
          assert.equal(status, 0, stderr);
        }
        await holder?.release();
      }
      if (stays) {
        // Windows says that the name stays (the held handle is pending deletion); Wine, which does not report that, nothing.
        assert.doesNotMatch(stderr, /exclusion is not guaranteed/);
        assert.match(
          stderr,
          /^(piplock: warn: the lock file '.*pip\.lock' was deleted while held; its name stays until every holder lets go, and newcomers wait until then\r?\n)?$/,
        );
      } else {
        assert.match(
          stderr,
          new RegExp(
            `piplock: warn: the lock file '.*pip\\.lock' was (removed|replaced) while held; taking the exclusive lock on the new file too`,
          ),
        );
      }
      const after = tryAcquire(lockfile, 'exclusive');
      assert.ok(after, 'nothing stays locked once the runner is done');
      after.release();
    });
  }
});
