import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IS_WINDOWS, NODE } from '../support/paths';
import {
  assertEnded,
  assertOneError,
  cliBounded,
  describeRun,
  gnArgs,
  libraryChild,
  listing,
  removeScratch,
  scratch,
  type Threw,
} from '../support/bad-input';

/**
 * A refused lock path: where it is, what must stay as it was, and the words the error must use.
 * `watch` lists directories whose listings must not change; `absent` paths that must not appear.
 */
interface Place {
  what: string;
  posixOnly?: string;
  setup(): { lockfile: string; cwd: string; watch: string[]; absent: string[] };
  problem: RegExp;
}

const PLACES: Place[] = [
  {
    what: '/dev/null',
    posixOnly: 'Windows has no /dev/null (NUL is a device name, not a path in a directory)',
    setup: () => ({ lockfile: '/dev/null', cwd: scratch(), watch: [], absent: ['/dev/null.d'] }),
    problem: /not a regular file/,
  },
  {
    what: 'the root directory',
    setup: () => {
      const root = path.parse(scratch()).root;
      return { lockfile: root, cwd: scratch(), watch: [], absent: [path.join(root, '.d')] };
    },
    problem: /is a directory/,
  },
  {
    what: 'a directory',
    setup: () => {
      const base = scratch();
      const d = path.join(base, 'D');
      fs.mkdirSync(d);
      return { lockfile: d, cwd: scratch(), watch: [base, d], absent: [`${d}.d`] };
    },
    problem: /is a directory/,
  },
  {
    what: 'a FIFO',
    posixOnly: 'FIFOs in the file system do not exist on Windows',
    setup: () => {
      const base = scratch();
      const f = path.join(base, 'F');
      assert.equal(spawnSync('mkfifo', [f]).status, 0, 'mkfifo');
      return { lockfile: f, cwd: scratch(), watch: [base], absent: [`${f}.d`] };
    },
    problem: /not a regular file/,
  },
  {
    what: "'' (empty)",
    setup: () => {
      const base = scratch();
      const cwd = path.join(base, 'cwd');
      fs.mkdirSync(cwd);
      return { lockfile: '', cwd, watch: [base, cwd], absent: [`${cwd}.d`] };
    },
    problem: /empty|is a directory/i,
  },
];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Known garbage that earlier runs of the product leave on this machine; cleared so that the test can see whether it is created. */
const MACHINE_GARBAGE = ['/dev/null.d', '/.d'];

function clearGarbage(): void {
  if (IS_WINDOWS) return;
  for (const g of MACHINE_GARBAGE) fs.rmSync(g, { recursive: true, force: true });
}

describe('hardening: nothing is created beside a refused lock path', function () {
  before(clearGarbage);
  afterEach(clearGarbage);
  after(removeScratch);

  for (const place of PLACES) {
    describe(`--lockfile ${place.what}`, function () {
      before(function () {
        if (IS_WINDOWS && place.posixOnly) this.skip(); // see posixOnly for why
      });

      let s: ReturnType<Place['setup']>;
      let listed: Map<string, string[]>;
      beforeEach(function () {
        s = place.setup();
        for (const a of s.absent) assert.ok(!fs.existsSync(a), `${a} does not exist before the test`);
        listed = new Map(s.watch.map((d) => [d, listing(d)]));
      });
      afterEach(function () {
        const made = s.absent.filter((a) => fs.existsSync(a));
        for (const a of made) fs.rmSync(a, { recursive: true, force: true });
      });

      function assertNothingCreated(): void {
        for (const a of s.absent) assert.ok(!fs.existsSync(a), `${a} was created`);
        for (const [d, names] of listed) assert.deepEqual(listing(d), names, `the listing of ${d} is unchanged`);
        assert.deepEqual(
          listing(s.cwd),
          s.watch.includes(s.cwd) ? listed.get(s.cwd) : [],
          'nothing created in the working directory',
        );
      }

      it('run: one error line naming the path and the problem, nothing created', async function () {
        const marker = path.join(scratch(), 'ran');
        const r = await cliBounded(
          [
            '--lockfile',
            s.lockfile,
            '--timeout',
            '2s',
            '--',
            NODE,
            '-e',
            `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
          ],
          20_000,
          { cwd: s.cwd },
        );
        assertOneError(r, place.problem);
        if (s.lockfile) assert.match(r.stderr, new RegExp(escape(s.lockfile)), describeRun(r));
        assert.ok(!fs.existsSync(marker), 'the command did not run');
        assertNothingCreated();
      });

      it('python-runner: one error line naming the path and the problem, nothing created', async function () {
        const scriptDir = scratch();
        const script = path.join(scriptDir, 'script.py');
        const marker = path.join(scriptDir, 'ran');
        fs.writeFileSync(script, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`);
        const r = await cliBounded(
          [
            'python-runner',
            ...gnArgs(scriptDir),
            '--python',
            NODE,
            '--lockfile',
            s.lockfile,
            '--timeout',
            '2s',
            '--',
            script,
          ],
          20_000,
          { cwd: s.cwd },
        );
        assertOneError(r, place.problem);
        if (s.lockfile) assert.match(r.stderr, new RegExp(escape(s.lockfile)), describeRun(r));
        assert.ok(!fs.existsSync(marker), 'the script did not run');
        assertNothingCreated();
      });

      it('library: acquire() rejects naming the problem, nothing created', async function () {
        const { r, out } = await libraryChild(
          `const l = await L.acquire(${JSON.stringify(s.lockfile)}, { timeoutMs: 2000 }); l.release(); return 'acquired';`,
          s.cwd,
        );
        assertEnded(r);
        const t = out as Threw;
        assert.ok(t?.threw, `rejected: ${describeRun(r)}`);
        assert.match(t.threw.message, place.problem, describeRun(r));
        assertNothingCreated();
      });
    });
  }
});
