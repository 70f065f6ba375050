import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { platform, sideDir } from '../../platform';
import { entryFileName } from '../../src/runner/registry';
import { CLI, NODE } from '../support/paths';
import { exited, runCli, tmpDir, waitForLine } from '../support/procs';

interface Status {
  lockfile: string;
  entries: Array<{
    pid: number;
    mode: string;
    state: string;
    command: string[];
    since: string | null;
    registered: boolean;
  }>;
}

const HOLD =
  "process.stdout.write('held ' + process.pid + '\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";

/** A piplock runner whose command holds the lock until its stdin ends; resolves once the command runs. */
async function startRunner(
  lockfile: string,
  mode: string,
  extra: string[] = [],
): Promise<{ runner: ChildProcess; childPid: number }> {
  const runner = spawn(NODE, [CLI, '--lockfile', lockfile, '--mode', mode, ...extra, '--', NODE, '-e', HOLD], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const line = await waitForLine(runner, /^held \d+/);
  return { runner, childPid: Number(line.split(' ')[1]) };
}

async function status(lockfile: string): Promise<Status> {
  const r = await runCli(['status', '--json', lockfile]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Status;
}

/** The status once it lists a waiter (or after 10 s, for the assertions to say what is missing). */
async function statusOnceWaiting(lockfile: string): Promise<Status> {
  let s = await status(lockfile);
  for (let i = 0; i < 100 && !s.entries.some((e) => e.state === 'waiting'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    s = await status(lockfile);
  }
  return s;
}

describe('piplock status', function () {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async function () {
    for (const f of cleanup.splice(0)) await f();
  });

  it('lists the holder and a waiter: PID, mode, state, command, since', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const { runner } = await startRunner(lockfile, 'exclusive');
    cleanup.push(async () => {
      runner.stdin!.end();
      await exited(runner);
    });
    const waiter = runCli(['--lockfile', lockfile, '--mode', 'shared', '--', NODE, '-e', '0']);
    const s = await statusOnceWaiting(lockfile);
    const holder = s.entries.find((e) => e.state === 'holding');
    assert.ok(holder, JSON.stringify(s));
    assert.equal(holder.pid, runner.pid);
    assert.equal(holder.mode, 'exclusive');
    assert.equal(holder.registered, true);
    assert.deepEqual(holder.command, [NODE, '-e', HOLD]);
    assert.ok(holder.since !== null && Date.now() - Date.parse(holder.since) < 60_000);
    const waiting = s.entries.find((e) => e.state === 'waiting');
    assert.ok(waiting, JSON.stringify(s));
    assert.equal(waiting.mode, 'shared');

    const text = await runCli(['status', lockfile]);
    assert.equal(text.status, 0);
    assert.match(text.stdout, new RegExp(`^${runner.pid}\\s+exclusive\\s+holding\\s+`, 'm'));

    runner.stdin!.end();
    assert.equal((await waiter).status, 0);
    const after = await status(lockfile);
    assert.deepEqual(after.entries, [], 'no entries once both are done');
  });

  it('shows no ghost entry for a holder that was SIGKILLed, and removes its file', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const { runner, childPid } = await startRunner(lockfile, 'shared');
    cleanup.push(() => {
      try {
        process.kill(childPid, 'SIGKILL');
      } catch {
        // gone with the runner
      }
    });
    assert.equal((await status(lockfile)).entries.length, 1);
    const entryFile = path.join(`${lockfile}.d`, entryFileName(runner.pid!));
    assert.ok(fs.existsSync(entryFile));
    runner.kill('SIGKILL');
    await exited(runner);
    const s = await status(lockfile);
    assert.deepEqual(
      s.entries.filter((e) => e.registered),
      [],
      JSON.stringify(s),
    );
    assert.ok(!fs.existsSync(entryFile), "the dead runner's entry was removed");
    const text = await runCli(['status', lockfile]);
    assert.equal(text.status, 0);
  });

  it('lists python-runner actions too: a pip action holding, a shared action waiting', async function () {
    // Node stands in for Python: python-runner --python NODE runs `node SCRIPT`. The script's name makes it a pip action.
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const pipScript = path.join(dir, 'pip_install_python_deps.py');
    fs.writeFileSync(pipScript, HOLD);
    fs.writeFileSync(path.join(dir, 'other.py'), '');
    const gn = [
      'python-runner',
      '--gn-root',
      dir,
      '--current-path',
      dir,
      '--default-toolchain',
      '//t:t',
      '--current-toolchain',
      '//t:t',
      '--python',
      NODE,
      '--lockfile',
      lockfile,
    ];
    const pip = spawn(NODE, [CLI, ...gn, '--', pipScript], { stdio: ['pipe', 'pipe', 'pipe'], cwd: dir });
    cleanup.push(async () => {
      pip.stdin!.end();
      await exited(pip);
    });
    await waitForLine(pip, /^held \d+/);
    const waiter = runCli([...gn, '--', path.join(dir, 'other.py')], { cwd: dir });
    const s = await statusOnceWaiting(lockfile);
    const holder = s.entries.find((e) => e.state === 'holding');
    assert.ok(holder, JSON.stringify(s));
    assert.equal(holder.pid, pip.pid);
    assert.equal(holder.mode, 'exclusive');
    assert.deepEqual(holder.command, [NODE, pipScript]);
    const waiting = s.entries.find((e) => e.state === 'waiting');
    assert.ok(waiting, JSON.stringify(s));
    assert.equal(waiting.mode, 'shared');
    pip.stdin!.end();
    assert.equal((await waiter).status, 0);
    assert.deepEqual((await status(lockfile)).entries, [], 'no entries once both are done');
  });

  it('takes an entry for a dead runner whose PID a later process reuses: start time on Linux, creation time on Windows', async function () {
    // The live process here is this test; the entry claims its PID but another start, as a killed runner's would.
    if (process.platform !== 'linux' && process.platform !== 'win32') this.skip(); // elsewhere only liveness is checked (README)
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const tag = platform.startTag(process.pid);
    assert.ok(tag !== undefined && tag === platform.startTag(process.pid), 'a stable start tag for a running process');
    const file = path.join(sideDir(lockfile), `${process.pid}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(lockfile, '');
    const entry = {
      pid: process.pid,
      mode: 'exclusive',
      state: 'holding',
      command: ['gone'],
      since: Date.now(),
      start: `${tag}0`,
    };
    fs.writeFileSync(file, JSON.stringify(entry));
    assert.deepEqual((await status(lockfile)).entries, [], 'the dead runner is not listed');
    assert.ok(!fs.existsSync(file), 'and its entry is removed');
    fs.writeFileSync(file, JSON.stringify({ ...entry, start: tag }));
    assert.deepEqual(
      (await status(lockfile)).entries.map((e) => e.pid),
      [process.pid],
      'with the start it really has, it is listed',
    );
    fs.unlinkSync(file);
  });

  it('a free lock file is reported free with status 0 (one that does not exist: status-truth.test.ts)', async function () {
    const lockfile = path.join(tmpDir(), 'free.lock');
    fs.writeFileSync(lockfile, '');
    const r = await runCli(['status', lockfile]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /free/);
    assert.deepEqual((await status(lockfile)).entries, []);
  });
});

describe('waiting notice', function () {
  it('after --notice-after, one stderr line names the lock file, the wait and the holder', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const { runner } = await startRunner(lockfile, 'exclusive');
    try {
      const r = await runCli([
        '--lockfile',
        lockfile,
        '--mode',
        'shared',
        '--notice-after',
        '1s',
        '--timeout',
        '3s',
        '--',
        NODE,
        '-e',
        '0',
      ]);
      assert.equal(r.status, 1, 'timed out');
      const lines = r.stderr.trim().split(/\r?\n/);
      assert.equal(lines.length, 2, r.stderr); // the notice, then the timeout error
      const esc = lockfile.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
      assert.match(
        lines[0]!,
        new RegExp(
          `^piplock: warn: waited \\d\\.\\d s for a shared lock on '${esc}'; held by PID ${runner.pid} \\(exclusive, [^:]+: .*node`,
        ),
      );
      assert.match(lines[1]!, /^piplock: error: timed out/);
    } finally {
      runner.stdin!.end();
      await exited(runner);
    }
  });

  it('says nothing when the lock comes before --notice-after', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const { runner } = await startRunner(lockfile, 'exclusive');
    setTimeout(() => runner.stdin!.end(), 500);
    const r = await runCli([
      '--lockfile',
      lockfile,
      '--mode',
      'shared',
      '--notice-after',
      '20s',
      '--',
      NODE,
      '-e',
      '0',
    ]);
    await exited(runner);
    assert.equal(r.status, 0);
    assert.equal(r.stderr, '');
  });
});
