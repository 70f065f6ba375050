import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tryAcquire } from '../src/acquire';
import { CLI, eventually, exited, IS_WINDOWS, NODE, SABOTAGE, tmpDir, which } from './support/procs';

/** Whether a process is still running; a zombie (dead, not yet reaped) counts as gone. */
function alive(pid: number): boolean {
  if (process.platform === 'linux') {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// The runner's command must not outlive a runner killed outright (SIGKILL, the
// OOM killer; TerminateProcess on Windows): it would go on changing the
// virtualenv with the lock already released.
describe('the command dies with a killed runner', function () {
  it('kill -9 of the runner ends its command within a few seconds, and frees the lock', async function () {
    if (process.platform === 'darwin') this.skip(); // macOS has no parent-death signal: see the README
    if (process.platform === 'linux' && !which('setpriv')) this.skip(); // no util-linux setpriv: documented as unprotected
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const pidFile = path.join(dir, 'child.pid');
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (SABOTAGE === 'nopdeathsig' && !IS_WINDOWS) {
      // A setpriv that drops --pdeathsig KILL -- and runs the command without it.
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'setpriv'), '#!/bin/sh\nshift 3\nexec "$@"\n', { mode: 0o755 });
      env.PATH = `${bin}:${env.PATH}`;
    }
    const code = `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 120000)`;
    const runner = spawn(NODE, [CLI, '--lockfile', lockfile, '--mode', 'exclusive', '--', NODE, '-e', code], { stdio: 'ignore', env });
    let childPid = 0;
    try {
      assert.ok(await eventually(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '', 30_000), 'the command started');
      childPid = Number(fs.readFileSync(pidFile, 'utf8'));
      assert.ok(alive(childPid));
      assert.equal(tryAcquire(lockfile, 'shared'), null, 'the runner holds the lock');
      const killedAt = performance.now();
      runner.kill('SIGKILL');
      await exited(runner);
      const gone = await eventually(() => !alive(childPid), 5000, 5);
      const ms = performance.now() - killedAt;
      assert.ok(gone, `the command (pid ${childPid}) was still running 5 s after its runner was killed`);
      this.test!.title += ` [command gone ${ms.toFixed(0)} ms after the kill]`;
      const lock = tryAcquire(lockfile, 'exclusive');
      assert.ok(lock, 'the lock is free');
      lock.release();
    } finally {
      if (childPid && alive(childPid)) process.kill(childPid, 'SIGKILL');
    }
  });
});
