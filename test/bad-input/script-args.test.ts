import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { quantile } from '../../src/base/stats';
import { ROOT } from '../support/paths';
import { run } from '../support/procs';

const BENCH = path.join(ROOT, 'dist', 'scripts', 'bench', 'main.js');
const STRESS = path.join(ROOT, 'dist', 'scripts', 'stress', 'stress.js');

describe('the bench and stress scripts check their arguments', function () {
  const cases: Array<[string, string, string[], RegExp]> = [
    ['stress', STRESS, ['--kinds', 'nosuchkind'], /^stress: error: --kinds: unknown kind 'nosuchkind' \(the kinds: /],
    ['stress', STRESS, ['--kinds', 'lib,flock-s,x'], /unknown kind 'x'/],
    ['stress', STRESS, ['--faults', 'delete,boom'], /^stress: error: --faults: unknown fault 'boom'/],
    ['stress', STRESS, ['--workers', 'x'], /^stress: error: --workers needs a whole number of at least 1, not 'x'/],
    ['stress', STRESS, ['--workers', '2.5'], /--workers needs a whole number/],
    ['stress', STRESS, ['--kill-rate', '2'], /^stress: error: --kill-rate is a chance from 0 to 1/],
    ['stress', STRESS, ['--exclusive-percent', '101'], /--exclusive-percent is from 0 to 100/],
    ['stress', STRESS, ['--workers'], /^stress: error: .*--workers/],
    ['stress', STRESS, ['--frob'], /^stress: error: .*'--frob'/],
    ['stress', STRESS, ['extra'], /^stress: error: .*'extra'/],
    ['bench', BENCH, ['--only', 'nope'], /^bench: error: --only: unknown section 'nope' \(the sections: cost, /],
    ['bench', BENCH, ['--runs', '0'], /^bench: error: --runs needs a whole number of at least 1, not '0'/],
    ['bench', BENCH, ['--rounds', 'many'], /^bench: error: --rounds needs a whole number/],
    ['bench', BENCH, ['--baseline', '/nonexistent'], /^bench: error: --baseline '\/nonexistent' is not a built copy/],
    ['bench', BENCH, ['--frob'], /^bench: error: .*'--frob'/],
  ];
  for (const [name, script, args, message] of cases) {
    it(`${name} ${args.join(' ')}: one error line, status 2, before any work`, async function () {
      const r = await run(process.execPath, [script, ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, message);
    });
  }

  it('one quantile (src/base/stats), by nearest rank, for the bench and the report', function () {
    assert.equal(quantile([3, 1, 2], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.9), 4);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });
});
