import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { tryAcquire } from '../../src/lock/acquire';
import { readRegistry } from '../../src/runner/registry';
import { startHolder } from '../support/holders';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { eventually, exited, tmpDir } from '../support/procs';

// An exclusive waiter holds the writer-preference gate while it waits. If it
// dies there, the gate must not stay shut: on POSIX the kernel drops its
// flock; on Windows the mutex is abandoned, and the next owner takes it over
// (WAIT_ABANDONED) with a warning.
describe('gate left by a dead exclusive waiter', function () {
  it('shared requests queued behind it get in once it is killed', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'shared');
    const spawnRunner = (mode: string, code: string) =>
      spawn(NODE, [CLI, '--lockfile', lockfile, '--mode', mode, '--notice-after', '10m', '--', NODE, '-e', code], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const writer = spawnRunner('exclusive', "console.log('writer ran')");
    let reader: ReturnType<typeof spawnRunner> | undefined;
    try {
      // The writer holds the gate once a shared try fails although only a shared holder has the lock.
      const gated = await eventually(() => {
        const l = tryAcquire(lockfile, 'shared');
        l?.release();
        return l === null;
      }, 20_000);
      assert.ok(gated, 'the exclusive waiter took the gate');

      let err = '';
      let out = '';
      reader = spawnRunner('shared', "console.log('reader ran')");
      reader.stderr!.on('data', (d) => (err += d));
      reader.stdout!.on('data', (d) => (out += d));
      // The reader waits at the gate, with the gate open (so that on Windows the mutex is abandoned, not
      // destroyed): it registers as waiting after its first try, which opens the gate.
      const waiting = await eventually(
        () => readRegistry(lockfile).some((e) => e.pid === reader!.pid && e.state === 'waiting'),
        60_000,
      );
      assert.ok(waiting, 'the reader registered as waiting');
      assert.equal(out, '', 'the reader queues behind the waiting writer');

      writer.kill('SIGKILL'); // TerminateProcess on Windows
      await exited(writer);
      const { code } = await exited(reader);
      assert.equal(code, 0, err);
      assert.match(out, /reader ran/);
      if (IS_WINDOWS) assert.match(err, /gate .* was abandoned by a process that died while waiting; taken over/);
    } finally {
      writer.kill('SIGKILL');
      reader?.kill('SIGKILL');
      await holder.release();
    }
    const after = tryAcquire(lockfile, 'exclusive');
    assert.ok(after, 'nothing is left locked, the gate included');
    after.release();
  });
});
