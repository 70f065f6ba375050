import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHolder } from '../support/holders';
import { CLI, NODE } from '../support/paths';
import { eventually, exited, tmpDir } from '../support/procs';
import { noPidNamespace } from '../support/namespaces';

/** The host PID of the runner (node CLI ...) whose command line contains `marker`, once there is one. */
function findPid(marker: string): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline[0] === NODE && cmdline[1] === CLI && cmdline.includes(marker)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Whether a registry entry exists (the runner's PID is its namespace's, so the host's readRegistry may drop it as dead). */
function registered(lockfile: string): boolean {
  try {
    return fs.readdirSync(`${lockfile}.d`).some((n) => n.endsWith('.json'));
  } catch {
    return false;
  }
}

describe('a runner that is PID 1 (a container without an init)', function () {
  it('ends its wait for the lock on SIGTERM, with status 143, instead of ignoring it', async function () {
    const why = noPidNamespace();
    if (why !== undefined) {
      console.log(`      pending: ${why}`);
      this.skip();
    }
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive', { bare: true });
    try {
      const ns = spawn(
        'unshare',
        [
          '-p',
          '-f',
          '--mount-proc',
          '--',
          NODE,
          CLI,
          '--lockfile',
          lockfile,
          '--timeout',
          '60s',
          '--',
          NODE,
          '-e',
          '0',
        ],
        {
          stdio: 'ignore',
        },
      );
      let pid: number | undefined;
      assert.ok(await eventually(() => (pid = findPid(lockfile)) !== undefined, 30_000), 'the runner starts');
      // Registered as waiting: its handlers are in place (a SIGTERM before that would be ignored by any PID 1).
      assert.ok(await eventually(() => registered(lockfile), 30_000), 'it waits');
      process.kill(pid!, 'SIGTERM');
      const t = Date.now();
      const { code } = await exited(ns);
      assert.equal(code, 143);
      assert.ok(Date.now() - t < 20_000, 'it did not wait for its timeout');
    } finally {
      await holder.release();
    }
  });
});
