/**
 * Runners in two PID namespaces (two containers) on one build directory: the same PIDs mean other processes in
 * each, so the registry must neither mix their entries up nor take another namespace's live runner for dead
 * (issue 18, item 14).
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LockMode } from '../../platform';
import { readRegistry } from '../../src/runner/registry';
import { inNewPidNamespace, noPidNamespace } from '../support/namespaces';
import { CLI, NODE } from '../support/paths';
import { phaseCommand, phases } from '../support/phases';
import { eventually, exited, run, tmpDir } from '../support/procs';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A runner that is PID 1 of a PID namespace of its own. */
function nsRunner(lockfile: string, mode: LockMode, command: string[]): ChildProcess {
  const runner = [NODE, CLI, '--lockfile', lockfile, '--mode', mode, '--timeout', '60s', '--', ...command];
  return spawn('unshare', inNewPidNamespace(runner), { stdio: ['ignore', 'ignore', 'pipe'] });
}

function stderrOf(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (d) => (text += d));
  return () => text;
}

async function succeeds(child: ChildProcess, stderr: () => string): Promise<void> {
  const { code } = await exited(child);
  assert.equal(code, 0, stderr());
}

describe('runners in two PID namespaces on one build directory', function () {
  before(function () {
    const why = noPidNamespace();
    if (why !== undefined) {
      console.log(`      pending: ${why}`);
      this.skip();
    }
  });

  it('two runners that are each PID 1 of their namespace are both registered, and readers anywhere keep both entries', async function () {
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const log = path.join(dir, 'log');
    const go = path.join(dir, 'go');
    const a = nsRunner(lockfile, 'shared', phaseCommand(log, 'A', { go }));
    const b = nsRunner(lockfile, 'shared', phaseCommand(log, 'B', { go }));
    const [aErr, bErr] = [stderrOf(a), stderrOf(b)];
    try {
      assert.ok(await eventually(() => phases(log).length === 2, 30_000), 'both hold');
      // Entries are written just after the command starts.
      await sleep(300);
      // A reader in a third namespace (PID 1 there too), then one in the test's own.
      const r = await run('unshare', inNewPidNamespace([NODE, CLI, 'status', '--json', lockfile]));
      assert.equal(r.status, 0, r.stderr);
      const seen = (JSON.parse(r.stdout) as { entries: Array<{ registered: boolean; state: string }> }).entries;
      assert.equal(
        seen.filter((e) => e.registered && e.state === 'holding').length,
        2,
        `both runners, as another namespace's reader sees them: ${r.stdout}`,
      );
      const here = readRegistry(lockfile);
      assert.equal(here.length, 2, `both runners, as this namespace's reader sees them: ${JSON.stringify(here)}`);
      assert.deepEqual(
        here.map((e) => e.pid),
        [1, 1],
        'each is PID 1 of its own namespace',
      );
    } finally {
      fs.writeFileSync(go, '');
      await succeeds(a, aErr);
      await succeeds(b, bErr);
    }
    assert.deepEqual(readRegistry(lockfile), [], 'no entry once both are done');
    assert.deepEqual(
      fs.readdirSync(`${lockfile}.d`).filter((n) => n.endsWith('.json')),
      [],
      'and no file left behind',
    );
  });

  it('a nested runner of one namespace that outlives its ancestor keeps the exclusive runner of another waiting', async function () {
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const log = path.join(dir, 'log');
    const outerDone = path.join(dir, 'outer-done');
    const go = path.join(dir, 'go');
    fs.writeFileSync(log, '');
    // Namespace A: an init (sh) that outlives the outer runner, whose command starts a nested runner in the
    // background and exits once the nested command runs.
    const nested = [NODE, CLI, '--lockfile', lockfile, '--mode', 'exclusive', '--', ...phaseCommand(log, 'N', { go })];
    const outerCode = `const {spawn}=require('child_process');const fs=require('fs');
const c=spawn(process.argv[1],process.argv.slice(2),{stdio:'ignore',detached:true});c.unref();
const t=setInterval(()=>{if(fs.readFileSync(${JSON.stringify(log)},'utf8').includes('N-start'))process.exit(0)},20);`;
    const outer = [NODE, CLI, '--lockfile', lockfile, '--mode', 'exclusive', '--', NODE, '-e', outerCode, ...nested];
    const script = `${outer.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}; echo $? > '${outerDone}'; sleep 120`;
    const nsA = spawn('unshare', inNewPidNamespace(['sh', '-c', script]), { stdio: 'ignore' });
    let late: ChildProcess | undefined;
    let lateErr = (): string => '';
    try {
      assert.ok(await eventually(() => fs.existsSync(outerDone), 30_000), 'the outer runner has ended');
      assert.equal(fs.readFileSync(outerDone, 'utf8').trim(), '0');
      assert.deepEqual(phases(log), ['N-start'], 'the nested command runs on');
      // Namespace B: the late runner, PID 1 there, for whom namespace A's PIDs mean nothing.
      late = nsRunner(lockfile, 'exclusive', phaseCommand(log, 'X', { ms: 100 }));
      lateErr = stderrOf(late);
      await sleep(1500);
      assert.deepEqual(phases(log), ['N-start'], "the late runner's command waits for the nested one");
    } finally {
      fs.writeFileSync(go, '');
      if (late) await succeeds(late, lateErr);
      nsA.kill('SIGKILL');
      await exited(nsA);
    }
    assert.deepEqual(phases(log), ['N-start', 'N-end', 'X-start', 'X-end']);
  });
});
