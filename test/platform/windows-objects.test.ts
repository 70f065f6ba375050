/**
 * The named kernel objects of a lock file on Windows (the writer-preference
 * gate and the release event): their namespace, and which spellings of a
 * lock file share them.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { platform, type Gate } from '../../platform';
import { startHolder } from '../support/holders';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { eventually, nodeEval, runCli, tmpDir } from '../support/procs';

const SYNCHRONIZE = 0x00100000;
const WAIT_TIMEOUT = 0x102;
const ERROR_FILE_NOT_FOUND = 2;

/**
 * ΑΣ and ασ: one name to the file system (NTFS and Wine upcase both to ΑΣ);
 * JS toLowerCase makes 'ας' of the first (a final sigma: nothing follows it)
 * and 'ασ' of the second.
 */
const UPPER = '\u0391\u03a3';
const LOWER = '\u03b1\u03c3';
/** KELVIN SIGN and k: JS toLowerCase folds them together; NTFS's (and Wine's) case table keeps them apart. */
const KELVIN = '\u212a.lock';
const SMALL_K = 'k.lock';

function objectName(lockfile: string, kind: 'gate' | 'release'): string {
  const { objectName: name } =
    require('../../platform/windows-objects') as typeof import('../../platform/windows-objects');
  const id = platform.fileIdentity(lockfile);
  assert.ok(id, `${lockfile} exists`);
  return name(id, kind);
}

function win32(): import('../support/win32').TestWin32 {
  return (require('../support/win32') as typeof import('../support/win32')).win32();
}

/** Holds the gate of `lockfile` in this process, as a waiting exclusive request does. */
function holdGate(lockfile: string): Gate {
  const gate = platform.openGate(lockfile);
  assert.equal(gate.tryEnter('exclusive'), true);
  return gate;
}

