import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHolder } from '../support/holders';
import { IS_WINDOWS, NODE } from '../support/paths';
import { runCli, tmpDir } from '../support/procs';

interface Stray {
  what: string;
  /** Why the case cannot be made here, if it cannot. */
  posixOnly?: string;
  plant(lockfile: string): void;
}

const d = (lockfile: string): string => `${lockfile}.d`;

const STRAYS: Stray[] = [
  { what: '<lock>.d a regular file', plant: (l) => fs.writeFileSync(d(l), 'x') },
  {
    what: 'the gate a directory',
    posixOnly: 'the Windows gate is a kernel object, not a file',
    plant: (l) => fs.mkdirSync(path.join(d(l), 'gate'), { recursive: true }),
  },
  {
    what: 'the gate a FIFO',
    posixOnly: 'the Windows gate is a kernel object, and Windows has no FIFOs in the file system',
    plant: (l) => {
      fs.mkdirSync(d(l));
      assert.equal(spawnSync('mkfifo', [path.join(d(l), 'gate')]).status, 0);
    },
  },
  {
    what: 'the gate a symlink to a device',
    posixOnly: 'the Windows gate is a kernel object, not a file',
    plant: (l) => {
      fs.mkdirSync(d(l));
      fs.symlinkSync('/dev/null', path.join(d(l), 'gate'));
    },
  },
  {
    what: 'the gate a symlink to itself',
    posixOnly: 'the Windows gate is a kernel object, not a file',
    plant: (l) => {
      fs.mkdirSync(d(l));
      fs.symlinkSync(path.join(d(l), 'gate'), path.join(d(l), 'gate'));
    },
  },
];

describe('a stray file where piplock keeps its side files', function () {
  for (const stray of STRAYS) {
    for (const mode of ['shared', 'exclusive'] as const) {
      it(`${stray.what}: ${mode === 'shared' ? 'a shared' : 'an exclusive'} runner warns once and locks all the same`, async function () {
        if (stray.posixOnly && IS_WINDOWS) {
          console.log(`      pending: ${stray.posixOnly}`);
          this.skip();
        }
        const lockfile = path.join(tmpDir(), 'pip.lock');
        stray.plant(lockfile);
        const r = await runCli([
          '--lockfile',
          lockfile,
          '--mode',
          mode,
          '--timeout',
          '10s',
          '--',
          NODE,
          '-e',
          'process.stdout.write("ran")',
        ]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, 'ran');
        const lines = r.stderr.split('\n').filter((l) => l !== '');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0]!, /^piplock: warn: /);
        assert.doesNotMatch(lines[0]!, /lock file '[^']*\.d/, 'a side file is not called the lock file');
        // The lock is still a lock.
        const holder = await startHolder(lockfile, 'exclusive', { bare: true });
        try {
          const busy = await runCli(['--lockfile', lockfile, '--mode', mode, '--timeout', '0', '--', NODE, '-e', '0']);
          assert.equal(busy.status, 1, busy.stderr);
        } finally {
          await holder.release();
        }
      });
    }
  }
});

describe('side files are never written through a planted symlink', function () {
  it('a symlink as the gate or the release file: its target is neither created, written nor touched', async function () {
    if (IS_WINDOWS) {
      console.log('      pending: on Windows the gate and the release signal are kernel objects, not files');
      this.skip();
    }
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'precious');
    const past = new Date(2020, 0, 1);
    fs.utimesSync(victim, past, past);
    fs.mkdirSync(d(lockfile));
    fs.symlinkSync(victim, path.join(d(lockfile), 'gate'));
    fs.symlinkSync(path.join(dir, 'created'), path.join(d(lockfile), 'release'));
    // A holder makes the runner wait, so that it listens for the release signal and is signalled.
    const holder = await startHolder(lockfile, 'exclusive', { bare: true });
    const waiting = runCli(['--lockfile', lockfile, '--mode', 'shared', '--timeout', '20s', '--', NODE, '-e', '0']);
    await new Promise((r) => setTimeout(r, 500));
    await holder.release();
    const r = await waiting;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
    assert.equal(fs.statSync(victim).mtimeMs, past.getTime(), 'the target of the gate symlink is not touched');
    assert.ok(!fs.existsSync(path.join(dir, 'created')), 'the target of the release symlink is not created');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['pip.lock', 'pip.lock.d', 'victim']);
  });

  it('the registry writes its entry through a new file of its own: a planted file or symlink in the registry is left alone', async function () {
    if (IS_WINDOWS) {
      console.log('      pending: creating symlinks needs a privilege on Windows');
      this.skip();
    }
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.mkdirSync(d(lockfile));
    // The names the writer used for its temporary file, for PIDs around the next ones.
    const last = Number(fs.readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
    for (let pid = last; pid < last + 200; pid++) fs.symlinkSync(victim, path.join(d(lockfile), `.${pid}.tmp`));
    // A holder makes the runner wait, so that it registers as waiting, then as holding.
    const holder = await startHolder(lockfile, 'exclusive', { bare: true });
    const waiting = runCli(['--lockfile', lockfile, '--mode', 'shared', '--timeout', '20s', '--', NODE, '-e', '0']);
    await new Promise((r) => setTimeout(r, 500));
    await holder.release();
    const r = await waiting;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
  });
});
