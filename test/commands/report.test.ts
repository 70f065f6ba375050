import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sideDir } from '../../platform';
import { COLOURS } from '../../src/commands/report-html';
import { parseSince } from '../../src/commands/report';
import type { Report } from '../../src/commands/report';
import { UsageError } from '../../src/base/errors';
import type { TraceEvent } from '../../src/commands/trace';
import { readRegistry } from '../../src/runner/registry';
import { startHolder } from '../support/holders';
import { CLI, IS_WINDOWS, NODE, supportScript } from '../support/paths';
import { countBlobs, decodePng } from '../support/png';
import { eventually, exited, run, runCli, tmpDir, waitForLine } from '../support/procs';
import type { Result } from '../support/procs';
import { isEntryFileName } from '../../src/runner/registry';

const HOLD = "process.stdout.write('held\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";

/** python-runner's GN options; the values matter to none of the cases here. */
function gn(dir: string): string[] {
  return ['--gn-root', dir, '--current-path', dir, '--default-toolchain', '//t:t', '--current-toolchain', '//t:t'];
}

function hex(c: string): [number, number, number] {
  return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];
}

/** A build in small: an exclusive holder //:pip_install for about a second, and three importers that wait for it. */
async function contendedBuild(dir: string): Promise<{ lockfile: string; importers: Result[] }> {
  const lockfile = path.join(dir, 'pip.lock');
  const pip: ChildProcess = spawn(
    NODE,
    [CLI, '--lockfile', lockfile, '--mode', 'exclusive', '--label', '//:pip_install', '--', NODE, '-e', HOLD],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  await waitForLine(pip, /^held/);
  const importers = [1, 2, 3].map((i) =>
    runCli(
      [
        'python-runner',
        ...gn(dir),
        '--lockfile',
        lockfile,
        '--label',
        `//pkg:gen${i}`,
        '--notice-after',
        '0.2s',
        '--python',
        NODE,
        '--',
        '-e',
        '0',
      ],
      {
        cwd: dir,
      },
    ),
  );
  // Let go only once all three wait: their registry entries say so.
  const entries = (): number => fs.readdirSync(sideDir(lockfile)).filter((n) => isEntryFileName(n)).length;
  for (let i = 0; i < 300 && entries() < 4; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  pip.stdin!.end();
  assert.equal((await exited(pip)).code, 0);
  return { lockfile, importers: await Promise.all(importers) };
}

describe('report --since and trace --origin: what a time is', function () {
  it('takes ISO 8601, seconds or ms since the epoch, and durations with a unit; refuses the rest', function () {
    const now = Date.parse('2026-12-02T06:00:00Z');
    assert.equal(parseSince('2026-12-02T05:00:00Z', now), Date.parse('2026-12-02T05:00:00Z'));
    assert.equal(parseSince('1700000000', now), 1_700_000_000_000, 'date +%s: seconds');
    assert.equal(parseSince('1796191231068', now), 1_796_191_231_068, 'ms since the epoch');
    assert.equal(parseSince('10m', now), now - 600_000);
    assert.equal(parseSince('90s', now), now - 90_000);
    for (const bad of ['0.5', 'Dec 2', '1 2', '1764657713257.5', 'yesterday', '', '10 minutes'])
      assert.throws(() => parseSince(bad, now), UsageError, bad);
  });
});

describe('seeing the lock after a build: report, trace and the waited line', function () {
  let dir: string;
  let lockfile: string;
  let importers: Result[];

  before(async function () {
    this.timeout(60_000);
    dir = tmpDir();
    ({ lockfile, importers } = await contendedBuild(dir));
  });

  it('python-runner adds one line to an action that waited: who waited, how long, for whom', function () {
    for (const [i, r] of importers.entries()) {
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^piplock: //pkg:gen${i + 1} waited \\d+(\\.\\d)? (ms|s) for the pip lock \\(held by //:pip_install, PID \\d+\\)\\r?\\n$`,
        ),
      );
    }
  });

  it("report lists each importer's wait and names the pip action as the cause", async function () {
    const r = await runCli(['report', '--json', lockfile]);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.actions, 4);
    assert.deepEqual(report.outcomes, { ran: 4, timeout: 0, error: 0, interrupted: 0 });
    assert.equal(report.byMode.exclusive.count, 1);
    assert.equal(report.byMode.shared.count, 3);
    assert.equal(report.byMode.shared.waited, 3);
    assert.equal(report.exclusiveHolds.length, 1);
    assert.equal(report.exclusiveHolds[0]!.label, '//:pip_install');
    assert.deepEqual(report.longestWaits.map((w) => w.label).sort(), ['//pkg:gen1', '//pkg:gen2', '//pkg:gen3']);
    const hold = report.exclusiveHolds[0]!;
    const letGo = Date.parse(hold.granted) + hold.heldMs;
    for (const w of report.longestWaits) {
      // Each waited until the pip action let go (to the millisecond the clock allows).
      assert.ok(Date.parse(w.asked) + w.waitedMs >= letGo - 5, `${w.label} waited only ${w.waitedMs} ms`);
      assert.ok(
        w.heldBy.some((h) => h.label === '//:pip_install'),
        JSON.stringify(w.heldBy),
      );
    }
    assert.ok(report.lostToWaiting.sumMs >= report.longestWaits.reduce((a, w) => a + w.waitedMs, 0) - 1);
    assert.ok(report.lostToWaiting.wallMs <= report.lostToWaiting.sumMs);
    assert.deepEqual(report.waits.map((w) => w.label).sort(), ['//pkg:gen1', '//pkg:gen2', '//pkg:gen3'], 'every wait');
    assert.equal(report.badLines, 0);

    const text = await runCli(['report', lockfile]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^piplock report: /);
    assert.match(text.stdout, /exclusive holds \(1\):\n +\d.* \/\/:pip_install \(PID \d+\)/);
    assert.match(text.stdout, /\/\/pkg:gen1 \(PID \d+\)\n +waited for \/\/:pip_install \(PID \d+\) \[x\]/);
  });

  it('report --since leaves out the builds before', async function () {
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    const one = await runCli(['--lockfile', lockfile, '--label', '//later:one', '--', NODE, '-e', '0']);
    assert.equal(one.status, 0, one.stderr);
    const r = await runCli(['report', '--json', '--since', new Date(between).toISOString(), lockfile]);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.actions, 1);
    assert.equal(report.longestWaits.length, 0);
    const all = JSON.parse((await runCli(['report', '--json', lockfile])).stdout) as Report;
    assert.equal(all.actions, 5);
  });

  it('trace writes Chrome trace event JSON: complete events with ts, dur, pid and tid, one track per concurrent slot', async function () {
    const out = path.join(dir, 'trace.json');
    const r = await runCli(['trace', '-o', out, '--since', '1h', lockfile]);
    assert.equal(r.status, 0, r.stderr);
    const trace = JSON.parse(fs.readFileSync(out, 'utf8')) as { traceEvents: TraceEvent[]; displayTimeUnit: string };
    assert.ok(Array.isArray(trace.traceEvents));
    for (const e of trace.traceEvents) {
      assert.ok(e.ph === 'X' || e.ph === 'M', `phase ${e.ph}`);
      assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), 'integer pid and tid');
      assert.equal(typeof e.name, 'string');
      if (e.ph === 'X') {
        assert.ok(Number.isInteger(e.ts) && e.ts! > 1.5e15, `ts in microseconds since the epoch: ${e.ts}`);
        assert.ok(Number.isInteger(e.dur) && e.dur! >= 0, `dur ${e.dur}`);
        assert.match(e.cat!, /^(wait|hold),(shared|exclusive)$/);
      }
    }
    const spans = trace.traceEvents.filter((e) => e.ph === 'X');
    assert.equal(spans.filter((e) => e.cat!.startsWith('hold')).length, 5, 'a hold per acquisition');
    assert.equal(spans.filter((e) => e.cat!.startsWith('wait')).length, 3, 'a wait per importer');
    // On one track, spans follow each other and never overlap.
    const byTid = new Map<number, TraceEvent[]>();
    for (const e of spans) byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), e]);
    for (const list of byTid.values()) {
      list.sort((a, b) => a.ts! - b.ts!);
      for (let i = 1; i < list.length; i++)
        assert.ok(list[i]!.ts! >= list[i - 1]!.ts! + list[i - 1]!.dur!, 'spans overlap');
    }
    const origin = await runCli(['trace', '--origin', String(Math.floor(spans[0]!.ts! / 1000)), lockfile]);
    const shifted = (JSON.parse(origin.stdout) as { traceEvents: TraceEvent[] }).traceEvents.filter(
      (e) => e.ph === 'X',
    );
    assert.ok(
      Math.min(...shifted.map((e) => e.ts!)) >= -1000 && Math.min(...shifted.map((e) => e.ts!)) < 1000,
      '--origin shifts the time base',
    );
  });

  it('report --html writes one page whose timeline headless Chromium draws, span by span', async function () {
    this.timeout(120_000);
    const html = path.join(dir, 'report.html');
    const r = await runCli(['report', '--html', html, lockfile]);
    assert.equal(r.status, 0, r.stderr);
    const page = fs.readFileSync(html, 'utf8');
    assert.doesNotMatch(page, /(src|href)=["']?(https?:|\/\/)/, 'nothing loaded from the network');
    assert.equal((page.match(/<rect class="span /g) ?? []).length, 5 + 3, 'five holds and three waits');
    const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find(
      (c) => !IS_WINDOWS && spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0,
    );
    if (chromium === undefined) {
      console.log(
        `      pending: no headless Chromium here (${IS_WINDOWS ? 'the Windows lane' : "Debian's chromium package"}); .ci/run installs it for the Linux lane`,
      );
      this.skip();
    }
    const shot = path.join(dir, 'report.png');
    const profile = path.join(dir, 'chromium-profile');
    const c = await run(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        '--window-size=1200,500',
        `--screenshot=${shot}`,
        `file://${html}`,
      ],
      { limitMs: 90_000 },
    );
    assert.ok(fs.existsSync(shot), `chromium made no screenshot: status ${c.status}\n${c.stderr}`);
    const img = decodePng(fs.readFileSync(shot));
    // Each colour also has its square in the legend: one blob more than the spans drawn in it.
    assert.equal(countBlobs(img, hex(COLOURS['hold exclusive'])) - 1, 1, 'one exclusive hold drawn');
    assert.equal(countBlobs(img, hex(COLOURS['hold shared'])) - 1, 4, 'four shared holds drawn');
    assert.equal(countBlobs(img, hex(COLOURS['wait shared'])) - 1, 3, 'three shared waits drawn');
    assert.equal(countBlobs(img, hex(COLOURS['wait exclusive'])) - 1, 0, 'no exclusive wait');
  });

  it('report --html of no acquisitions writes a page with no NaN in it', async function () {
    const html = path.join(dir, 'empty.html');
    const r = await runCli(['report', '--since', '2099-01-01', '--html', html, lockfile]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /no acquisitions recorded/);
    assert.doesNotMatch(fs.readFileSync(html, 'utf8'), /NaN/);
  });

  it('keeps no password of a URL in the log', async function () {
    const r = await runCli([
      '--lockfile',
      lockfile,
      '--',
      NODE,
      '-e',
      '0',
      'https://__token__:s3cret@example.invalid/simple',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const log = fs.readFileSync(path.join(sideDir(lockfile), 'events.jsonl'), 'utf8');
    assert.doesNotMatch(log, /s3cret/);
    assert.match(log, /https:\/\/__token__:\*\*\*\*@example\.invalid\/simple/);
  });

  it('report and trace of a lock with no event log are an error, not an empty report', async function () {
    const typo = path.join(dir, 'pip.lok');
    for (const sub of ['report', 'trace']) {
      const r = await runCli([sub, typo]);
      assert.equal(r.status, 1, `${sub}: ${r.stderr}`);
      assert.match(r.stderr, /^piplock: error: no event log for '.*pip\.lok' .*mistyped\r?\n$/);
      assert.equal(fs.existsSync(sideDir(typo)), false, 'nothing created beside the refused path');
    }
    const bad = await runCli(['report', '--since', 'yesterday-ish', lockfile]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^piplock: error: --since: 'yesterday-ish' is not a time/);
  });
});

describe('a wait names the writer it was for, even one that registered after the wait began', function () {
  it('a shared request that met a writer at the gate before the writer registered: its wait names the writer', async function () {
    this.timeout(90_000);
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    // A shared holder keeps the lock busy for a writer (so the gate's stall bound never applies), and a gate
    // holder that is no runner keeps the gate: the reader meets a busy gate with no writer in the registry.
    const reader = await startHolder(lockfile, 'shared');
    const gate = spawn(NODE, [supportScript('programs/gate-holder.js'), lockfile], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let writer: ChildProcess | undefined;
    try {
      await waitForLine(gate, /^holding/);
      const waiting = (pid: number | undefined): boolean =>
        readRegistry(lockfile).some((e) => e.pid === pid && e.state === 'waiting');
      const shared = spawn(
        NODE,
        [CLI, '--lockfile', lockfile, '--mode', 'shared', '--label', '//:importer', '--', NODE, '-e', '0'],
        { stdio: 'ignore' },
      );
      assert.ok(await eventually(() => waiting(shared.pid), 30_000), 'the importer waits at the gate');
      // Only now does a writer come, meet the busy gate, and register as waiting.
      writer = spawn(
        NODE,
        [CLI, '--lockfile', lockfile, '--mode', 'exclusive', '--label', '//:pip_install', '--', NODE, '-e', '0'],
        { stdio: 'ignore' },
      );
      assert.ok(await eventually(() => waiting(writer!.pid), 30_000), 'the writer waits');
      // Give the importer a try or two that sees the writer registered (its tries come 50 ms x attempt apart).
      await new Promise((r) => setTimeout(r, 1500));
      gate.stdin!.end();
      await exited(gate);
      await reader.release();
      assert.equal((await exited(writer)).code, 0);
      assert.equal((await exited(shared)).code, 0);
      const report = JSON.parse((await runCli(['report', '--json', lockfile])).stdout) as Report;
      const wait = report.waits.find((w) => w.label === '//:importer');
      assert.ok(wait, JSON.stringify(report.waits));
      assert.equal(wait.heldBy[0]?.label, '//:pip_install', JSON.stringify(wait.heldBy));
    } finally {
      gate.kill();
      writer?.kill();
      await reader.release();
    }
  });
});
