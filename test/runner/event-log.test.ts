import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sideDir } from '../../platform';
import { appendEvent, EVENTS_FILE, MAX_LOG_BYTES, readEvents, ROTATED_FILE } from '../../src/runner/event-log';
import type { EventRecord } from '../../src/runner/event-log';
import { CLI, IS_WINDOWS, NODE, supportScript } from '../support/paths';
import { exited, runCli, tmpDir, waitForLine } from '../support/procs';
import { isEntryFileName } from '../../src/runner/registry';

const HOLD = "process.stdout.write('held\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";

/** A runner whose command holds the lock until its stdin ends; resolves once the command runs. */
async function startRunner(lockfile: string, mode: string, label: string): Promise<ChildProcess> {
  const runner = spawn(NODE, [CLI, '--lockfile', lockfile, '--mode', mode, '--label', label, '--', NODE, '-e', HOLD], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  await waitForLine(runner, /^held/);
  return runner;
}

/** Every line of the log, parsed: a torn or interleaved line fails here. */
function lines(lockfile: string): EventRecord[] {
  const text = fs.readFileSync(path.join(sideDir(lockfile), EVENTS_FILE), 'utf8');
  assert.ok(text.endsWith('\n'), 'the log ends with a whole line');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as EventRecord;
      } catch {
        assert.fail(`line ${i + 1} of the log is not one JSON record: ${JSON.stringify(l.slice(0, 200))}`);
      }
    });
}

