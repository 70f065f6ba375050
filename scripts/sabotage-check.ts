/**
 * Runs tests with a sabotage switch on and succeeds only if they fail:
 *
 *   node dist/scripts/sabotage-check.js SWITCH GREP FILE...
 *
 * mocha runs the tests of FILE... whose full title contains GREP, with
 * PIPLOCK_TEST_SABOTAGE=SWITCH (test/support/sabotage.ts). Status 0 when at
 * least one test ran and every test that ran failed (not a hook: a hook that
 * fails says nothing about the mechanism); 1 when any of them passed, none
 * ran, or mocha could not report. A CI step uses it to show that a safety
 * test can fail on the system it runs on.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

interface MochaTest {
  title: string;
  fullTitle: string;
}
interface MochaReport {
  stats: { tests: number; passes: number; pending: number; failures: number };
  passes: MochaTest[];
  failures: MochaTest[];
  pending: MochaTest[];
}

const ROOT = path.resolve(__dirname, '..', '..');

function main(argv: string[]): number {
  const [sabotage, grep, ...files] = argv;
  if (!sabotage || !grep || files.length === 0) {
    process.stderr.write('usage: node dist/scripts/sabotage-check.js SWITCH GREP FILE...\n');
    return 2;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-sabotage-'));
  try {
    const report = path.join(dir, 'report.json');
    const mocha = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const args = [
      mocha,
      '--no-config',
      '--timeout',
      '120000',
      '--reporter',
      'json',
      '--reporter-option',
      `output=${report}`,
      '--grep',
      grep,
      ...files,
    ];
    const r = spawnSync(process.execPath, args, {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, PIPLOCK_TEST_SABOTAGE: sabotage },
    });
    if (r.error) throw r.error;
    if (!fs.existsSync(report)) {
      process.stderr.write(`sabotage-check: mocha wrote no report (status ${r.status}): the tests did not run\n`);
      return 1;
    }
    const result = JSON.parse(fs.readFileSync(report, 'utf8')) as MochaReport;
    const hooks = result.failures.filter((t) => t.title.startsWith('"'));
    const failed = result.failures.filter((t) => !t.title.startsWith('"'));
    const summary = `${sabotage}: ${failed.length} failed, ${result.passes.length} passed, ${result.pending.length} pending, ${hooks.length} hooks failed`;
    if (failed.length > 0 && result.passes.length === 0 && result.pending.length === 0 && hooks.length === 0) {
      process.stdout.write(`sabotage-check: ${summary}: every selected test fails without its mechanism, as it must\n`);
      for (const t of failed) process.stdout.write(`  failed: ${t.fullTitle}\n`);
      return 0;
    }
    process.stderr.write(`sabotage-check: ${summary}: expected every selected test to fail\n`);
    for (const t of result.passes) process.stderr.write(`  passed: ${t.fullTitle}\n`);
    for (const t of result.pending) process.stderr.write(`  pending: ${t.fullTitle}\n`);
    for (const t of hooks) process.stderr.write(`  hook failed: ${t.fullTitle}\n`);
    return 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main(process.argv.slice(2));
