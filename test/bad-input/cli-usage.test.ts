import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IS_WINDOWS, NODE } from '../support/paths';
import { startHolder } from '../support/holders';
import { tmpDir } from '../support/procs';
import {
  assertEnded,
  assertFree,
  assertOneError,
  cliBounded,
  describeRun,
  gnArgs,
  listing,
  type Bounded,
} from '../support/bad-input';

/** A node command that creates `marker`. */
function makes(marker: string): string[] {
  return [NODE, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`];
}

describe('hardening: usage errors and odd commands', function () {
  for (const prefix of [[], ['run']]) {
    const shown = ['piplock', ...prefix, '--lockfile', '--', 'cmd'].join(' ');
    it(`${shown}: --lockfile without a value is a usage error (status 2) and the command does not run`, async function () {
      const cwd = tmpDir();
      const marker = path.join(tmpDir(), 'ran');
      const r = await cliBounded([...prefix, '--lockfile', '--', ...makes(marker)], 20_000, { cwd });
      assertOneError(r, /--lockfile/, [2]);
      assert.ok(!fs.existsSync(marker), 'the command did not run');
      assert.deepEqual(listing(cwd), [], 'no lock file named -- (or anything else) in the working directory');
    });
  }

  it("'piplock stauts L' names the unknown command 'stauts' (status 2), not a missing --lockfile", async function () {
    const cwd = tmpDir();
    const r = await cliBounded(['stauts', path.join(cwd, 'pip.lock')], 20_000, { cwd });
    assertOneError(r, /stauts/, [2]);
    assert.doesNotMatch(r.stderr, /--lockfile/, describeRun(r));
  });

  // Status 1, as python_runner.py at 6c03473f8 exits here (test/python-runner/reference.test.ts, 'agrees on no "--"'):
  // python-runner answers as the runner it replaces, where run answers a usage error with 2.
  it('python-runner with no command exits 1 with one error line, as the reference runner does', async function () {
    const dir = tmpDir();
    const r = await cliBounded(
      ['python-runner', ...gnArgs(dir), '--python', NODE, '--lockfile', path.join(dir, 'pip.lock')],
      20_000,
      { cwd: dir },
    );
    assertOneError(r, /command|script|module/i, [1]);
  });

  it('a lock path whose parent is a regular file: the error says "not a directory" (not EEXIST)', async function () {
    const dir = tmpDir();
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    const lockfile = path.join(file, 'pip.lock');
    const r = await cliBounded(['--lockfile', lockfile, '--', NODE, '-e', '0']);
    assertOneError(r, /not a directory/i);
    assert.doesNotMatch(r.stderr, /EEXIST|already exists/i, describeRun(r));
    assert.deepEqual(listing(dir), ['file'], 'nothing created beside the file');
  });

  it('a huge --notice-after 99999999999 prints no TimeoutOverflowWarning while waiting', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive');
    let r: Bounded;
    try {
      r = await cliBounded([
        '--lockfile',
        lockfile,
        '--mode',
        'shared',
        '--timeout',
        '1s',
        '--notice-after',
        '99999999999',
        '--',
        NODE,
        '-e',
        '0',
      ]);
    } finally {
      await holder.release();
    }
    assertEnded(r);
    assert.doesNotMatch(r.stderr, /TimeoutOverflowWarning/, describeRun(r));
    assert.equal(r.status, 1, `timed out at --timeout 1s: ${describeRun(r)}`);
    assert.match(r.stderr, /^piplock: error: timed out[^\n]*\n$/, `only the timeout line: ${describeRun(r)}`);
    await assertFree(lockfile);
  });

  it('a huge --timeout 99999999999 prints no TimeoutOverflowWarning: it waits silently, or is refused with one error line', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive');
    let r: Bounded;
    try {
      // The test's 3 s kill timer ends a runner that waits as asked.
      r = await cliBounded(
        ['--lockfile', lockfile, '--mode', 'shared', '--timeout', '99999999999', '--', NODE, '-e', '0'],
        3000,
      );
    } finally {
      await holder.release();
    }
    assert.doesNotMatch(r.stderr, /TimeoutOverflowWarning/, describeRun(r));
    if (r.killed) assert.equal(r.stderr, '', `waited silently: ${describeRun(r)}`);
    else assertOneError(r, /--timeout|99999999999/);
    await assertFree(lockfile);
  });

  describe('commands the kernel refuses to execute', function () {
    before(function () {
      // Shebangs and ELF files are POSIX executables; Windows has neither (CreateProcess refuses by extension).
      if (IS_WINDOWS) this.skip();
    });

    const cases: Array<[string, string | Buffer]> = [
      ['a script with a shebang naming a missing interpreter', '#!/nonexistent/interpreter\necho hi\n'],
      [
        'a file that starts like ELF but is not one',
        Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56, 0xff)]),
      ],
    ];
    for (const [what, content] of cases) {
      it(`${what}: one piplock: error: line, status 126 or 127, no shell message`, async function () {
        const dir = tmpDir();
        const lockfile = path.join(dir, 'pip.lock');
        const cmd = path.join(dir, 'bad-command');
        fs.writeFileSync(cmd, content, { mode: 0o755 });
        const r = await cliBounded(['--lockfile', lockfile, '--', cmd, 'arg']);
        assertOneError(r, new RegExp(cmd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), [126, 127]);
        assert.doesNotMatch(r.stderr, /exec:|\bsh:|: \d+: /, `no shell message: ${describeRun(r)}`);
        await assertFree(lockfile);
      });
    }
  });
});
