import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHolder } from '../support/holders';
import { tmpDir, which } from '../support/procs';
import type { Holder } from '../support/holders';
import { assertEnded, cliBounded, describeRun, gnArgs } from '../support/bad-input';

/**
 * Observed through behaviour, whatever the mechanism: while a SHARED holder holds the lock, an exclusive
 * request times out at --timeout 1s (status 1) and a shared one runs. The pip commands are `--version`, harmless if misread as shared and run. Fake `pip`, `pipx` modules and a script
 * on PYTHONPATH print "ran" so that a shared command shows it ran; the exclusive ones never start.
 */
const EXCLUSIVE: string[][] = [
  ['-Im', 'pip', '--version'],
  ['-I', '-m', 'pip', '--version'],
  ['-mpip', '--version'],
  ['-Esm', 'pip', '--version'],
  ['-X', 'dev', '-m', 'pip', '--version'],
];
const SHARED: string[][] = [
  ['-c', 'import pip'],
  ['-m', 'pipx'],
  ['SCRIPT', '-m', 'pip'],
];

describe('hardening: pip classification, observed against a shared holder', function () {
  let python: string | undefined;
  let dir: string;
  let lockfile: string;
  let holder: Holder | undefined;

  before(async function () {
    python = which('python3');
    // The cases are about how python3 command lines are read; without a python3 on PATH they cannot run.
    if (!python) this.skip();
    dir = tmpDir();
    lockfile = path.join(dir, 'pip.lock');
    fs.writeFileSync(path.join(dir, 'pip.py'), 'print("ran")\n');
    fs.writeFileSync(path.join(dir, 'pipx.py'), 'print("ran")\n');
    fs.writeFileSync(path.join(dir, 'script.py'), 'print("ran")\n');
    fs.writeFileSync(path.join(dir, 'pip_install_python_deps.py'), 'print("ran")\n');
    holder = await startHolder(lockfile, 'shared');
  });
  after(async function () {
    await holder?.release();
  });

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PYTHONPATH: dir });
  const args = (a: string[]): string[] => a.map((x) => (x === 'SCRIPT' ? path.join(dir, 'script.py') : x));

  function assertExclusive(r: Awaited<ReturnType<typeof cliBounded>>): void {
    assertEnded(r);
    assert.equal(r.status, 1, `waited for the shared holder and timed out: ${describeRun(r)}`);
    assert.match(r.stderr, /^piplock: error: timed out .*exclusive/, describeRun(r));
    assert.doesNotMatch(r.stdout, /ran/, describeRun(r));
  }
  function assertShared(r: Awaited<ReturnType<typeof cliBounded>>): void {
    assertEnded(r);
    assert.equal(r.status, 0, `ran beside the shared holder: ${describeRun(r)}`);
    assert.match(r.stdout, /ran/, describeRun(r));
  }

  for (const a of EXCLUSIVE) {
    it(`run (auto): python3 ${a.join(' ')} is exclusive`, async function () {
      assertExclusive(
        await cliBounded(['--lockfile', lockfile, '--timeout', '1s', '--', 'python3', ...args(a)], 20_000, {
          env: env(),
        }),
      );
    });
  }
  for (const a of SHARED) {
    it(`run (auto): python3 ${a.join(' ')} is shared`, async function () {
      assertShared(
        await cliBounded(['--lockfile', lockfile, '--timeout', '1s', '--', 'python3', ...args(a)], 20_000, {
          env: env(),
        }),
      );
    });
  }

  const runner = (extra: string[]): Promise<Awaited<ReturnType<typeof cliBounded>>> =>
    cliBounded(
      [
        'python-runner',
        ...gnArgs(dir),
        '--python',
        python!,
        '--lockfile',
        lockfile,
        '--timeout',
        '1s',
        `--env=PYTHONPATH=${dir}`,
        ...extra,
      ],
      20_000,
      { cwd: dir, env: env() },
    );

  it('python-runner: --module pip is exclusive', async function () {
    assertExclusive(await runner(['--module', 'pip', '--', '--version']));
  });
  it('python-runner: --module pipx is shared', async function () {
    assertShared(await runner(['--module', 'pipx', '--']));
  });
  it('python-runner: the script pip_install_python_deps.py is exclusive', async function () {
    assertExclusive(await runner(['--', path.join(dir, 'pip_install_python_deps.py')]));
  });
  it('python-runner: another script with -m pip among its arguments is shared', async function () {
    assertShared(await runner(['--', path.join(dir, 'script.py'), '-m', 'pip']));
  });
});
