import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { platform } from '../../platform';
import { NODE, supportScript } from '../support/paths';
import { eventually, exited, nodeEval, runCli, tmpDir, waitForLine } from '../support/procs';

const LOOP = supportScript('programs/shared-loop.js');
const HOLD_MS = 600;

/** Three shared loops, staggered by a third of their hold, so that at every instant at least two hold the lock. */
async function startLoops(lockfile: string, how: 'gate' | 'nogate'): Promise<ChildProcess[]> {
  const loops: ChildProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const child = spawn(NODE, [LOOP, lockfile, String(HOLD_MS), how], { stdio: ['pipe', 'pipe', 'inherit'] });
    loops.push(child);
    await waitForLine(child, /^holding/);
    await sleep(HOLD_MS / 3);
  }
  return loops;
}

async function stopLoops(loops: ChildProcess[]): Promise<void> {
  for (const l of loops) l.stdin!.end();
  await Promise.all(loops.map((l) => exited(l)));
}

describe('writer preference', function () {
  it('an exclusive request gets in while three staggered shared loops keep the lock busy', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const loops = await startLoops(lockfile, 'gate');
    try {
      // The loops never leave the lock free; without the gate this request would wait until the timeout.
      const r = await runCli([
        '--lockfile',
        lockfile,
        '--mode',
        'exclusive',
        '--timeout',
        '20s',
        '--',
        ...nodeEval('0'),
      ]);
      assert.equal(r.status, 0, `the exclusive request got in while the loops ran: ${r.stderr}`);
      assert.ok(
        loops.every((l) => l.exitCode === null),
        'the shared loops were still running',
      );
    } finally {
      await stopLoops(loops);
    }
  });

  it('without the gate (loops that poll the main lock only, as the reference runner does) the exclusive request starves', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const loops = await startLoops(lockfile, 'nogate');
    try {
      const r = await runCli([
        '--lockfile',
        lockfile,
        '--mode',
        'exclusive',
        '--timeout',
        '4s',
        '--',
        ...nodeEval('0'),
      ]);
      assert.equal(r.status, 1, 'starved until the timeout');
      assert.match(r.stderr, /timed out after .* waiting for an exclusive lock/);
    } finally {
      await stopLoops(loops);
    }
  });

  it('shared requests queue behind a waiting exclusive request, and go on once it is done', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const loops = await startLoops(lockfile, 'gate');
    let writer: Promise<unknown> | undefined;
    try {
      writer = runCli([
        '--lockfile',
        lockfile,
        '--mode',
        'exclusive',
        '--timeout',
        '20s',
        '--',
        ...nodeEval('setTimeout(() => {}, 1500)'),
      ]);
      // Wait until the writer holds the gate (it keeps it while it waits for the loops to let go).
      const gate = platform.openGate(lockfile);
      try {
        const atGate = await eventually(() => {
          const free = gate.tryEnter('shared');
          if (free) gate.leave();
          return !free;
        }, 20_000);
        assert.ok(atGate, 'the writer reached the gate');
      } finally {
        gate.close();
      }
      // A newcomer that only tries once is turned away, although only shared holders hold the main lock.
      const once = await runCli(['--lockfile', lockfile, '--mode', 'shared', '--timeout', '0', '--', ...nodeEval('0')]);
      assert.equal(once.status, 1, `a shared newcomer queued behind the writer: ${once.stderr}`);
      const r = (await writer) as { status: number; stderr: string };
      assert.equal(r.status, 0, r.stderr);
      const after = await runCli([
        '--lockfile',
        lockfile,
        '--mode',
        'shared',
        '--timeout',
        '20s',
        '--',
        ...nodeEval('0'),
      ]);
      assert.equal(after.status, 0, after.stderr);
    } finally {
      await writer;
      await stopLoops(loops);
    }
  });
});
