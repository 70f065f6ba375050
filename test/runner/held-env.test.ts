import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { identityText, platform } from '../../platform';
import { tryAcquire } from '../../src/lock/acquire';
import { childEnv, HELD_ENV, nestedDecision, parseHeld } from '../../src/runner/held-env';
import { ownStartTag } from '../../src/runner/process-identity';
import { entryFileName } from '../../src/runner/registry';
import { IS_WINDOWS } from '../support/paths';
import { linkedDir, tmpDir } from '../support/procs';

describe('PIPLOCK_HELD: the locks a runner tells its child about', function () {
  it('reads nothing from an unset or empty value', function () {
    assert.deepEqual(parseHeld(undefined), { held: [], malformed: 0 });
    assert.deepEqual(parseHeld(''), { held: [], malformed: 0 });
  });

  it('reads one lock per line: mode, holder PID, start tag, file identity, and the path after the fourth colon (a drive letter stays in it)', function () {
    assert.deepEqual(parseHeld('shared:12:345:2049.77:/b/pip.lock\nexclusive:7:::c:\\out\\pip.lock'), {
      held: [
        { mode: 'shared', pid: 12, start: '345', id: '2049.77', path: '/b/pip.lock' },
        { mode: 'exclusive', pid: 7, start: '', id: '', path: 'c:\\out\\pip.lock' },
      ],
      malformed: 0,
    });
  });

  it('reads %25, %0D and %0A in the path as %, CR and LF, so that any path fits on one line', function () {
    assert.deepEqual(parseHeld('shared:1:2::/b/a%0Ab%25%0D.lock').held[0]?.path, '/b/a\nb%\r.lock');
  });

  it('counts the lines that are not <shared|exclusive>:<pid>:<start>:<identity>:<path>, the older formats included', function () {
    assert.deepEqual(
      parseHeld(
        'bogus:1:2::/x\n:1:2::/x\nno colon\nShared:1:2::/x\nexclusive:/old\nshared:x:2::/x\nexclusive:3:4:/older\n\nexclusive:3:4:5.6:/kept',
      ),
      {
        held: [{ mode: 'exclusive', pid: 3, start: '4', id: '5.6', path: '/kept' }],
        malformed: 7,
      },
    );
  });
});

