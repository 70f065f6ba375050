import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { platform } from '../../platform';
import { startHolder } from '../support/holders';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { entryFileName } from '../../src/runner/registry';
import { eventually, exited, run, runCli, tmpDir, waitForLine } from '../support/procs';
import { noPidNamespace } from '../support/namespaces';

describe('piplock status says free only when a try on the lock says so', function () {
  it('a holder it cannot see (from another PID namespace, whose /proc/locks hides it): held, not free', async function () {
    const why = noPidNamespace();
    if (why !== undefined) {
      console.log(`      pending: ${why}`);
      this.skip();
    }
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive', { bare: true });
    try {
      const r = await run('unshare', ['-p', '-f', '--mount-proc', '--', NODE, CLI, 'status', lockfile]);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /free/);
      assert.match(r.stdout, /held, by a process piplock cannot see/);
    } finally {
      await holder.release();
    }
    const after = await runCli(['status', lockfile]);
    assert.match(after.stdout, /: free \(no holders, no waiters\)/);
  });

  it('a lock file that does not exist (a mistyped path): says so, status 1, and creates nothing', async function () {
    const dir = tmpDir();
    const typo = path.join(dir, 'out', 'pip.lok');
    const r = await runCli(['status', typo]);
    assert.equal(r.status, 1, r.stdout);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^piplock: error: no lock file '.*pip\.lok': nothing has locked it yet, or the path is mistyped\r?\n$/,
    );
    assert.equal(fs.existsSync(path.join(dir, 'out')), false, 'nothing created');
    const empty = await runCli(['status', '']);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /^piplock: error: status: the lock file is an empty string\r?\n$/);
  });

  for (const [what, make] of [
    ['a directory', (dir: string): string => dir],
    ...(IS_WINDOWS ? [] : [['/dev/null', (): string => '/dev/null'] as const]),
  ] as const) {
    it(`${what}: one error line and status 1, not "free"`, async function () {
      const r = await runCli(['status', make(tmpDir())]);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /^piplock: error: cannot use '.*' as a lock file: it is (a directory|not a regular file)\n$/,
      );
    });
  }

  it('lists a runner with a command line of 100 KiB, shortened', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const long = 'x'.repeat(100 * 1024);
    const holder = await startHolder(lockfile, 'exclusive', { bare: true });
    try {
      const waiting = runCli(['--lockfile', lockfile, '--timeout', '20s', '--', NODE, '-e', '0', long]);
      let listed = false;
      for (let i = 0; i < 100 && !listed; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const s = await runCli(['status', '--json', lockfile]);
        listed = (JSON.parse(s.stdout) as { entries: { registered: boolean }[] }).entries.some((e) => e.registered);
      }
      assert.ok(listed, 'the waiting runner is listed');
      await holder.release();
      assert.equal((await waiting).status, 0);
    } finally {
      await holder.release();
    }
  });

  it('an entry whose since is out of range is ignored, and --json still answers', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    fs.writeFileSync(lockfile, '');
    fs.mkdirSync(`${lockfile}.d`);
    // With the start tag this process has, so that only `since` is wrong.
    const start = platform.startTag(process.pid);
    const entry = { pid: process.pid, mode: 'shared', state: 'holding', command: ['x'], since: 1e300, start };
    fs.writeFileSync(path.join(`${lockfile}.d`, `${process.pid}.json`), JSON.stringify(entry));
    const r = await runCli(['status', '--json', lockfile]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { entries: unknown[] }).entries, []);
  });

  it('prints control characters of an argv escaped: no terminal escapes, no fake lines', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const holder = await startHolder(lockfile, 'exclusive', { bare: true });
    try {
      const waiting = runCli([
        '--lockfile',
        lockfile,
        '--timeout',
        '20s',
        '--',
        NODE,
        '-e',
        '0',
        '\x1b[2J\nPID 1 fake',
      ]);
      let out = '';
      for (let i = 0; i < 100 && !out.includes('fake'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        out = (await runCli(['status', lockfile])).stdout;
      }
      assert.match(out, /\$'\\x1b\[2J\\x0aPID 1 fake'/);
      assert.ok(!out.includes('\x1b'), 'no raw escape');
      await holder.release();
      assert.equal((await waiting).status, 0);
    } finally {
      await holder.release();
    }
  });

  it('a holder of another file with the same inode number on another file system is not listed (Linux, /proc/locks)', async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0 || spawnSync('unshare', ['-m', 'true']).status !== 0) {
      console.log('      pending: needs root and a mount namespace (unshare -m) for two tmpfs mounts');
      this.skip();
    }
    const dir = tmpDir();
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    // Two fresh tmpfs mounts number their first files alike: the lock file and an unrelated file, both inode 2.
    const script = [
      `mount -t tmpfs none '${a}' && mount -t tmpfs none '${b}' || exit 3`,
      `touch '${a}/pip.lock' '${b}/other'`,
      `[ "$(stat -c %i '${a}/pip.lock')" = "$(stat -c %i '${b}/other')" ] || { echo 'no inode alike' >&2; exit 4; }`,
      `flock '${b}/other' sh -c 'while [ ! -e "$0" ]; do sleep 0.05; done' '${dir}/stop' >/dev/null 2>&1 &`,
      `while ! grep -q ':'"$(stat -c %i '${b}/other')"' ' /proc/locks; do sleep 0.05; done`,
      `'${NODE}' '${CLI}' status --json '${a}/pip.lock'; status=$?`,
      `touch '${dir}/stop'; wait; exit $status`,
    ].join('\n');
    const r = await run('unshare', ['-m', 'sh', '-c', script]);
    if (r.status === 4) {
      console.log('      pending: the two tmpfs files got different inode numbers here');
      this.skip();
    }
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { state: string; entries: unknown[] };
    assert.deepEqual(s.entries, [], `the flock holder of the other file is not a holder of this one: ${r.stdout}`);
    assert.equal(s.state, 'free');
  });

  it('a runner that is a zombie (killed, its parent not reaping it) is not listed, and the lock is free', async function () {
    if (IS_WINDOWS) this.skip(); // no zombies: a process that has ended is gone, its handle aside
    const lockfile = path.join(tmpDir(), 'pip.lock');
    // sh starts the runner and becomes a sleep that never reaps it.
    const parent = spawn(
      'sh',
      ['-c', `'${NODE}' '${CLI}' --lockfile '${lockfile}' --mode exclusive -- sleep 60 & echo $!; exec sleep 60`],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      const pid = Number((await waitForLine(parent, /^\d+$/)).trim());
      const entryFile = path.join(`${lockfile}.d`, entryFileName(pid));
      assert.ok(await eventually(() => fs.existsSync(entryFile), 30_000), 'the runner holds');
      await new Promise((r) => setTimeout(r, 200));
      const entry = JSON.parse(fs.readFileSync(entryFile, 'utf8')) as { start?: string };
      process.kill(pid, 'SIGKILL');
      const zombie = (): boolean => {
        try {
          const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
          return stat[stat.lastIndexOf(')') + 2] === 'Z';
        } catch {
          return false;
        }
      };
      if (process.platform === 'linux') assert.ok(await eventually(zombie, 10_000), 'the runner is a zombie');
      // The same entry as a runner without a life mark writes it (earlier versions): judged by its PID and start.
      const unmarked = path.join(`${lockfile}.d`, `${pid}.json`);
      fs.writeFileSync(unmarked, JSON.stringify({ ...entry, mark: undefined, ns: undefined }));
      const r = await runCli(['status', '--json', lockfile]);
      assert.equal(r.status, 0, r.stderr);
      const s = JSON.parse(r.stdout) as { state: string; entries: Array<{ pid: number }> };
      assert.deepEqual(
        s.entries.map((e) => e.pid),
        [],
        `the zombie holds nothing: ${r.stdout}`,
      );
      assert.equal(s.state, 'free');
      assert.ok(!fs.existsSync(entryFile) && !fs.existsSync(unmarked), 'and its entries are removed');
    } finally {
      parent.kill('SIGKILL');
      await exited(parent);
    }
  });

  it('an entry without a start tag is not trusted where processes have start tags (Linux): a reused PID would pass', async function () {
    if (process.platform !== 'linux') this.skip(); // elsewhere no entry has one, and liveness is all there is
    const lockfile = path.join(tmpDir(), 'pip.lock');
    fs.writeFileSync(lockfile, '');
    fs.mkdirSync(`${lockfile}.d`);
    // A live PID (this process's) that is no runner: what a killed runner's entry looks like once its PID is reused.
    const entry = { pid: process.pid, mode: 'exclusive', state: 'holding', command: ['gone'], since: Date.now() };
    fs.writeFileSync(path.join(`${lockfile}.d`, `${process.pid}.json`), JSON.stringify(entry));
    const r = await runCli(['status', '--json', lockfile]);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { state: string; entries: unknown[] };
    assert.deepEqual(s.entries, [], r.stdout);
    assert.equal(s.state, 'free');
  });
});