describe('Windows: named objects of a lock file', function () {
  before(function () {
    // Windows only: POSIX keeps its gate and signal as files beside the lock file.
    if (!IS_WINDOWS) this.skip();
  });

  describe('namespace', function () {
    it('the gate a waiting writer holds is the Global\\ mutex, opened by name from another process', async function () {
      const lockfile = path.join(tmpDir(), 'pip.lock');
      const holder = await startHolder(lockfile, 'shared');
      const writer = runCli([
        '--lockfile',
        lockfile,
        '--mode',
        'exclusive',
        '--timeout',
        '30s',
        '--',
        ...nodeEval('0'),
      ]);
      const w = win32();
      const name = objectName(lockfile, 'gate');
      try {
        let heldByWriter = false;
        const found = await eventually(() => {
          const h = w.OpenMutexW(SYNCHRONIZE, 0, `Global\\${name}`);
          if (w.isNull(h)) return false;
          const r = w.WaitForSingleObject(h, 0);
          if (r !== WAIT_TIMEOUT) w.ReleaseMutex(h);
          w.CloseHandle(h);
          heldByWriter = r === WAIT_TIMEOUT;
          return heldByWriter;
        }, 20_000);
        assert.ok(found, `Global\\${name} exists and the waiting writer holds it`);
        const local = w.OpenMutexW(SYNCHRONIZE, 0, `Local\\${name}`);
        assert.ok(w.isNull(local), 'no Local\\ twin');
        assert.equal(w.GetLastError(), ERROR_FILE_NOT_FOUND);
      } finally {
        await holder.release();
        const r = await writer;
        assert.equal(r.status, 0, r.stderr);
      }
    });

    for (const squat of ['an object of another type', 'a mutex whose DACL refuses this user'] as const) {
      it(`a Global\\ gate name squatted by ${squat}: one warning line, the lock is taken without writer preference, and no Local\\ twin`, async function () {
        const lockfile = path.join(tmpDir(), 'pip.lock');
        fs.writeFileSync(lockfile, '');
        const w = win32();
        const name = objectName(lockfile, 'gate');
        // An empty DACL: not even its creator may wait on it (an owner has only READ_CONTROL and WRITE_DAC).
        const h =
          squat === 'an object of another type'
            ? w.CreateEventW(null, 1, 0, `Global\\${name}`)
            : w.createMutex(`Global\\${name}`, 'D:', SYNCHRONIZE);
        assert.ok(!w.isNull(h), `squatted: error ${w.GetLastError()}`);
        try {
          const r = await runCli([
            '--lockfile',
            lockfile,
            '--mode',
            'exclusive',
            '--timeout',
            '10s',
            '--',
            ...nodeEval('0'),
          ]);
          assert.equal(r.status, 0, r.stderr);
          const lines = r.stderr.split(/\r?\n/).filter((l) => l !== '');
          assert.equal(lines.length, 1, r.stderr);
          assert.match(
            lines[0]!,
            /^piplock: warn: locking '.*pip\.lock' without writer preference: 'Global\\piplock-gate-[0-9a-f]+-[0-9a-f]+' is taken by another program's object, which this process may not use \(Windows error (5|6)\)/,
          );
          assert.ok(w.isNull(w.OpenMutexW(SYNCHRONIZE, 0, `Local\\${name}`)), 'no Local\\ twin');
        } finally {
          w.CloseHandle(h);
        }
      });
    }

    it('where no gate can be made at all, says so in one line and still locks', async function () {
      const lockfile = path.join(tmpDir(), 'pip.lock');
      fs.writeFileSync(lockfile, '');
      const w = win32();
      const name = objectName(lockfile, 'gate');
      const squats = [w.CreateEventW(null, 1, 0, `Global\\${name}`), w.CreateEventW(null, 1, 0, `Local\\${name}`)];
      try {
        const r = await runCli([
          '--lockfile',
          lockfile,
          '--mode',
          'shared',
          '--timeout',
          '10s',
          '--',
          ...nodeEval('0'),
        ]);
        assert.equal(r.status, 0, r.stderr);
        const lines = r.stderr.split(/\r?\n/).filter((l) => l !== '');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0]!, /^piplock: warn: locking '.*pip\.lock' without writer preference: /);
      } finally {
        for (const s of squats) w.CloseHandle(s);
      }
    });
  });

  describe('who may open them', function () {
    const GATE_RIGHTS = 0x00100001; // SYNCHRONIZE | MUTEX_MODIFY_STATE
    const READ_CONTROL = 0x00020000;
    const WRITE_DAC = 0x00040000;
    const WRITE_OWNER = 0x00080000;
    const ERROR_ACCESS_DENIED = 5;

    it('the gate grants SYNCHRONIZE and MUTEX_MODIFY_STATE only, to those who may read the lock file: no Anonymous, no WRITE_DAC or WRITE_OWNER, not even for its creator', function () {
      const lockfile = path.join(tmpDir(), 'pip.lock');
      fs.writeFileSync(lockfile, '');
      const gate = holdGate(lockfile);
      const w = win32();
      const name = `Global\\${objectName(lockfile, 'gate')}`;
      try {
        const control = w.OpenMutexW(READ_CONTROL, 0, name);
        if (w.wineVersion !== undefined) {
          // Wine gives an object's owner every standard right and ignores OWNER RIGHTS: read the DACL back instead.
          assert.ok(!w.isNull(control), `READ_CONTROL under Wine: error ${w.GetLastError()}`);
          const dacl = w.daclOf(control);
          w.CloseHandle(control);
          assert.ok(dacl, 'the DACL can be read');
          const aces = [...dacl.matchAll(/\(([^)]*)\)/g)].map((m) => m[1]!.split(';'));
          const readers = [...w.fileSddl(lockfile)!.matchAll(/\(A;[^;]*;([^;]*);;;([^)]*)\)/g)].map((m) => m[2]);
          assert.ok(aces.length > 0, dacl);
          for (const [type, , rights, , , sid] of aces) {
            assert.equal(type, 'A', dacl);
            assert.equal(Number(rights), GATE_RIGHTS, `only SYNCHRONIZE | MUTEX_MODIFY_STATE: ${dacl}`);
            assert.notEqual(sid, 'AN', `nothing for Anonymous: ${dacl}`);
            assert.ok(sid === 'OW' || readers.includes(sid), `${sid} may read the lock file: ${dacl}`);
          }
          assert.ok(
            aces.some(([, , , , , sid]) => sid === 'OW'),
            `OWNER RIGHTS takes the creator's implicit WRITE_DAC away: ${dacl}`,
          );
          return;
        }
        for (const [what, access] of [
          ['READ_CONTROL', READ_CONTROL],
          ['WRITE_DAC', WRITE_DAC],
          ['WRITE_OWNER', WRITE_OWNER],
        ] as const) {
          const h = w.OpenMutexW(access, 0, name);
          const code = w.GetLastError();
          if (!w.isNull(h)) w.CloseHandle(h);
          assert.ok(w.isNull(h), `${what} is refused, even to the gate's creator`);
          assert.equal(code, ERROR_ACCESS_DENIED);
        }
        const usable = w.OpenMutexW(GATE_RIGHTS, 0, name);
        assert.ok(!w.isNull(usable), `SYNCHRONIZE | MUTEX_MODIFY_STATE is granted: error ${w.GetLastError()}`);
        w.CloseHandle(usable);
      } finally {
        gate.close();
      }
    });
  });

  describe('spellings', function () {
    it('two spellings of one file (ΑΣ, ασ) exclude each other', async function () {
      const dir = tmpDir();
      const holder = await startHolder(path.join(dir, UPPER), 'exclusive');
      try {
        const r = await runCli([
          '--lockfile',
          path.join(dir, LOWER),
          '--mode',
          'shared',
          '--timeout',
          '0',
          '--',
          ...nodeEval('0'),
        ]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /busy: cannot take a shared lock on '.*' without waiting/);
      } finally {
        await holder.release();
      }
    });

    it('two spellings of one file share the gate: a writer waiting on ΑΣ turns away a reader of ασ', async function () {
      const dir = tmpDir();
      const gate = holdGate(path.join(dir, UPPER));
      try {
        const r = await runCli([
          '--lockfile',
          path.join(dir, LOWER),
          '--mode',
          'shared',
          '--timeout',
          '0',
          '--',
          ...nodeEval('0'),
        ]);
        assert.equal(r.status, 1, 'turned away at the gate');
        assert.match(r.stderr, /busy: cannot take a shared lock on '.*' without waiting/);
      } finally {
        gate.close();
      }
      const after = await runCli([
        '--lockfile',
        path.join(dir, LOWER),
        '--mode',
        'shared',
        '--timeout',
        '0',
        '--',
        ...nodeEval('0'),
      ]);
      assert.equal(after.status, 0, `once the gate is free the reader gets in: ${after.stderr}`);
    });

    it('two spellings of one file share the release event; two files that toLowerCase folds together do not', async function () {
      const dir = tmpDir();
      for (const name of [UPPER, KELVIN, SMALL_K]) fs.writeFileSync(path.join(dir, name), '');
      const one = platform.listenForRelease(path.join(dir, UPPER));
      const kelvin = platform.listenForRelease(path.join(dir, KELVIN));
      try {
        assert.equal(await one.wait(50), false, 'nothing signalled yet');
        platform.signalRelease(path.join(dir, LOWER));
        assert.equal(await one.wait(10_000), true, 'a release signalled under the other spelling wakes the waiter');
        platform.signalRelease(path.join(dir, SMALL_K));
        assert.equal(await kelvin.wait(500), false, 'a release of k.lock does not wake a waiter on KELVIN SIGN.lock');
      } finally {
        one.close();
        kelvin.close();
      }
    });

    it('two files that JS toLowerCase folds together (KELVIN SIGN, k) never share a gate', async function () {
      const dir = tmpDir();
      fs.writeFileSync(path.join(dir, KELVIN), '');
      fs.writeFileSync(path.join(dir, SMALL_K), '');
      const a = platform.fileIdentity(path.join(dir, KELVIN));
      const b = platform.fileIdentity(path.join(dir, SMALL_K));
      assert.notDeepEqual(a, b, 'the file system keeps KELVIN SIGN and k apart (NTFS and Wine do)');
      const gate = holdGate(path.join(dir, KELVIN));
      try {
        const r = await runCli([
          '--lockfile',
          path.join(dir, SMALL_K),
          '--mode',
          'shared',
          '--timeout',
          '0',
          '--',
          ...nodeEval('0'),
        ]);
        assert.equal(r.status, 0, `the gate of another file does not stop it: ${r.stderr}`);
      } finally {
        gate.close();
      }
    });

    it('two files whose names differ only in ASCII case, in a case-sensitive directory, never share a gate', async function () {
      const dir = tmpDir();
      const r = await new Promise<number | null>((resolve) => {
        const child = spawn('fsutil.exe', ['file', 'setCaseSensitiveInfo', dir, 'enable'], { stdio: 'ignore' });
        child.on('error', () => resolve(null));
        child.on('exit', (code) => resolve(code));
      });
      fs.writeFileSync(path.join(dir, 'a.lock'), '');
      fs.writeFileSync(path.join(dir, 'A.lock'), '');
      if (r !== 0 || fs.readdirSync(dir).length !== 2) {
        // Needs `fsutil file setCaseSensitiveInfo` (Windows 10 1803+, an administrator): Wine has no such
        // directories. KELVIN SIGN / k above covers the same rule where it can run.
        this.skip();
      }
      const gate = holdGate(path.join(dir, 'A.lock'));
      try {
        const shared = await runCli([
          '--lockfile',
          path.join(dir, 'a.lock'),
          '--mode',
          'shared',
          '--timeout',
          '0',
          '--',
          ...nodeEval('0'),
        ]);
        assert.equal(shared.status, 0, shared.stderr);
      } finally {
        gate.close();
      }
    });
  });

  describe('nested runners (PIPLOCK_HELD)', function () {
    const printHeld = nodeEval('process.stdout.write(process.env.PIPLOCK_HELD)');
    /** One PIPLOCK_HELD line for an exclusive lock on `file`, spelt as the file system stores its name. */
    const held = (file: string) =>
      new RegExp(
        `^exclusive:\\d+:\\d*:\\d+\\.\\d+:${fs.realpathSync.native(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
      );
    /** An exclusive runner on `outer` whose command is an exclusive runner on `inner` that prints PIPLOCK_HELD. */
    const nested = (outer: string, inner: string) =>
      runCli([
        '--lockfile',
        outer,
        '--mode',
        'exclusive',
        '--timeout',
        '10s',
        '--',
        NODE,
        CLI,
        '--lockfile',
        inner,
        '--mode',
        'exclusive',
        '--timeout',
        '0',
        '--',
        ...printHeld,
      ]);

    it('a nested runner given another spelling of the lock file inherits the lock', async function () {
      const dir = tmpDir();
      const r = await nested(path.join(dir, UPPER), path.join(dir, LOWER));
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, held(path.join(dir, UPPER)));
    });

    it('a nested runner on another file (k.lock inside KELVIN SIGN.lock) takes its own lock', async function () {
      const dir = tmpDir();
      const r = await nested(path.join(dir, KELVIN), path.join(dir, SMALL_K));
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.equal(lines.length, 2, r.stdout);
      assert.match(lines[0]!, held(path.join(dir, KELVIN)));
      assert.match(lines[1]!, held(path.join(dir, SMALL_K)));
    });
  });
});
