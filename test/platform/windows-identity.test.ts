/**
 * The identity check of acquire() on Windows: the lock handle and the path
 * are compared through one Win32 call, never through Node's stat.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { platform } from '../../platform';
import { startHolder } from '../support/holders';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { eventually, exited, nodeEval, run, runCli, tmpDir } from '../support/procs';

const WIDE_DEV = path.join(__dirname, '..', 'support', 'wide-dev.js');

/** Whether another process holds the mutex `name` (a gate, opened by name from here). */
function mutexHeld(name: string): boolean {
  const { win32 } = require('../support/win32') as typeof import('../support/win32');
  const w = win32();
  const h = w.OpenMutexW(0x00100000, 0, name); // SYNCHRONIZE
  if (w.isNull(h)) return false;
  const r = w.WaitForSingleObject(h, 0);
  if (r !== 0x102) w.ReleaseMutex(h);
  w.CloseHandle(h);
  return r === 0x102; // WAIT_TIMEOUT: another holds it
}

const ZERO_IDS = path.join(__dirname, '..', 'support', 'zero-file-ids.js');

/**
 * The environment of a process on a file system without file IDs (see support/zero-file-ids.ts), which its children
 * inherit. PIPLOCK_TEST_SABOTAGE=noidfallback: the preload hides the zero IDs and error 124 from the fallbacks.
 */
function noIds(mode: 'all' | '128' | '124' = 'all'): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: `-r ${JSON.stringify(ZERO_IDS)}`, PIPLOCK_TEST_ZERO_IDS: mode };
}

/**
 * The runner CLI as tsc compiled it: the preload wraps the kernel32 module
 * that dist/platform holds, which the bundled CLI (dist/bin) has a copy of.
 */
const UNBUNDLED_CLI = path.join(__dirname, '..', '..', 'src', 'cli.js');

function runUnbundled(args: string[], options: { env: NodeJS.ProcessEnv }) {
  return run(NODE, [UNBUNDLED_CLI, ...args], options);
}