async function eventually(fn: () => boolean, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!fn()) {
    if (Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the event log', function () {
  it('keeps one record per acquisition: who, mode, label, times, outcome, and who held the lock when the wait began', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const pip = await startRunner(lockfile, 'exclusive', '//:pip_install');
    const waiter = runCli(['--lockfile', lockfile, '--mode', 'shared', '--label', '//pkg:gen', '--', NODE, '-e', '0']);
    // The waiter registers as waiting before the holder lets go.
    await eventually(() => fs.readdirSync(sideDir(lockfile)).filter((n) => isEntryFileName(n)).length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    pip.stdin!.end();
    assert.equal((await exited(pip)).code, 0);
    const w = await waiter;
    assert.equal(w.status, 0, w.stderr);
    const records = lines(lockfile);
    assert.equal(records.length, 2, JSON.stringify(records));
    const [first, second] = records as [EventRecord, EventRecord];
    assert.equal(first.label, '//:pip_install');
    assert.equal(first.mode, 'exclusive');
    assert.equal(first.outcome, 'ran');
    assert.equal(first.status, 0);
    assert.equal(first.heldBy, undefined, 'the first runner never waited');
    assert.equal(second.label, '//pkg:gen');
    assert.equal(second.mode, 'shared');
    assert.ok(
      second.heldBy?.some((h) => h.label === '//:pip_install' && h.mode === 'exclusive'),
      JSON.stringify(second),
    );
    assert.ok(second.asked <= second.granted! && second.granted! <= second.released!, 'asked <= granted <= released');
    assert.ok(second.granted! >= first.released! - 50, 'the waiter was granted the lock once the holder let go');
  });

  it('records a timeout, and the timeout error names who held the lock', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const pip = await startRunner(lockfile, 'exclusive', '//:pip_install');
    try {
      const r = await runCli(['--lockfile', lockfile, '--mode', 'shared', '--timeout', '300ms', '--', NODE, '-e', '0']);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /^piplock: error: timed out after .* waiting for a shared lock on '.*'; held by \/\/:pip_install \(PID \d+\) \(exclusive, [^\n]+\r?\n$/,
      );
      const once = await runCli(['--lockfile', lockfile, '--mode', 'shared', '--timeout', '0', '--', NODE, '-e', '0']);
      assert.equal(once.status, 1);
      assert.match(
        once.stderr,
        /^piplock: error: busy: cannot take a shared lock on '.*' without waiting; held by \/\/:pip_install \(PID \d+\)/,
      );
    } finally {
      pip.stdin!.end();
      await exited(pip);
    }
    const outcomes = lines(lockfile).map((r) => r.outcome);
    assert.deepEqual(outcomes.sort(), ['ran', 'timeout', 'timeout']);
  });

  it('stays whole with 32 concurrent runners, some of them killed: one untorn record per acquisition that ended', async function () {
    this.timeout(180_000);
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const N = 32;
    const kids: { child: ChildProcess; kill: boolean }[] = [];
    for (let i = 0; i < N; i++) {
      const mode = i % 8 === 0 ? 'exclusive' : 'shared';
      const child = spawn(
        NODE,
        [
          CLI,
          '--lockfile',
          lockfile,
          '--mode',
          mode,
          '--label',
          `//t:r${i}`,
          '--',
          NODE,
          '-e',
          'setTimeout(() => {}, 150)',
        ],
        { stdio: 'ignore' },
      );
      kids.push({ child, kill: i % 5 === 3 });
    }
    // Kill some of them while they wait or hold.
    await new Promise((r) => setTimeout(r, 400));
    for (const k of kids) if (k.kill) k.child.kill('SIGKILL');
    const ends = await Promise.all(kids.map((k) => exited(k.child)));
    const endedPids = kids.filter((_, i) => ends[i]!.code === 0).map((k) => k.child.pid!);
    const killed = kids.filter((_, i) => ends[i]!.code !== 0).length;
    assert.ok(killed > 0, 'some runners were killed before they ended');
    const records = lines(lockfile);
    const byPid = new Map<number, number>();
    for (const r of records) byPid.set(r.pid, (byPid.get(r.pid) ?? 0) + 1);
    for (const pid of endedPids) assert.equal(byPid.get(pid), 1, `one record for runner ${pid}, which ended`);
    const all = new Set(kids.map((k) => k.child.pid!));
    assert.ok(
      records.every((r) => all.has(r.pid) && byPid.get(r.pid) === 1),
      'no stray and no repeated record',
    );
    assert.ok(records.every((r) => r.outcome === 'ran' && r.status === 0));
  });

  it('never interleaves or loses records: 32 processes appending 200 records each, all at once', async function () {
    this.timeout(180_000);
    const lockfile = path.join(tmpDir(), 'pip.lock');
    fs.mkdirSync(sideDir(lockfile));
    const N = 32;
    const EACH = 200;
    const kids = Array.from({ length: N }, (_, i) =>
      spawn(NODE, [supportScript('programs/appender.js'), lockfile, String(EACH), String(i)], { stdio: 'ignore' }),
    );
    const ends = await Promise.all(kids.map((k) => exited(k)));
    assert.ok(
      ends.every((e) => e.code === 0),
      `appenders: ${JSON.stringify(ends)}`,
    );
    const records = lines(lockfile);
    const labels = new Set(records.map((r) => r.label));
    assert.equal(records.length, N * EACH, `${N * EACH} records, none lost or torn`);
    assert.equal(labels.size, N * EACH, 'each record once');
  });

  it('a waiter ended by Ctrl-C leaves its record and no registry entry, and ends as the signal would', async function () {
    if (IS_WINDOWS) {
      console.log(
        '      pending: a console Ctrl-C reaches every process of the console on Windows; the runner does not catch it',
      );
      this.skip();
    }
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const pip = await startRunner(lockfile, 'exclusive', '//:pip_install');
    const waiter = spawn(
      NODE,
      [CLI, '--lockfile', lockfile, '--mode', 'shared', '--label', '//pkg:gen', '--', NODE, '-e', '0'],
      {
        stdio: 'ignore',
      },
    );
    try {
      await eventually(() => fs.readdirSync(sideDir(lockfile)).filter((n) => isEntryFileName(n)).length >= 2);
      waiter.kill('SIGINT');
      const end = await exited(waiter);
      assert.equal(end.signal, 'SIGINT', `ended by the signal: ${JSON.stringify(end)}`);
    } finally {
      pip.stdin!.end();
      await exited(pip);
    }
    const records = lines(lockfile);
    const gen = records.find((r) => r.label === '//pkg:gen');
    assert.ok(gen, JSON.stringify(records));
    assert.equal(gen.outcome, 'interrupted');
    assert.ok(gen.heldBy?.some((h) => h.label === '//:pip_install'));
    assert.deepEqual(
      fs.readdirSync(sideDir(lockfile)).filter((n) => isEntryFileName(n)),
      [],
      'no registry entry left',
    );
  });

  it('never stops an action: where the log cannot be written, one warning and the command runs', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    fs.mkdirSync(path.join(sideDir(lockfile), EVENTS_FILE), { recursive: true }); // a directory where the log goes
    const r = await runCli(['--lockfile', lockfile, '--', NODE, '-e', 'console.log("ran")']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ran');
    assert.match(
      r.stderr,
      /^piplock: warn: the event log will miss this action: (cannot open '.*events\.jsonl': .*|'.*events\.jsonl' is not a regular file .*)\r?\n$/,
    );
  });

  it('is not followed through a symlink planted under its name', async function () {
    if (IS_WINDOWS) {
      console.log('      pending: O_NOFOLLOW is 0 on Windows; a symlink there needs a privilege');
      this.skip();
    }
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const victim = path.join(dir, 'victim.txt');
    fs.writeFileSync(victim, 'untouched\n');
    fs.mkdirSync(sideDir(lockfile));
    fs.symlinkSync(victim, path.join(sideDir(lockfile), EVENTS_FILE));
    const r = await runCli(['--lockfile', lockfile, '--', NODE, '-e', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'untouched\n');
    assert.match(r.stderr, /event log will miss this action/);
  });

  it('is off with PIPLOCK_EVENT_LOG=0', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await runCli(['--lockfile', lockfile, '--', NODE, '-e', '0'], {
      env: { ...process.env, PIPLOCK_EVENT_LOG: '0' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.existsSync(path.join(sideDir(lockfile), EVENTS_FILE)), false);
  });

  it('is bounded: a full log is renamed aside, and readers see both files', function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    fs.mkdirSync(sideDir(lockfile));
    const record = (pid: number): EventRecord => ({
      v: 1,
      pid,
      mode: 'shared',
      command: ['x'],
      asked: 1000 + pid,
      granted: 1001 + pid,
      released: 1002 + pid,
      outcome: 'ran',
      status: 0,
    });
    const line = `${JSON.stringify(record(1))}\n`;
    fs.writeFileSync(path.join(sideDir(lockfile), EVENTS_FILE), line.repeat(Math.ceil(MAX_LOG_BYTES / line.length)));
    const warnings: string[] = [];
    appendEvent(lockfile, record(2), (m) => warnings.push(m));
    assert.equal(warnings.length, 0, warnings.join('; '));
    assert.equal(fs.existsSync(path.join(sideDir(lockfile), EVENTS_FILE)), false, 'the full log was renamed');
    assert.ok(fs.statSync(path.join(sideDir(lockfile), ROTATED_FILE)).size > MAX_LOG_BYTES);
    appendEvent(lockfile, record(3), (m) => warnings.push(m));
    const { records, bad } = readEvents(lockfile);
    assert.equal(bad, 0);
    assert.deepEqual(
      records.slice(-2).map((r) => r.pid),
      [2, 3],
      'the rotated file, then the new one',
    );
  });
});
