/**
 * The release signal lost (issue 18, low items): a waiter that cannot watch `<lock>.d/release` (no inotify instance
 * or watch left, at a high -j) says so once and polls on a short schedule; a waiter whose `<lock>.d` was removed and
 * made again watches the new release file. Linux (inotify, and a user namespace to lower its limits in).
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRegistry } from '../../src/runner/registry';
import { CLI, NODE } from '../support/paths';
import { phaseCommand, phases } from '../support/phases';
import { eventually, exited, tmpDir } from '../support/procs';

function runner(lockfile: string, mode: string, command: string[], wrap: string[] = []): ChildProcess {
  const argv = [NODE, CLI, '--lockfile', lockfile, '--mode', mode, '--timeout', '60s', '--', ...command];
  const all = [...wrap, ...argv];
  return spawn(all[0]!, all.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function ended(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const { code } = await exited(child);
  return { code, stderr };
}

/** Why the inotify limits cannot be lowered for one process here, or undefined. */
function noOwnInotifyLimits(): string | undefined {
  if (process.platform !== 'linux') return 'inotify is Linux only';
  const r = spawnSync('unshare', ['-U', '-r', 'sh', '-c', 'echo 0 > /proc/sys/user/max_inotify_instances'], {
    stdio: 'ignore',
  });
  return r.status === 0 ? undefined : 'no user namespace whose inotify limits may be lowered (unshare -U -r)';
}

describe('the release signal, where it cannot be heard', function () {
  for (const [limit, code] of [
    ['max_inotify_instances', 'EMFILE'],
    ['max_inotify_watches', 'ENOSPC'],
  ] as const) {
    it(`with no inotify ${limit === 'max_inotify_instances' ? 'instance' : 'watch'} left (${code}): one warning that names it, and the waiter polls and gets the lock`, async function () {
      const why = noOwnInotifyLimits();
      if (why !== undefined) {
        console.log(`      pending: ${why}`);
        this.skip();
      }
      const dir = tmpDir();
      const lockfile = path.join(dir, 'pip.lock');
      const log = path.join(dir, 'log');
      const go = path.join(dir, 'go');
      const holder = runner(lockfile, 'exclusive', phaseCommand(log, 'H', { go }));
      const holderDone = ended(holder);
      assert.ok(await eventually(() => phases(log).includes('H-start'), 30_000), 'the holder runs');
      // The waiter in a user namespace of its own, whose inotify limit is 0: fs.watch fails as at a high -j.
      const lower = `echo 0 > /proc/sys/user/${limit} && exec "$@"`;
      const waiter = runner(lockfile, 'shared', phaseCommand(log, 'W', { ms: 0 }), [
        'unshare',
        '-U',
        '-r',
        'sh',
        '-c',
        lower,
        'sh',
      ]);
      const waiterDone = ended(waiter);
      try {
        assert.ok(
          await eventually(() => readRegistry(lockfile).some((e) => e.state === 'waiting'), 30_000),
          'the waiter waits',
        );
        // Past several tries, each of which would warn again if the warning were not once.
        await new Promise((r) => setTimeout(r, 1500));
      } finally {
        fs.writeFileSync(go, '');
      }
      assert.equal((await holderDone).code, 0);
      const w = await waiterDone;
      assert.equal(w.code, 0, w.stderr);
      assert.deepEqual(phases(log), ['H-start', 'H-end', 'W-start', 'W-end']);
      const lines = w.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, `one line: ${w.stderr}`);
      assert.match(lines[0]!, new RegExp(`^piplock: warn: .*release.*${code}.*poll`));
    });
  }

  it('<lock>.d removed and made again while a runner waits: the waiter watches the new release file', async function () {
    if (process.platform !== 'linux') this.skip(); // fs.watch of a deleted file differs by OS; the watch is inotify's here
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const side = `${lockfile}.d`;
    const log = path.join(dir, 'log');
    const go = path.join(dir, 'go');
    const holder = runner(lockfile, 'exclusive', phaseCommand(log, 'H', { go }));
    const holderDone = ended(holder);
    assert.ok(await eventually(() => phases(log).includes('H-start'), 30_000), 'the holder runs');
    const waiter = runner(lockfile, 'shared', phaseCommand(log, 'W', { ms: 0 }));
    const waiterDone = ended(waiter);
    try {
      assert.ok(
        await eventually(() => readRegistry(lockfile).some((e) => e.state === 'waiting'), 30_000),
        'the waiter waits',
      );
      // A clean step removes the side directory, and something makes it again (here the test; in a build, the next
      // runner's gate or registry entry). Nobody else waits, so only the waiter can make its release file again.
      fs.rmSync(side, { recursive: true });
      fs.mkdirSync(side);
      assert.ok(
        await eventually(() => fs.existsSync(path.join(side, 'release')), 10_000),
        'the waiter watches the release file of the new directory',
      );
    } finally {
      fs.writeFileSync(go, '');
    }
    assert.equal((await holderDone).code, 0);
    const w = await waiterDone;
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stderr, '', 'nothing to say: the signal is heard again');
  });
});