/** platform.fileIdentity() of each file, read in a process under noIds(mode). */
async function identitiesWithout(
  mode: 'all' | '128' | '124',
  files: string[],
): Promise<{ dev: string; ino: string; unreliable?: true }[]> {
  const code = `const { platform } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'platform'))}); process.stdout.write(JSON.stringify(${JSON.stringify(files)}.map((f) => platform.fileIdentity(f)), (k, v) => typeof v === 'bigint' ? v.toString(16) : v))`;
  const r = await run(NODE, ['-e', code], { env: noIds(mode) });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('Windows: lock file identity', function () {
  before(function () {
    // POSIX compares fstat(fd) with stat(path), both from libc: one source by design.
    if (!IS_WINDOWS) this.skip();
  });

  it('the preload widens the volume serial in Node stat of a path (the condition the next test runs under)', async function () {
    const file = path.join(tmpDir(), 'pip.lock');
    fs.writeFileSync(file, '');
    const r = await run(NODE, [
      '-r',
      WIDE_DEV,
      '-e',
      `process.stdout.write(String(require('fs').statSync(${JSON.stringify(file)}, { bigint: true }).dev))`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(BigInt(r.stdout) > 0xffff_ffffn, `dev ${r.stdout} has bits above 32`);
  });

  it('takes the lock at once when Node stat reports a 64-bit volume serial', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await run(NODE, [
      '-r',
      WIDE_DEV,
      CLI,
      '--lockfile',
      lockfile,
      '--mode',
      'shared',
      '--timeout',
      '5s',
      '--',
      ...nodeEval('0'),
    ]);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
  });

  it('a handle and its path have one identity, and two files two', function () {
    const dir = tmpDir();
    const a = path.join(dir, 'a.lock');
    const b = path.join(dir, 'b.lock');
    fs.writeFileSync(b, '');
    const h = platform.openLockHandle(a);
    try {
      const id = h.identity();
      assert.deepEqual(platform.fileIdentity(a), id);
      assert.deepEqual(platform.fileIdentity(a.toUpperCase()), id, 'another spelling of the path');
      assert.notDeepEqual(platform.fileIdentity(b), id);
      assert.equal(platform.fileIdentity(path.join(dir, 'none.lock')), undefined);
    } finally {
      h.close();
    }
  });

  it('a held lock is not reported replaced while Node stat reports a 64-bit volume serial', async function () {
    // The guard re-checks the identity every 200 ms while the command runs.
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await runCli(
      ['--lockfile', lockfile, '--timeout', '5s', '--', ...nodeEval('setTimeout(() => {}, 1500)')],
      {
        env: { ...process.env, NODE_OPTIONS: `-r ${JSON.stringify(WIDE_DEV)}` },
      },
    );
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
  });
  describe('a file system without file IDs (support/zero-file-ids.ts)', function () {
    it('a FileId of 0 is ignored: the 64-bit index tells two files apart', async function () {
      const dir = tmpDir();
      const files = ['a.lock', 'b.lock'].map((n) => path.join(dir, n));
      for (const f of files) fs.writeFileSync(f, '');
      const [a, b] = await identitiesWithout('128', files);
      assert.notEqual(a!.ino, '0', 'not the FileId of 0');
      assert.notDeepEqual(a, b);
      assert.equal(a!.unreliable, undefined, 'an index is an ID');
    });

    it('a FileIdInfo error other than ERROR_INVALID_HANDLE (Samba answers 124) falls back to the 64-bit index: the lock is taken', async function () {
      const dir = tmpDir();
      const files = ['a.lock', 'b.lock'].map((n) => path.join(dir, n));
      for (const f of files) fs.writeFileSync(f, '');
      const [a, b] = await identitiesWithout('124', files);
      assert.notDeepEqual(a, b);
      const r = await runUnbundled(['--lockfile', files[0]!, '--timeout', '5s', '--', ...nodeEval('0')], {
        env: noIds('124'),
      });
      assert.equal(r.stderr, '');
      assert.equal(r.status, 0);
    });

    it('where the index is 0 too, the identity is marked unreliable and derived from the name: two files, two gates', async function () {
      const dir = tmpDir();
      const files = ['a.lock', 'b.lock'].map((n) => path.join(dir, n));
      for (const f of files) fs.writeFileSync(f, '');
      const [a, b, a2] = await identitiesWithout('all', [...files, files[0]!.toUpperCase()]);
      // A writer waiting on a.lock holds its gate; a reader of b.lock must not queue behind it.
      const holder = await startHolder(files[0]!, 'exclusive');
      const writer = runUnbundled(
        ['--lockfile', files[0]!, '--mode', 'exclusive', '--timeout', '60s', '--', ...nodeEval('0')],
        { env: noIds() },
      );
      try {
        assert.ok(
          await eventually(() => mutexHeld(`Global\\piplock-gate-${a!.dev}-${a!.ino}`), 30_000),
          'the writer waits at the gate of a.lock',
        );
        const r = await runUnbundled(
          ['--lockfile', files[1]!, '--mode', 'shared', '--timeout', '0', '--', ...nodeEval('0')],
          { env: noIds() },
        );
        assert.equal(r.status, 0, `a reader of b.lock is not turned away at a.lock's gate: ${r.stderr}`);
      } finally {
        await holder.release();
        const w = await writer;
        assert.equal(w.status, 0, w.stderr);
      }
      assert.equal(a!.unreliable, true);
      assert.notDeepEqual(a, b, 'two files, two identities');
      assert.deepEqual(a2, a, 'two spellings of one file, one identity');
    });

    for (const how of ['deleted', 'replaced'] as const) {
      it(`where the index is 0 too, the runner still sees its lock file ${how} during a hold`, async function () {
        if (
          how === 'replaced' &&
          (require('../support/win32') as typeof import('../support/win32')).win32().wineVersion !== undefined
        ) {
          // Without file IDs a handle's file is told from a new one at its name by the handle's own name
          // (GetFinalPathNameByHandleW), which Wine does not update when another process renames the file.
          console.log('      pending: Wine keeps the name a handle was opened with after a rename; appveyor runs this');
          this.skip();
        }
        const dir = tmpDir();
        const lockfile = path.join(dir, 'pip.lock');
        const go = path.join(dir, 'go');
        const started = path.join(dir, 'started');
        const code = `const fs=require('fs');fs.writeFileSync(${JSON.stringify(started)},'');const t=setInterval(()=>{if(fs.existsSync(${JSON.stringify(go)}))clearInterval(t)},20)`;
        const runner = spawn(
          NODE,
          [UNBUNDLED_CLI, '--lockfile', lockfile, '--mode', 'exclusive', '--', NODE, '-e', code],
          {
            stdio: ['ignore', 'ignore', 'pipe'],
            env: noIds(),
          },
        );
        let stderr = '';
        runner.stderr!.on('data', (d) => (stderr += d));
        try {
          assert.ok(await eventually(() => fs.existsSync(started), 30_000), 'the command started');
          if (how === 'deleted') fs.unlinkSync(lockfile);
          else {
            // Renamed away and a new file made at the path: only the name is the same.
            fs.renameSync(lockfile, `${lockfile}.old`);
            fs.writeFileSync(lockfile, '');
          }
          // readdir lists a name that stays, though stat (and so existsSync) fails on it on Windows.
          if (how === 'deleted' && fs.readdirSync(dir).includes('pip.lock')) {
            // The name of a deleted file that another process holds stays, under Wine and with legacy delete semantics
            // (Node 20's unlink, Server 2019, FAT). Wine lets newcomers open that same file, whose lock still excludes
            // them; Windows lets nobody open it, so newcomers are busy, and the runner sees its handle pending deletion.
            const r = await runUnbundled(['--lockfile', lockfile, '--timeout', '0', '--', ...nodeEval('0')], {
              env: noIds(),
            });
            assert.equal(r.status, 1, `refused: ${r.stderr}`);
            if (!fs.existsSync(lockfile)) {
              assert.ok(
                await eventually(
                  () =>
                    /piplock: warn: the lock file '.*pip\.lock' was deleted while held; its name stays until every holder lets go/.test(
                      stderr,
                    ),
                  10_000,
                ),
                `the guard saw it pending deletion: ${stderr}`,
              );
            }
            return;
          }
          assert.ok(
            await eventually(
              () => /piplock: warn: the lock file '.*pip\.lock' was (removed|replaced) while held/.test(stderr),
              10_000,
            ),
            `the guard saw it: ${stderr}`,
          );
        } finally {
          fs.writeFileSync(go, '');
          const { code: status } = await exited(runner);
          assert.equal(status, 0, stderr);
        }
      });
    }
  });
});
