// The library examples under examples/ are compiled with the project and run
// here as a user would run them: `node dist/examples/X.js LOCKFILE`, each
// importing 'piplock' by name. The README shows them verbatim.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tryAcquire } from '../../src';
import { NODE, ROOT } from '../support/paths';
import { startHolder } from '../support/holders';
import { run, tmpDir } from '../support/procs';

const EXAMPLES = ['acquire', 'try-acquire', 'with-lock'];

function example(name: string): string {
  return path.join(ROOT, 'dist', 'examples', `${name}.js`);
}

function text(file: string): string {
  return fs.readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
}

describe('library examples (examples/)', function () {
  let dir: string;
  let lockfile: string;
  beforeEach(function () {
    dir = tmpDir();
    lockfile = path.join(dir, 'pip.lock');
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every example is run by a test here, and the README shows each one verbatim', function () {
    const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.ts'));
    assert.deepEqual(files.map((f) => f.slice(0, -3)).sort(), [...EXAMPLES].sort());
    const readme = text(path.join(ROOT, 'README.md'));
    for (const f of files) {
      const code = text(path.join(ROOT, 'examples', f));
      assert.ok(readme.includes('```ts\n' + code + '```\n'), `README.md does not show examples/${f} as it is`);
    }
  });

  describe('acquire', function () {
    it('holds a shared lock beside another shared holder, and releases it at the end of the block', async function () {
      const holder = await startHolder(lockfile, 'shared');
      try {
        const r = await run(NODE, [example('acquire'), lockfile]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), `holding a shared lock on ${lockfile}`);
      } finally {
        await holder.release();
      }
      const after = tryAcquire(lockfile, 'exclusive');
      assert.ok(after, 'the example left the lock held');
      after.release();
    });

    it('gives up after its 2 s timeout while an exclusive holder keeps the lock: status 1', async function () {
      const holder = await startHolder(lockfile, 'exclusive');
      try {
        const r = await run(NODE, [example('acquire'), lockfile]);
        assert.equal(r.status, 1, r.stdout);
        assert.equal(r.stdout, '');
        const m = /^gave up after (\d+) ms$/.exec(r.stderr.trim());
        assert.ok(m, r.stderr);
        assert.ok(Number(m[1]) >= 2000, r.stderr);
      } finally {
        await holder.release();
      }
    });
  });

  describe('try-acquire', function () {
    it('takes and releases a free lock', async function () {
      const r = await run(NODE, [example('try-acquire'), lockfile]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'free: locked, now releasing');
      const after = tryAcquire(lockfile, 'exclusive');
      assert.ok(after, 'the example left the lock held');
      after.release();
    });

    it('says busy, without waiting, while another process holds a shared lock', async function () {
      const holder = await startHolder(lockfile, 'shared');
      try {
        const r = await run(NODE, [example('try-acquire'), lockfile]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), 'busy');
      } finally {
        await holder.release();
      }
    });
  });

  describe('with-lock', function () {
    it('runs its function only once the holder has let go, and returns its result', async function () {
      const holder = await startHolder(lockfile, 'shared');
      const child = spawn(NODE, [example('with-lock'), lockfile], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      let released = false;
      try {
        // Generous: the example must still be waiting after a second, however slow the machine.
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal(child.exitCode, null, `the example finished while the lock was held: ${out}${err}`);
        assert.equal(out, '');
        released = true;
        await holder.release();
      } finally {
        if (!released) await holder.release();
      }
      const code = await done;
      assert.equal(code, 0, err);
      assert.equal(out.trim(), 'changed under the exclusive lock');
    });
  });
});
