import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { exited, run, tmpDir, waitForLine } from '../support/procs';
import { assertEnded, cliBounded, describeRun, type Bounded } from '../support/bad-input';

const HOLD = "process.stdout.write('held\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";

/** Mount points made by this file, unmounted (innermost first) after each test. */
const mounts: string[] = [];

function mount(args: string[]): string | undefined {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  return r.status === 0 ? undefined : (r.stderr || r.error?.message || `status ${r.status}`).trim();
}

/** A fresh tmpfs with these options, or the reason it cannot be had. */
function tmpfs(options: string): { dir: string } | { reason: string } {
  const dir = tmpDir('piplock-tmpfs-');
  const err = mount(['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  if (err) {
    fs.rmdirSync(dir);
    return { reason: `mount -t tmpfs failed: ${err}` };
  }
  mounts.push(dir);
  return { dir };
}

/** Makes `dir` read-only through a read-only bind mount of itself (root ignores mode bits). */
function readOnly(dir: string): string | undefined {
  let err = mount(['--bind', dir, dir]);
  if (err) return `mount --bind failed: ${err}`;
  mounts.push(dir);
  err = mount(['-o', 'remount,ro,bind', dir, dir]);
  return err ? `remount ro failed: ${err}` : undefined;
}

/** Fills the file system that holds `dir`: data with one big file, then inodes with empty files. */
function fill(dir: string, what: 'data' | 'inodes'): void {
  if (what === 'data') {
    const fd = fs.openSync(path.join(dir, 'filler'), 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      fs.closeSync(fd);
    }
  } else {
    for (let i = 0; ; i++) {
      try {
        fs.writeFileSync(path.join(dir, `inode-${i}`), '');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        break;
      }
    }
  }
}

/** Ran, status 0, at most one warning line, no stack trace. */
function assertRanDegraded(r: Bounded, marker: string): void {
  assertEnded(r);
  assert.equal(r.status, 0, describeRun(r));
  assert.ok(fs.existsSync(marker), `the command ran: ${describeRun(r)}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.ok(lines.length <= 1, `at most one warning line: ${describeRun(r)}`);
  if (lines.length === 1) assert.match(lines[0]!, /^piplock: warn(ing)?: /, describeRun(r));
  assert.doesNotMatch(r.stderr, /\n\s+at /, describeRun(r));
}

/** While a runner holds `lockfile` exclusively, a --timeout 0 runner is refused (status 1); afterwards it gets it. */
async function assertStillExcludes(lockfile: string): Promise<void> {
  const holder = spawn(NODE, [CLI, '--lockfile', lockfile, '--mode', 'exclusive', '--', NODE, '-e', HOLD], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  holder.stderr!.on('data', (d) => (stderr += d));
  try {
    await waitForLine(holder, /^held/).catch((e: Error) =>
      assert.fail(`the exclusive runner did not start its command: ${e.message}; stderr: ${stderr}`),
    );
    const r = await cliBounded(['--lockfile', lockfile, '--mode', 'shared', '--timeout', '0', '--', NODE, '-e', '0']);
    assertEnded(r);
    assert.equal(r.status, 1, `refused while the other runner holds it: ${describeRun(r)}`);
  } finally {
    holder.stdin!.end();
    await exited(holder);
  }
  const after = await cliBounded(['--lockfile', lockfile, '--timeout', '0', '--', NODE, '-e', '0']);
  assert.equal(after.status, 0, `free afterwards: ${describeRun(after)}`);
}

describe('hardening: side files that cannot be written do not stop locking', function () {
  before(function () {
    // tmpfs and bind mounts are Linux; Windows has neither.
    if (IS_WINDOWS || process.platform !== 'linux') this.skip();
  });
  afterEach(function () {
    for (const m of mounts.splice(0).reverse()) {
      spawnSync('umount', [m]);
      fs.rmSync(m, { recursive: true, force: true });
    }
  });

  const cases: Array<[string, string, (dir: string, lockfile: string) => Promise<void>]> = [
    ['a full disk (ENOSPC for data), <lock>.d/ absent', 'size=256k', async (dir) => fill(dir, 'data')],
    [
      'a full disk (ENOSPC for data), <lock>.d/ made by an earlier run',
      'size=256k',
      async (dir, lockfile) => {
        const r = await cliBounded(['--lockfile', lockfile, '--', NODE, '-e', '0']);
        assert.equal(r.status, 0, describeRun(r));
        fill(dir, 'data');
      },
    ],
    ['no inodes left (ENOSPC for mkdir of <lock>.d/)', 'size=1m,nr_inodes=16', async (dir) => fill(dir, 'inodes')],
  ];

  for (const [what, options, prepare] of cases) {
    it(`${what}: the command runs, status 0, at most one warning, and the lock still excludes`, async function () {
      const fsys = tmpfs(options);
      if ('reason' in fsys) {
        this.skip(); // fsys.reason: no tmpfs here (not root, or no CAP_SYS_ADMIN)
      }
      const { dir } = fsys as { dir: string };
      const lockfile = path.join(dir, 'pip.lock');
      fs.writeFileSync(lockfile, '');
      await prepare(dir, lockfile);
      const marker = path.join(tmpDir(), 'ran');
      const r = await cliBounded([
        '--lockfile',
        lockfile,
        '--',
        NODE,
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
      ]);
      assertRanDegraded(r, marker);
      await assertStillExcludes(lockfile);
    });
  }

  for (const withGate of [false, true]) {
    it(`a read-only <lock>.d/ (${withGate ? 'made by an earlier run' : 'empty'}): the command runs, status 0, at most one warning, and the lock still excludes`, async function () {
      const dir = tmpDir();
      const lockfile = path.join(dir, 'pip.lock');
      if (withGate) {
        const r = await cliBounded(['--lockfile', lockfile, '--', NODE, '-e', '0']);
        assert.equal(r.status, 0, describeRun(r));
      } else {
        fs.writeFileSync(lockfile, '');
        fs.mkdirSync(`${lockfile}.d`);
      }
      const reason = readOnly(`${lockfile}.d`);
      if (reason) this.skip(); // reason: bind mounts need root with CAP_SYS_ADMIN
      const marker = path.join(tmpDir(), 'ran');
      const r = await cliBounded([
        '--lockfile',
        lockfile,
        '--',
        NODE,
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
      ]);
      assertRanDegraded(r, marker);
      await assertStillExcludes(lockfile);
    });
  }
});

describe('hardening: running out of file descriptors (EMFILE)', function () {
  before(function () {
    // ulimit -n is POSIX shell; Windows has no per-process descriptor limit to lower this way.
    if (IS_WINDOWS) this.skip();
  });

  it('at each fd limit from the lowest where Node runs a script, the CLI succeeds or prints one error line, never a crash', async function () {
    // Below the limit at which Node can load any script file, it fails before piplock's code runs (Node's
    // own message or a crash); from there on, the failures are piplock's to report.
    const empty = path.join(tmpDir(), 'empty.js');
    fs.writeFileSync(empty, '');
    let lowest: number | undefined;
    for (let n = 8; n <= 64; n++) {
      if (spawnSync('sh', ['-c', `ulimit -n ${n} && exec "$0" "$1"`, NODE, empty]).status === 0) {
        lowest = n;
        break;
      }
    }
    assert.ok(lowest !== undefined, 'node runs a script with some limit up to 64');
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const bad: string[] = [];
    const script = path.join(dir, 'script.py');
    fs.writeFileSync(script, '');
    const gn = [
      '--gn-root',
      dir,
      '--current-path',
      dir,
      '--default-toolchain',
      '//t:t',
      '--current-toolchain',
      '//t:t',
    ];
    const commands: Array<[string, string[]]> = [
      ['run', ['--lockfile', lockfile, '--', '/bin/sh', '-c', 'exit 0']],
      ['python-runner', ['python-runner', ...gn, '--python', NODE, '--lockfile', lockfile, '--', script]],
    ];
    for (let n = lowest; n <= lowest + 12; n++) {
      for (const [name, args] of commands) {
        const r = await run('sh', ['-c', `ulimit -n ${n} && exec "$@"`, 'sh', NODE, CLI, ...args], {
          cwd: dir,
          limitMs: 20_000,
        });
        const lines = r.stderr.split('\n').filter((l) => l !== '');
        const clean =
          !r.killed &&
          r.signal === null &&
          !/\n\s+at |node:|Assertion failed|Native stack/.test(r.stderr) &&
          ((r.status === 0 && lines.length <= 1 && lines.every((l) => l.startsWith('piplock: warn'))) ||
            (r.status !== 0 && lines.length === 1 && lines[0]!.startsWith('piplock: error: ')));
        if (!clean) bad.push(`${name}, ulimit -n ${n}: ${describeRun(r)}`);
      }
    }
    assert.deepEqual(bad, [], `limits from ${lowest} (the lowest where node runs an empty script):\n${bad.join('\n')}`);
    const free = await cliBounded(['--lockfile', lockfile, '--timeout', '0', '--', NODE, '-e', '0']);
    assert.equal(free.status, 0, `nothing left locked: ${describeRun(free)}`);
  });
});
