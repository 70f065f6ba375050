import * as assert from 'node:assert/strict';
import { tmpDir } from '../support/procs';
import { assertEnded, describeRun, libraryChild, listing, type Threw } from '../support/bad-input';

/** Runs `call` in a child whose working directory is a new empty directory; expects a TypeError naming `names` and nothing created. */
async function assertTypeError(call: string, names: RegExp): Promise<void> {
  const cwd = tmpDir();
  const { r, out } = await libraryChild(
    `const x = await ${call}; if (x && x.release) x.release(); return 'no error';`,
    cwd,
    20_000,
  );
  assertEnded(r);
  const t = out as Threw;
  assert.ok(t?.threw, `${call} throws: ${describeRun(r)}`);
  assert.equal(t.threw.typeError, true, `${call}: a TypeError, not ${t.threw.name}: ${t.threw.message}`);
  assert.match(t.threw.message, names, `${call}: the message names the argument`);
  assert.deepEqual(listing(cwd), [], `${call} creates nothing in the working directory`);
}

describe('hardening: the library validates its arguments before touching the file system', function () {
  it("acquire(p, {mode: 'exlusive'}) rejects with a TypeError naming mode", async function () {
    await assertTypeError(`L.acquire('pip.lock', { mode: 'exlusive', timeoutMs: 0 })`, /mode/);
  });

  it('acquire(p, {timeoutMs: NaN}) rejects with a TypeError naming timeoutMs', async function () {
    await assertTypeError(`L.acquire('pip.lock', { timeoutMs: NaN })`, /timeoutMs/);
  });

  it('acquire(p, {timeoutMs: -1}) rejects with a TypeError naming timeoutMs', async function () {
    await assertTypeError(`L.acquire('pip.lock', { timeoutMs: -1 })`, /timeoutMs/);
  });

  it("acquire(p, {timeoutMs: '5s'}) rejects with a TypeError naming timeoutMs", async function () {
    await assertTypeError(`L.acquire('pip.lock', { timeoutMs: '5s' })`, /timeoutMs/);
  });

  for (const bad of ['123', 'undefined', '{}']) {
    it(`acquire(${bad}) rejects with a TypeError naming the path, and creates nothing`, async function () {
      await assertTypeError(`L.acquire(${bad}, { timeoutMs: 0 })`, /path/i);
    });

    it(`tryAcquire(${bad}) throws a TypeError naming the path, and creates nothing`, async function () {
      await assertTypeError(`L.tryAcquire(${bad})`, /path/i);
    });
  }

  it("tryAcquire(p, 'exlusive') throws a TypeError naming the mode, and creates nothing", async function () {
    await assertTypeError(`L.tryAcquire('pip.lock', 'exlusive')`, /mode/);
  });

  it("withLock(p, {mode: 'exlusive'}, fn) rejects with a TypeError and does not call fn", async function () {
    await assertTypeError(
      `L.withLock('pip.lock', { mode: 'exlusive', timeoutMs: 0 }, () => { process.stdout.write('fn ran'); })`,
      /mode/,
    );
  });
});
