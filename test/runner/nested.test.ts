import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, NODE } from '../support/paths';
import { linkedDir, runCli, tmpDir } from '../support/procs';

/** A command for the outer runner: runs the inner piplock with ARGS and exits with its status; prints PIPLOCK_HELD on stdout first. */
function inner(args: string[]): string[] {
  const code = `process.stdout.write(JSON.stringify(process.env.PIPLOCK_HELD ?? null) + '\\n');
const r = require('child_process').spawnSync(process.argv[1], process.argv.slice(2), { stdio: 'inherit' });
process.exit(r.status === null ? 99 : r.status);`;
  return [NODE, '-e', code, NODE, CLI, ...args];
}

const quick = ['--', NODE, '-e', '0'];

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('nested runners', function () {
  it('tells the child which lock it holds: PIPLOCK_HELD=<mode>:<runner pid>:<start tag>:<file identity>:<canonical path>', async function () {
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const r = await runCli([
      '--lockfile',
      lockfile,
      '--mode',
      'exclusive',
      '--',
      NODE,
      '-e',
      'process.stdout.write(process.env.PIPLOCK_HELD)',
    ]);
    assert.equal(r.status, 0, r.stderr);
    let canonical = fs.realpathSync.native(lockfile);
    if (process.platform === 'darwin') canonical = canonical.toLowerCase(); // Windows: realpath gives the stored case already
    assert.match(r.stdout, new RegExp(`^exclusive:\\d+:\\d*:\\d+\\.\\d+:${escape(canonical)}$`));
  });

  it('shared inside an exclusive holder of the same file proceeds without locking again', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await runCli([
      '--lockfile',
      lockfile,
      '--mode',
      'exclusive',
      '--',
      ...inner(['--lockfile', lockfile, '--mode', 'shared', '--timeout', '2s', ...quick]),
    ]);
    assert.equal(r.status, 0, r.stderr);
  });

  it('a python-runner action inside an exclusive holder of the same file proceeds, and its child sees PIPLOCK_HELD', async function () {
    // Node stands in for Python; a pip_install_python_deps.py script asks for the exclusive lock, like a pip action.
    const dir = tmpDir();
    const lockfile = path.join(dir, 'pip.lock');
    const script = path.join(dir, 'pip_install_python_deps.py');
    fs.writeFileSync(script, 'process.stdout.write(String(process.env.PIPLOCK_HELD));');
    const gn = [
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
    ];
    const args = ['python-runner', ...gn, '--lockfile', lockfile, '--timeout', '2s', '--', script];
    const r = await runCli(['--lockfile', lockfile, '--mode', 'exclusive', '--', ...inner(args)]);
    assert.equal(r.status, 0, r.stderr);
    let canonical = fs.realpathSync.native(lockfile);
    if (process.platform === 'darwin') canonical = canonical.toLowerCase(); // Windows: realpath gives the stored case already
    assert.match(r.stdout.split('\n')[1]!, new RegExp(`^exclusive:\\d+:\\d*:\\d+\\.\\d+:${escape(canonical)}$`));
  });

  it('shared inside an exclusive holder proceeds when the lock file is new and its directory a symlink (or junction)', async function () {
    // The outer runner names its lock in PIPLOCK_HELD before the file exists; the inner one after. Both must
    // resolve the directory, or the inner runner waits for its own ancestor.
    const { link } = linkedDir(this);
    const lockfile = path.join(link, 'pip.lock');
    assert.ok(!fs.existsSync(lockfile));
    const r = await runCli([
      '--lockfile',
      lockfile,
      '--mode',
      'exclusive',
      '--',
      ...inner(['--lockfile', lockfile, '--mode', 'shared', '--timeout', '2s', ...quick]),
    ]);
    assert.equal(r.status, 0, r.stderr);
  });

  it('exclusive inside an exclusive holder proceeds', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const r = await runCli([
      '--lockfile',
      lockfile,
      '--mode',
      'exclusive',
      '--',
      ...inner(['--lockfile', lockfile, '--mode', 'exclusive', '--timeout', '2s', ...quick]),
    ]);
    assert.equal(r.status, 0, r.stderr);
  });

  it('shared inside a shared holder proceeds even while an exclusive request waits at the gate', async function () {
    // Without nesting the inner request would queue behind the writer, which waits for the outer runner: a deadlock until the timeout.
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const code = `setTimeout(() => {
const r = require('child_process').spawnSync(process.argv[1], process.argv.slice(2), { stdio: 'inherit' });
process.exit(r.status === null ? 99 : r.status); }, 1500)`;
    const outer = runCli([
      '--lockfile',
      lockfile,
      '--mode',
      'shared',
      '--',
      NODE,
      '-e',
      code,
      NODE,
      CLI,
      '--lockfile',
      lockfile,
      '--mode',
      'shared',
      '--timeout',
      '3s',
      ...quick,
    ]);
    await new Promise((r) => setTimeout(r, 500));
    const writer = runCli(['--lockfile', lockfile, '--mode', 'exclusive', '--timeout', '30s', ...quick]);
    const o = await outer;
    assert.equal(o.status, 0, o.stderr);
    assert.equal((await writer).status, 0);
  });

  it('exclusive inside a shared holder fails at once with one line, status 1', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const start = performance.now();
    const r = await runCli([
      '--lockfile',
      lockfile,
      '--mode',
      'shared',
      '--',
      ...inner(['--lockfile', lockfile, '--mode', 'exclusive', '--timeout', '30s', ...quick]),
    ]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /^piplock: error: cannot take an exclusive lock on '.*pip\.lock': this process runs under a shared lock on it/,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(performance.now() - start < 25_000, 'did not wait for the 30 s timeout');
  });

  it('a nested runner on another lock file locks it, and its child sees both', async function () {
    const dir = tmpDir();
    const a = path.join(dir, 'a.lock');
    const b = path.join(dir, 'b.lock');
    const r = await runCli([
      '--lockfile',
      a,
      '--mode',
      'shared',
      '--',
      ...inner([
        '--lockfile',
        b,
        '--mode',
        'exclusive',
        '--',
        NODE,
        '-e',
        'process.stdout.write(process.env.PIPLOCK_HELD)',
      ]),
    ]);
    assert.equal(r.status, 0, r.stderr);
    // The first line is the outer child's view (JSON), the rest the inner child's PIPLOCK_HELD.
    const both = r.stdout.slice(r.stdout.indexOf('\n') + 1);
    assert.match(both, /^shared:.*a\.lock\nexclusive:.*b\.lock$/);
  });
  it('exclusive inside an exclusive holder whose lock file was just deleted proceeds without locking, not waiting for its ancestor', async function () {
    // The command deletes the lock file and at once starts a nested exclusive runner: the file at the path, if any,
    // is new and free until the outer runner's guard locks it (every 200 ms). A nested runner that took that file for
    // another lock would lock it itself, and once the guard has it, wait for its own ancestor until its timeout.
    // (Where a deleted file's name stays until it is closed, Wine's legacy semantics, the old file is still there and
    // held: the same outcome, by the plain path.)
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const code = `require('fs').rmSync(process.argv[1], { force: true });
const r = require('child_process').spawnSync(process.argv[2], process.argv.slice(3), { stdio: 'inherit' });
process.exit(r.status === null ? 99 : r.status);`;
    const r = await runCli([
      '--lockfile',
      lockfile,
      '-x',
      '--',
      NODE,
      '-e',
      code,
      lockfile,
      NODE,
      CLI,
      '--lockfile',
      lockfile,
      '-x',
      '--log-level',
      'debug',
      '--timeout',
      '20s',
      ...quick,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /an ancestor piplock holds the lock; running .* without locking again/);
    assert.doesNotMatch(r.stderr, /locking '.*' as usual/);
  });
});
