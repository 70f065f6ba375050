import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { platform } from '../../platform';
import { LockTimeoutError } from '../../src/base/errors';
import { acquire, GATE_QUICK_RETRIES } from '../../src/lock/acquire';
import { GATE_STALL_MS } from '../../src/lock/request';
import { readRegistry } from '../../src/runner/registry';
import { startHolder } from '../support/holders';
import { CLI, IS_WINDOWS, NODE, supportScript } from '../support/paths';
import { eventually, exited, run, runCli, tmpDir } from '../support/procs';
import { sabotaged } from '../support/sabotage';

/** A process that holds the gate and never tries the lock (a writer that is stopped, a debugger, a foreign process). */
async function holdGate(lockfile: string): Promise<ChildProcess> {
  const gate = spawn(NODE, [supportScript('programs/gate-holder.js'), lockfile], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    gate.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
    gate.once('exit', () => reject(new Error(`gate holder exited: ${out}`)));
  });
  assert.equal(line, 'holding');
  return gate;
}

/**
 * Long enough for the bound and its first probe (about GATE_STALL_MS + 1 s) on a slow lane, short enough that the
 * sabotaged run, which waits for all of it, stays within its lane's time.
 */
const GO_AHEAD_TIMEOUT_MS = GATE_STALL_MS * 4;

/**
 * A runner's request for `lockfile` in `mode`, running `node -e 0`. PIPLOCK_TEST_SABOTAGE=nostallbound: a request
 * without the stall bound (programs/unbounded-request.ts) instead, which a busy gate holds until its timeout, so that
 * the tests that need the bound fail.
 */
function requestLock(lockfile: string, mode: 'shared' | 'exclusive', timeoutMs: number, noticeAfter = '1h') {
  if (sabotaged('nostallbound'))
    return run(NODE, [supportScript('programs/unbounded-request.js'), lockfile, mode, String(timeoutMs)]);
  return runCli([
    '--lockfile',
    lockfile,
    '--mode',
    mode,
    '--timeout',
    `${timeoutMs / 1000}s`,
    '--notice-after',
    noticeAfter,
    '--',
    NODE,
    '-e',
    '0',
  ]);
}

const STALL_WARNING =
  /piplock: warn: the writer-preference gate of '.*pip\.lock' has been busy for \d+ s while the lock itself is free; going ahead without writer preference/g;

describe('a gate that stays busy over a free lock', function () {
  for (const mode of ['shared', 'exclusive'] as const) {
    it(`${mode} requests go ahead after ${GATE_STALL_MS / 1000} s, with one warning`, async function () {
      const lockfile = path.join(tmpDir(), 'pip.lock');
      const gate = await holdGate(lockfile);
      try {
        const r = await requestLock(lockfile, mode, GO_AHEAD_TIMEOUT_MS);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr.match(STALL_WARNING)?.length, 1, r.stderr);
        assert.match(r.stderr, /its holder is not a registered piplock runner/);
      } finally {
        gate.stdin!.end();
        await exited(gate);
      }
    });
  }

  it('a shared request still waits while a writer waits at the gate for holders of the lock', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'shared');
    const gate = await holdGate(lockfile);
    try {
      const r = await requestLock(lockfile, 'shared', GATE_STALL_MS * 2);
      assert.equal(r.status, 1, 'writer preference holds while the lock is held');
      assert.match(r.stderr, /timed out/);
    } finally {
      gate.stdin!.end();
      await exited(gate);
      await holder.release();
    }
  });

  it('a stopped writer: the notice and status say it is stopped, and a shared request goes ahead', async function () {
    if (IS_WINDOWS) {
      console.log('      pending: Windows has no SIGSTOP (a foreign gate holder stands in for one above)');
      this.skip();
    }
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'shared');
    const writer = spawn(NODE, [CLI, '--lockfile', lockfile, '--mode', 'exclusive', '--', NODE, '-e', '0'], {
      stdio: 'ignore',
    });
    try {
      assert.ok(
        await eventually(
          () => readRegistry(lockfile).some((e) => e.pid === writer.pid && e.state === 'waiting'),
          30_000,
        ),
        'the writer waits',
      );
      writer.kill('SIGSTOP');
      await holder.release();
      const status = await runCli(['status', lockfile]);
      assert.match(status.stdout, new RegExp(`${writer.pid}\\s+exclusive\\s+waiting \\(stopped\\)`));
      const r = await requestLock(lockfile, 'shared', GO_AHEAD_TIMEOUT_MS, '1s');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`an exclusive request is ahead of it: PID ${writer.pid} \\(stopped\\): `));
      assert.equal(r.stderr.match(STALL_WARNING)?.length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`held by the exclusive request of PID ${writer.pid} \\(stopped\\)`));
    } finally {
      writer.kill('SIGCONT');
      assert.equal((await exited(writer)).code, 0);
    }
  });
});

describe('a shared request at a busy gate', function () {
  it(`retries at once, ${GATE_QUICK_RETRIES} times at most, before a busy try: no wait between, and no busy attempt`, async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const gate = await holdGate(lockfile);
    // What the request does, in order: the platform's own gate and release waiter, each call written down.
    const events: string[] = [];
    const { openGate, listenForRelease } = platform;
    platform.openGate = (file, identity) => {
      const g = openGate(file, identity);
      const tryEnter = g.tryEnter.bind(g);
      g.tryEnter = (mode) => {
        const r = tryEnter(mode);
        events.push(r ? 'entered' : 'refused');
        return r;
      };
      return g;
    };
    platform.listenForRelease = (file) => {
      const w = listenForRelease(file);
      const wait = w.wait.bind(w);
      w.wait = (ms, abort) => {
        events.push('wait');
        return wait(ms, abort);
      };
      return w;
    };
    try {
      // Well inside GATE_STALL_MS: the request never goes past the gate here.
      const err = await acquire(lockfile, {
        mode: 'shared',
        timeoutMs: 1500,
        onBusy: (attempt) => events.push(`busy ${attempt}`),
      }).catch((e: unknown) => e);
      assert.ok(err instanceof LockTimeoutError, String(err));
    } finally {
      platform.openGate = openGate;
      platform.listenForRelease = listenForRelease;
      gate.stdin!.end();
      await exited(gate);
    }
    assert.ok(!events.includes('entered'), 'the gate holder kept the gate');
    const busy = events.filter((e) => e.startsWith('busy'));
    assert.ok(busy.length >= 2, events.join(' '));
    assert.deepEqual(
      busy,
      busy.map((_, i) => `busy ${i + 1}`),
      'the quick retries are no busy attempts',
    );
    // Between two busy tries: the try and at least one quick retry (the first round also the try after the request
    // starts listening), and the backoff's wait only after the busy try.
    const rounds = events.join(' ').split(/ ?busy \d+ ?/);
    assert.equal(rounds.pop(), '', 'the request ends at a busy try (its timeout)');
    rounds.forEach((round, i) => {
      const tries = (i === 0 ? round : round.replace(/^wait ?/, '')).split(' ');
      assert.ok(
        tries.every((t) => t === 'refused'),
        `round ${i + 1}: only gate tries before the busy try, no wait: ${round}`,
      );
      // The last try, at the timeout, has no time left for quick retries.
      const least = i === rounds.length - 1 ? 1 : 2;
      assert.ok(
        tries.length >= least && tries.length <= 1 + GATE_QUICK_RETRIES + (i === 0 ? 1 : 0),
        `round ${i + 1}: ${tries.length} gate tries: ${events.join(' ')}`,
      );
      if (i > 0) assert.match(round, /^wait /, `round ${i + 1} starts with the backoff's wait`);
    });
  });
});
