import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { entryFileName } from '../../src/runner/registry';
import { CLI, IS_WINDOWS, NODE } from '../support/paths';
import { startHolder } from '../support/holders';
import { exited } from '../support/procs';
import { assertEnded, assertFree, cliBounded, describeRun, removeScratch, scratch } from '../support/bad-input';

type Kind = 'none' | 'fifo' | 'dev-zero' | 'huge';

/**
 * Puts garbage named like a registry entry into <lock>.d/. The names use PIDs of living processes
 * (this one and its parent), so that a reader cannot skip them as the entries of dead runners.
 */
function plant(lockfile: string, kind: Kind): string[] {
  const dir = `${lockfile}.d`;
  fs.mkdirSync(dir, { recursive: true });
  // Both spellings of an entry's name: with the PID namespace (Linux) and without it (elsewhere, and earlier versions).
  const spellings = [
    `${process.pid}.json`,
    `${process.ppid}.json`,
    entryFileName(process.pid),
    entryFileName(process.ppid),
  ];
  const names = [...new Set(spellings)].map((n) => path.join(dir, n));
  for (const name of names) {
    if (kind === 'none') {
      return [];
    } else if (kind === 'fifo') {
      const r = require('node:child_process').spawnSync('mkfifo', [name]) as { status: number | null };
      assert.equal(r.status, 0, 'mkfifo');
    } else if (kind === 'dev-zero') {
      fs.symlinkSync('/dev/zero', name);
    } else {
      // 3 GiB, sparse where the file system allows: more than a reader may load into memory.
      const fd = fs.openSync(name, 'w');
      fs.ftruncateSync(fd, 3 * 1024 ** 3);
      fs.closeSync(fd);
    }
  }
  return names;
}

const KINDS: Array<[Kind, string]> = [
  ['none', 'no garbage (the control: shows that the harness passes without it)'],
  ['fifo', 'a FIFO named like an entry'],
  ['dev-zero', 'a symlink to /dev/zero named like an entry'],
  ['huge', 'a 3 GiB file named like an entry'],
];

describe('hardening: garbage in the registry (<lock>.d/) never blocks a reader', function () {
  const planted: string[] = [];
  afterEach(function () {
    for (const f of planted.splice(0)) fs.rmSync(f, { force: true });
  });
  after(removeScratch);

  for (const [kind, what] of KINDS) {
    describe(what, function () {
      before(function () {
        // FIFOs and /dev/zero do not exist on Windows; a huge file does.
        if (IS_WINDOWS && (kind === 'fifo' || kind === 'dev-zero')) this.skip();
      });

      it('piplock status finishes by itself, status 0, and lists no entry for the garbage', async function () {
        const lockfile = path.join(scratch(), 'pip.lock');
        fs.writeFileSync(lockfile, '');
        planted.push(...plant(lockfile, kind));
        const r = await cliBounded(['status', '--json', lockfile]);
        assertEnded(r);
        assert.equal(r.status, 0, describeRun(r));
        const s = JSON.parse(r.stdout) as { entries: Array<{ pid: number }> };
        const bogus = s.entries.filter((e) => e.pid === process.pid || e.pid === process.ppid);
        assert.deepEqual(bogus, [], `no entry from the garbage: ${r.stdout}`);
        const text = await cliBounded(['status', lockfile]);
        assertEnded(text);
        assert.equal(text.status, 0, describeRun(text));
      });

      it('a waiting runner whose notice reads the registry still times out at its --timeout', async function () {
        const lockfile = path.join(scratch(), 'pip.lock');
        planted.push(...plant(lockfile, kind));
        const holder = await startHolder(lockfile, 'exclusive');
        try {
          const r = await cliBounded([
            '--lockfile',
            lockfile,
            '--mode',
            'shared',
            '--timeout',
            '2s',
            '--notice-after',
            '200ms',
            '--',
            NODE,
            '-e',
            '0',
          ]);
          assertEnded(r);
          assert.equal(r.status, 1, `timed out: ${describeRun(r)}`);
          assert.match(r.stderr, /^piplock: error: timed out/m, describeRun(r));
          assert.doesNotMatch(r.stderr, /\n\s+at /, describeRun(r));
        } finally {
          await holder.release();
        }
        await assertFree(lockfile);
      });

      it('a waiting runner whose notice reads the registry still gets the lock when the holder leaves', async function () {
        const dir = scratch();
        const lockfile = path.join(dir, 'pip.lock');
        const marker = path.join(dir, 'ran');
        planted.push(...plant(lockfile, kind));
        const holder = await startHolder(lockfile, 'exclusive');
        const waiter = spawn(
          NODE,
          [
            CLI,
            '--lockfile',
            lockfile,
            '--mode',
            'shared',
            '--timeout',
            '60s',
            '--notice-after',
            '200ms',
            '--',
            NODE,
            '-e',
            `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        waiter.stderr!.on('data', (d) => (stderr += d));
        // Past the notice (200 ms), then the holder leaves.
        await new Promise((r) => setTimeout(r, 1500));
        await holder.release();
        const timer = setTimeout(() => waiter.kill('SIGKILL'), 20_000);
        const { code, signal } = await exited(waiter);
        clearTimeout(timer);
        assert.equal(signal, null, `ended by itself, not by the test's 20 s timer; stderr: ${stderr}`);
        assert.equal(code, 0, stderr);
        assert.ok(fs.existsSync(marker), 'the command ran');
      });
    });
  }
});