describe("a nested runner decides from its ancestors' locks", function () {
  let dir: string;
  let lockfile: string;
  let canonical: string;
  /** PID and start tag of this process's nearest ancestor, as a line of a runner above it would name them. */
  let parent: string;
  /** The same where there is one, else a well-formed stand-in, for lines whose holder does not matter. */
  let someone: string;
  before(function () {
    dir = tmpDir();
    lockfile = path.join(dir, 'pip.lock');
    canonical = platform.canonicalPath(lockfile);
    const [ancestor] = platform.ancestors();
    parent = ancestor === undefined ? '' : `${ancestor}:${platform.startTag(ancestor) ?? ''}`;
    someone = parent === '' ? '1:' : parent;
  });
  /** Under Wine the test process is a top-level Windows process, with no parent to name; test/nested.test.ts nests real runners there. */
  function needAncestor(this: Mocha.Context): void {
    if (parent === '') this.skip();
  }
  const env = (value: string): NodeJS.ProcessEnv => ({ [HELD_ENV]: value });
  const NOT_BACKED = /PIPLOCK_HELD says this lock is held, but no running ancestor piplock holds it/;

  it('locks, without a word, when no ancestor holds anything, or holds only other files', function () {
    assert.deepEqual(nestedDecision(lockfile, 'shared', {}), { action: 'lock' });
    assert.deepEqual(nestedDecision(lockfile, 'exclusive', env('')), { action: 'lock' });
    assert.deepEqual(
      nestedDecision(
        lockfile,
        'exclusive',
        env(`exclusive:${someone}::${platform.canonicalPath(path.join(dir, 'other.lock'))}`),
      ),
      { action: 'lock' },
    );
  });

  it('inherits a lock an ancestor holds in a mode that covers the request, from the line that covers it', function () {
    needAncestor.call(this);
    const holder = (mode: 'shared' | 'exclusive', value: string): string | undefined => {
      const d = nestedDecision(lockfile, mode, env(value));
      return d.action === 'inherited' ? d.holder.mode : undefined;
    };
    assert.equal(holder('shared', `shared:${parent}::${canonical}`), 'shared');
    // An exclusive line is believed only while the lock is held exclusively (here by this process, for the ancestor).
    const lock = tryAcquire(lockfile, 'exclusive');
    assert.ok(lock);
    try {
      assert.equal(holder('shared', `exclusive:${parent}::${canonical}`), 'exclusive');
      assert.equal(holder('exclusive', `exclusive:${parent}::${canonical}`), 'exclusive');
      assert.equal(
        holder('exclusive', `shared:${parent}::${canonical}\nexclusive:${parent}::${canonical}`),
        'exclusive',
      );
    } finally {
      lock.release();
    }
  });

  it("does not believe an exclusive line while nobody holds the lock exclusively (a shared holder's descendant claiming more)", function () {
    needAncestor.call(this);
    const d = nestedDecision(lockfile, 'exclusive', env(`exclusive:${parent}::${canonical}`));
    assert.equal(d.action, 'lock');
    assert.match((d as { warning?: string }).warning ?? '', /nobody holds it exclusively/);
    const shared = nestedDecision(
      lockfile,
      'shared',
      env(`shared:${parent}::${canonical}\nexclusive:${parent}::${canonical}`),
    );
    assert.equal(shared.action === 'inherited' && shared.holder.mode, 'shared');
  });

  it('knows the lock by the identity of the file as well as by its path (a hard link)', function () {
    needAncestor.call(this);
    fs.writeFileSync(lockfile, '');
    const link = path.join(dir, 'hard.lock');
    fs.linkSync(lockfile, link);
    const id = identityText(platform.fileIdentity(lockfile));
    assert.equal(nestedDecision(link, 'shared', env(`shared:${parent}:${id}:${canonical}`)).action, 'inherited');
  });

  it('locks, with a warning, when the line is not backed: not an ancestor, another start tag, or the older format', function () {
    const notAncestor = `exclusive:${process.pid}:${platform.startTag(process.pid) ?? ''}::${canonical}`;
    const [ancestor] = platform.ancestors();
    const otherStart = `exclusive:${ancestor}:1::${canonical}`;
    for (const value of [notAncestor, `exclusive:${canonical}`, `exclusive:999999999:::${canonical}`]) {
      const d = nestedDecision(lockfile, 'exclusive', env(value));
      assert.equal(d.action, 'lock', value);
      assert.match((d as { warning?: string }).warning ?? '', NOT_BACKED, value);
    }
    if (ancestor !== undefined && platform.startTag(ancestor) !== undefined) {
      const d = nestedDecision(lockfile, 'shared', env(otherStart));
      assert.equal(d.action, 'lock', "a start tag that is not the process's: its PID was reused");
      assert.match((d as { warning?: string }).warning ?? '', NOT_BACKED);
    }
  });

  it('knows the lock under another spelling of the same file (relative, with ..)', function () {
    needAncestor.call(this);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      assert.equal(
        nestedDecision(path.join('sub', '..', 'pip.lock'), 'shared', env(`shared:${parent}::${canonical}`)).action,
        'inherited',
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses exclusive inside a shared ancestor: it would wait for itself', function () {
    needAncestor.call(this);
    assert.deepEqual(nestedDecision(lockfile, 'exclusive', env(`shared:${parent}::${canonical}`)), {
      action: 'refuse',
      error: `cannot take an exclusive lock on '${lockfile}': this process runs under a shared lock on it, held by an ancestor piplock (PIPLOCK_HELD), and would wait for itself`,
    });
  });

  it("tells the child its lock last, as this process's, keeps the ancestors' other locks, and drops an older line for the same file", function () {
    const other = platform.canonicalPath(path.join(dir, 'other.lock'));
    const me = `${process.pid}:${platform.startTag(process.pid) ?? ''}`;
    const before = { PATH: '/bin', [HELD_ENV]: `shared:${someone}::${other}\nshared:${someone}::${canonical}` };
    const after = childEnv(lockfile, 'exclusive', before);
    assert.deepEqual(after, { PATH: '/bin', [HELD_ENV]: `shared:${someone}::${other}\nexclusive:${me}::${canonical}` });
    assert.equal(
      before[HELD_ENV],
      `shared:${someone}::${other}\nshared:${someone}::${canonical}`,
      'the given environment is left alone',
    );
    assert.deepEqual(childEnv(lockfile, 'shared', {}), { [HELD_ENV]: `shared:${me}::${canonical}` });
  });

  it('names the lock by its canonical path in the child', function () {
    const me = `${process.pid}:${platform.startTag(process.pid) ?? ''}`;
    assert.equal(childEnv(path.join(dir, '.', 'pip.lock'), 'shared', {})[HELD_ENV], `shared:${me}::${canonical}`);
    assert.ok(path.isAbsolute(canonical));
    assert.equal(canonical, fold(path.join(fs.realpathSync.native(dir), 'pip.lock')));
  });

  it("exclusive inside an exclusive ancestor whose lock file was replaced: run under the ancestor's lock where its registry entry holds an earlier file exclusively, and only then", function () {
    needAncestor.call(this);
    // The file at the path is new and free (the ancestor's guard has not locked it yet): the probe cannot tell.
    const [pid, start] = parent.split(':') as [string, string];
    const ns = platform.pidNamespace?.();
    const earlier = '1.2';
    const cases: Array<[string, object, string]> = [
      ['holding exclusive an earlier file', { pid: Number(pid), mode: 'exclusive', start, lock: earlier }, 'inherited'],
      ['holding it shared', { pid: Number(pid), mode: 'shared', start, lock: earlier }, 'lock'],
      ['waiting', { pid: Number(pid), mode: 'exclusive', start, state: 'waiting' }, 'lock'],
      // The GN launcher names itself in PIPLOCK_HELD; its Node runner, another process, writes the entry.
      [
        "written by the launcher's runner",
        { pid: process.pid, mode: 'exclusive', start: ownStartTag(), lock: earlier, holder: Number(pid) },
        'inherited',
      ],
    ];
    for (const [what, fields, action] of cases) {
      const file = path.join(tmpDir(), 'pip.lock');
      fs.writeFileSync(file, '');
      const entry = { state: 'holding', command: ['pip'], since: Date.now(), ...(ns ? { ns } : {}), ...fields } as {
        pid?: number;
      } as { pid: number };
      fs.mkdirSync(`${file}.d`);
      fs.writeFileSync(path.join(`${file}.d`, entryFileName(entry.pid)), JSON.stringify(entry));
      const line = `exclusive:${parent}:${earlier}:${platform.canonicalPath(file)}`;
      const d = nestedDecision(file, 'exclusive', env(line));
      assert.equal(d.action, action, `${what}: ${JSON.stringify(d)}`);
    }
  });
});

/**
 * How canonicalPath spells a name: lower-cased on macOS; elsewhere as given,
 * which on Windows is as the file system stores it once the file exists.
 */
function fold(p: string): string {
  return process.platform === 'darwin' ? p.toLowerCase() : p;
}

describe('the canonical path of a lock file', function () {
  it('resolves a relative path against the working directory', function () {
    const dir = tmpDir();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      assert.equal(platform.canonicalPath('pip.lock'), fold(path.join(fs.realpathSync.native(dir), 'pip.lock')));
      assert.equal(
        platform.canonicalPath(path.join('a', '..', 'pip.lock')),
        fold(path.join(fs.realpathSync.native(dir), 'pip.lock')),
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it('resolves a symlinked (or junction) directory, for a file that exists and for one not yet created', function () {
    const { real, link } = linkedDir(this);
    const expected = fold(path.join(fs.realpathSync.native(real), 'pip.lock'));
    assert.equal(platform.canonicalPath(path.join(link, 'pip.lock')), expected, 'not yet created');
    fs.writeFileSync(path.join(real, 'pip.lock'), '');
    assert.equal(platform.canonicalPath(path.join(link, 'pip.lock')), expected, 'existing');
  });

  it('resolves a symlink to the file itself to its target', function () {
    if (IS_WINDOWS) this.skip(); // file symlinks need a privilege on Windows, and Wine makes them as POSIX links
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'real.lock'), '');
    fs.symlinkSync(path.join(dir, 'real.lock'), path.join(dir, 'pip.lock'));
    assert.equal(
      platform.canonicalPath(path.join(dir, 'pip.lock')),
      fold(path.join(fs.realpathSync.native(dir), 'real.lock')),
    );
  });

  it('keeps a path whose directory does not exist either, made absolute', function () {
    const dir = tmpDir();
    const missing = path.join(dir, 'no', 'such', 'dir', 'pip.lock');
    assert.equal(platform.canonicalPath(missing), fold(path.resolve(missing)));
  });

  it('gives two spellings of an existing file one name only where the file system ignores case (Windows: as stored; macOS: lower-cased)', function () {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'pip.lock'), '');
    const upper = platform.canonicalPath(path.join(dir, 'PIP.lock'));
    const lower = platform.canonicalPath(path.join(dir, 'pip.lock'));
    assert.ok(lower.endsWith(`${path.sep}pip.lock`), lower);
    if (IS_WINDOWS || process.platform === 'darwin') assert.equal(upper, lower);
    else assert.notEqual(upper, lower);
  });
});
