// The bin shim's code cache of the bundle (scripts/build.mjs): made by a run
// that ends well, read by the next run of its kind, never applied to a bundle
// it was not made from, and kept out of a directory another user could write.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IS_WINDOWS, NODE, ROOT } from '../support/paths';
import { run, tmpDir } from '../support/procs';

const BIN = path.join(ROOT, 'dist', 'bin');

/** A copy of the package's bin/ and package.json, so that its bundle can be changed (--version needs no more). */
function packageCopy(): string {
  const pkg = tmpDir('piplock-shim-');
  fs.mkdirSync(path.join(pkg, 'dist', 'bin'), { recursive: true });
  for (const f of ['piplock.js', 'piplock.bundle.js'])
    fs.copyFileSync(path.join(BIN, f), path.join(pkg, 'dist', 'bin', f));
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  return pkg;
}

/** The cache files under dir, wherever Node's version directory put them. */
function cacheFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => /piplock-[^/\\]+\.v8$/.test(f));
}

function versionVerbose(
  bin: string,
  cache: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return run(NODE, [bin, '--version', '--verbose'], { env: { ...process.env, NODE_COMPILE_CACHE: cache } });
}

describe('the code cache of the bundle', function () {
  this.timeout(60_000);
  if (!fs.existsSync(path.join(BIN, 'piplock.bundle.js'))) return; // built without esbuild: no bundle to cache

  it('is written by a run that ends with status 0 and read by the next run of its kind', async function () {
    const cache = tmpDir();
    const bin = path.join(BIN, 'piplock.js');
    const first = await versionVerbose(bin, cache);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^code cache: none yet, written at a successful end \(.+\.v8\)$/m);
    assert.equal(cacheFiles(cache).length, 1, `cache files: ${cacheFiles(cache).join(', ')}`);
    const second = await versionVerbose(bin, cache);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /^code cache: read \(.+\.v8\)$/m);
  });

  it('is not written by a run that fails', async function () {
    const cache = tmpDir();
    const r = await run(
      NODE,
      [
        path.join(BIN, 'piplock.js'),
        '--lockfile',
        path.join(tmpDir(), 'pip.lock'),
        '--',
        NODE,
        '-e',
        'process.exit(3)',
      ],
      { env: { ...process.env, NODE_COMPILE_CACHE: cache } },
    );
    assert.equal(r.status, 3, r.stderr);
    assert.deepEqual(cacheFiles(cache), []);
  });

  it('is not applied to a changed bundle of the same size: the changed code runs', async function () {
    const cache = tmpDir();
    const pkg = packageCopy();
    const bin = path.join(pkg, 'dist', 'bin', 'piplock.js');
    const before = await versionVerbose(bin, cache);
    assert.equal(before.status, 0, before.stderr);
    assert.match(before.stdout, /^compile cache: /m);
    const bundle = path.join(pkg, 'dist', 'bin', 'piplock.bundle.js');
    const text = fs.readFileSync(bundle, 'utf8');
    assert.ok(text.includes('compile cache: '));
    // A later time, as any rewrite of the file gives it (a second on: coarse file systems too).
    const { mtimeMs } = fs.statSync(bundle);
    fs.writeFileSync(bundle, text.replaceAll('compile cache: ', 'compile CACHE: '));
    fs.utimesSync(bundle, new Date(), new Date(mtimeMs + 1000));
    const after = await versionVerbose(bin, cache);
    assert.equal(after.status, 0, after.stderr);
    assert.match(after.stdout, /^compile CACHE: /m);
    assert.match(after.stdout, /^code cache: none yet/m);
  });

  it('is neither read nor written in a directory that other users can write to', async function () {
    if (IS_WINDOWS) {
      // The shim's check is of POSIX owners and mode bits; Windows keeps Node's compile cache in the user's own %TEMP%.
      console.log('      pending: no POSIX owner or mode bits on Windows');
      this.skip();
    }
    const cache = tmpDir();
    fs.chmodSync(cache, 0o777);
    const bin = path.join(BIN, 'piplock.js');
    // Node 22 and later keep the cache in a directory of their own below NODE_COMPILE_CACHE; Node 20 in ours.
    const first = await versionVerbose(bin, cache);
    assert.equal(first.status, 0, first.stderr);
    const dir = cacheFiles(cache).map((f) => path.dirname(path.join(cache, f)))[0];
    assert.ok(dir, 'the first run writes a cache');
    fs.rmSync(path.join(cache, cacheFiles(cache)[0]!));
    fs.chmodSync(dir, 0o777);
    const second = await versionVerbose(bin, cache);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /^code cache: off \(.+ is another user's, or others can write to it\)$/m);
    assert.deepEqual(cacheFiles(cache), []);
  });
  it('is left out, and the run goes on, where its directory cannot be used (a file in its place)', async function () {
    const file = path.join(tmpDir(), 'not-a-directory');
    fs.writeFileSync(file, '');
    const env = { ...process.env, NODE_COMPILE_CACHE: file };
    const lockfile = path.join(tmpDir(), 'pip.lock');
    for (let i = 0; i < 2; i++) {
      const r = await run(
        NODE,
        [path.join(BIN, 'piplock.js'), '--lockfile', lockfile, '--', NODE, '-e', 'console.log("ran")'],
        {
          env,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'ran');
      assert.equal(r.stderr, '');
    }
    const v = await run(NODE, [path.join(BIN, 'piplock.js'), '--version', '--verbose'], { env });
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^code cache: off/m);
  });
});
