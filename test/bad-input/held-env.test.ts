import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, NODE } from '../support/paths';
import { startHolder } from '../support/holders';
import { tmpDir } from '../support/procs';
import { assertEnded, assertFree, cliBounded, describeRun, gnArgs } from '../support/bad-input';

function canonical(lockfile: string): string {
  const c = fs.realpathSync.native(lockfile);
  return process.platform === 'win32' || process.platform === 'darwin' ? c.toLowerCase() : c;
}

/** Forged values: each claims a lock on the file that no living piplock ancestor holds. */
const FORGED: Array<[string, (c: string) => string, 'shared' | 'exclusive']> = [
  ['exclusive:<path>, asking shared', (c) => `exclusive:${c}`, 'shared'],
  ['exclusive:<path>, asking exclusive', (c) => `exclusive:${c}`, 'exclusive'],
  ['shared:<path>, asking shared', (c) => `shared:${c}`, 'shared'],
  [
    'exclusive:<path> among other lines',
    (c) => `shared:${path.join(path.dirname(c), 'other.lock')}\nexclusive:${c}`,
    'shared',
  ],
  ['a stale format with a PID: exclusive:<dead pid>:<path>', (c) => `exclusive:999999:${c}`, 'shared'],
];

describe('hardening: a PIPLOCK_HELD that no living ancestor backs does not switch locking off', function () {
  for (const [what, value, mode] of FORGED) {
    it(`run: forged PIPLOCK_HELD (${what}) still waits for the holder and warns about PIPLOCK_HELD`, async function () {
      const dir = tmpDir();
      const lockfile = path.join(dir, 'pip.lock');
      const marker = path.join(dir, 'ran');
      const holder = await startHolder(lockfile, 'exclusive');
      let r;
      try {
        r = await cliBounded(
          [
            '--lockfile',
            lockfile,
            '--mode',
            mode,
            '--timeout',
            '1s',
            '--',
            NODE,
            '-e',
            `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
          ],
          20_000,
          {
            env: { ...process.env, PIPLOCK_HELD: value(canonical(lockfile)) },
          },
        );
      } finally {
        await holder.release();
      }
      assertEnded(r);
      assert.ok(!fs.existsSync(marker), `the command did not run beside the exclusive holder: ${describeRun(r)}`);
      assert.equal(r.status, 1, `timed out: ${describeRun(r)}`);
      assert.match(r.stderr, /PIPLOCK_HELD/, `a warning names PIPLOCK_HELD: ${describeRun(r)}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, describeRun(r));
      await assertFree(lockfile);
    });
  }

  it('python-runner: a forged PIPLOCK_HELD still waits for the holder and warns about PIPLOCK_HELD', async function () {
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const marker = path.join(dir, 'ran');
    const script = path.join(dir, 'script.py');
    fs.writeFileSync(script, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`);
    const holder = await startHolder(lockfile, 'exclusive');
    let r;
    try {
      r = await cliBounded(
        ['python-runner', ...gnArgs(dir), '--python', NODE, '--lockfile', lockfile, '--timeout', '1s', '--', script],
        20_000,
        {
          cwd: dir,
          env: { ...process.env, PIPLOCK_HELD: `exclusive:${canonical(lockfile)}` },
        },
      );
    } finally {
      await holder.release();
    }
    assertEnded(r);
    assert.ok(!fs.existsSync(marker), `the script did not run beside the exclusive holder: ${describeRun(r)}`);
    assert.equal(r.status, 1, describeRun(r));
    assert.match(r.stderr, /PIPLOCK_HELD/, describeRun(r));
  });

  it('a genuine nested runner (piplock run inside piplock run on the same lock) runs without waiting and without a warning', async function () {
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const marker = path.join(dir, 'ran');
    const inner = `const r = require('child_process').spawnSync(process.argv[1], process.argv.slice(2), { stdio: 'inherit' }); process.exit(r.status === null ? 99 : r.status);`;
    const r = await cliBounded([
      '--lockfile',
      lockfile,
      '--mode',
      'exclusive',
      '--',
      NODE,
      '-e',
      inner,
      NODE,
      CLI,
      '--lockfile',
      lockfile,
      '--mode',
      'shared',
      '--timeout',
      '1s',
      '--',
      NODE,
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
    ]);
    assertEnded(r);
    assert.equal(r.status, 0, describeRun(r));
    assert.ok(fs.existsSync(marker), 'the inner command ran');
    assert.equal(r.stderr, '', 'no warning for a genuine nesting');
    await assertFree(lockfile);
  });
});
