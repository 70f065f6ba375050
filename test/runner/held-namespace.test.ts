import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { identityText, platform } from '../../platform';
import { startHolder } from '../support/holders';
import { CLI, NODE, supportScript } from '../support/paths';
import { run, tmpDir } from '../support/procs';
import { sabotaged } from '../support/sabotage';

/** Why `unshare -p -f` cannot be used here, or undefined when it can. */
function noPidNamespace(): string | undefined {
  if (process.platform !== 'linux') return 'PID namespaces are Linux only';
  const r = spawnSync('unshare', ['-p', '-f', '--', 'true'], { stdio: 'ignore' });
  if (r.error) return `unshare(1) cannot be run: ${(r.error as NodeJS.ErrnoException).code}`;
  if (r.status !== 0) return 'unshare -p -f is not allowed here (no CAP_SYS_ADMIN)';
  return undefined;
}

describe("PIPLOCK_HELD in a PID namespace that shares the host's /proc", function () {
  it("is not trusted: a leftover line naming the namespace's PID 2 with the host kthreadd's start tag does not switch locking off", async function () {
    const why = noPidNamespace();
    if (why !== undefined) {
      console.log(`      pending: ${why}`);
      this.skip();
    }
    const lockfile = path.join(tmpDir(), 'pip.lock');
    // flock(1) would do as well: a holder of the lock that is not piplock, so no PIPLOCK_HELD of its own.
    const holder = await startHolder(lockfile, 'exclusive', { bare: true });
    try {
      // In the namespace: PID 1 sh, PID 2 sh, PID 3 the runner, whose parent (2) /proc shows as the host's kthreadd.
      const tag = fs.readFileSync('/proc/2/stat', 'latin1').split(') ')[1]!.split(' ')[19];
      const canonical = platform.canonicalPath(lockfile);
      // The line as runners write it, and as runners without the lock's identity wrote it.
      const held = `exclusive:2:${tag}:${identityText(platform.fileIdentity(lockfile))}:${canonical}\nexclusive:2:${tag}:${canonical}`;
      // PIPLOCK_TEST_SABOTAGE=noownproc: the runner takes the host's PID for its own; this test then fails.
      const preload = sabotaged('noownproc') ? ['-r', supportScript('programs/host-pid.js')] : [];
      const runnerArgs = [
        NODE,
        ...preload,
        CLI,
        '--lockfile',
        lockfile,
        '--mode',
        'exclusive',
        '--timeout',
        '1s',
        '--',
        NODE,
        '-e',
        'console.log(6*7)',
      ];
      const inner = `${runnerArgs.map((a) => `'${a}'`).join(' ')}; echo " status $?"`;
      const r = await run('unshare', ['-p', '-f', '--', 'sh', '-c', `sh -c "$1"; true`, 'sh', inner], {
        env: { ...process.env, PIPLOCK_HELD: held },
      });
      assert.equal(
        r.stdout.trim(),
        'status 1',
        `the command must not run while another process holds the lock: ${r.stdout} ${r.stderr}`,
      );
      assert.match(
        r.stderr,
        /PIPLOCK_HELD says this lock is held, but it cannot be checked: \/proc belongs to another PID namespace/,
      );
    } finally {
      await holder.release();
    }
  });
});
