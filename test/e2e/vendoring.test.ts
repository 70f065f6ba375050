/**
 * The package as a consumer gets it, made and installed as docs/pigweed.md
 * says: `npm pack` in a clone, then `npm install --omit=dev` with no compiler
 * on PATH, two ways: unpacked into third_party/piplock of a GN source tree
 * and installed there (vendored), and installed into the source tree's
 * node_modules by its package.json, with the allowScripts that
 * docs/pigweed.md shows. Each must run with koffi's flock, and build a GN
 * project (test/e2e/vendoring-project) through the template it ships.
 *
 * The clone is a copy of the files git has here (tracked, and untracked but
 * not ignored: the work tree as a clone of it would be), with this
 * checkout's node_modules linked in as the dev dependencies that `npm ci`
 * installs. Its `npm pack` runs the real prepack: the build, and package.json
 * taken out of the package without its `prepare`.
 *
 * The installs reach the registry only for what the npm cache lacks
 * (--prefer-offline). Their PATH holds only node, the Python and sh: no cc,
 * c++ or make, so fs-ext cannot be compiled. The GN builds need gn and ninja
 * (found on the PATH outside) and are pending without them, as in
 * gn-build.test.ts. Pending on Windows: node-gyp finds Visual Studio without
 * PATH, so no PATH makes Windows compiler-free, and the lock there is
 * LockFileEx through koffi whatever the install did; the Wine lane has no
 * git, gn or ninja either.
 */
import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IS_WINDOWS, NODE, PYTHON, ROOT, TEST_SOURCES } from '../support/paths';
import { tmpDir, which } from '../support/procs';

const PROJECT = path.join(TEST_SOURCES, 'e2e', 'vendoring-project');
/** The stamp tool of the other e2e project, which this one's toolchain uses too. */
const STAMP_TOOL = path.join(TEST_SOURCES, 'e2e', 'project', 'tools', 'stamp.py');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const TARBALL = `${PACKAGE.name}-${PACKAGE.version}.tgz`;

/** The scripts npm runs in a package's own directory when it installs it, or installs into it. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare'];

/** npm's own command line script, run with this Node: npm_execpath under `npm test`, else the `npm` on PATH. */
function npmCli(): string | undefined {
  const onPath = which('npm');
  for (const candidate of [process.env.npm_execpath, onPath && fs.realpathSync(onPath)]) {
    if (candidate && path.basename(candidate) === 'npm-cli.js' && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The environment of the consumer's commands: this one without npm's
 * variables (under `npm test` they name this checkout as the local prefix;
 * npm reads its settings again from its config files) and without piplock's
 * (PIPLOCK_FLOCK=koffi would choose the backend this test checks).
 */
function cleanEnv(PATH: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|PIPLOCK_|INIT_CWD$)/i.test(k)) env[k] = v;
  env.PATH = PATH;
  return env;
}

function run(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { ...options, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

function check(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Bytes under a directory, links not followed. */
function size(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += size(p);
    else if (e.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

/** The consumer's allowScripts: the JSON block of docs/pigweed.md that has it. */
function documentedAllowScripts(): Record<string, boolean> {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'pigweed.md'), 'utf8').replace(/\r\n/g, '\n');
  const block = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('allowScripts'));
  assert.ok(block, 'docs/pigweed.md shows a package.json with allowScripts in a ```json block');
  return (JSON.parse(block) as { allowScripts: Record<string, boolean> }).allowScripts;
}

/** Whether npm said that some install script is not covered by allowScripts (npm 11). */
const UNREVIEWED = /install-scripts|not yet covered by allowScripts/;

describe('e2e: the packed package, installed with --omit=dev and no compiler, vendored and in node_modules', function () {
  // Bounds, not measurements: a build of the clone (tsc, esbuild), three npm installs and two small GN builds.
  this.timeout(240_000);
  let npm: string;
  let work: string;
  let clone: string;
  let tarball: string;
  let packed: { files: { path: string }[] };
  let src: string;
  /** The consumer's environment: a PATH of node, the Python and sh, and nothing else. */
  let bare: NodeJS.ProcessEnv;
  let python: string;
  let gn: string | undefined;
  let ninja: string | undefined;

  /** Copies the files of the checkout that a clone of it would have. */
  function copyCheckout(to: string): void {
    const r = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      env: process.env,
    });
    for (const rel of check(r, 'git ls-files').split('\0')) {
      if (rel === '' || !fs.existsSync(path.join(ROOT, rel))) continue; // deleted here, not yet in git
      fs.mkdirSync(path.dirname(path.join(to, rel)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, rel), path.join(to, rel));
    }
  }

  function npmRun(args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
    return run(NODE, [npm, ...args, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd, env });
  }

  before(function () {
    const pending = (reason: string): never => {
      console.log(`      pending: ${reason}`);
      this.skip();
    };
    if (IS_WINDOWS)
      pending(
        'on Windows node-gyp finds Visual Studio without PATH, so no PATH makes the machine compiler-free, and the lock is LockFileEx through koffi whatever the install did',
      );
    const found = npmCli();
    if (!found) return pending('npm not found (npm_execpath, or npm on PATH, naming npm-cli.js)');
    npm = found;
    if (spawnSync('git', ['-C', ROOT, 'rev-parse', '--is-inside-work-tree']).status !== 0)
      pending(`${ROOT} is not a git checkout, which the clone is copied from`);
    const py = spawnSync(PYTHON, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
    if (py.status !== 0) pending(`${PYTHON} not found`);
    python = py.stdout.trim();
    const sh = which('sh');
    if (!sh) return pending('sh not found on PATH');
    gn = which('gn');
    ninja = which('ninja');

    work = tmpDir('piplock-vendoring-');
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(NODE, path.join(bin, 'node'));
    fs.symlinkSync(python, path.join(bin, 'python3'));
    fs.symlinkSync(sh, path.join(bin, 'sh'));
    bare = cleanEnv(bin);
    for (const compiler of ['cc', 'c++', 'gcc', 'g++', 'clang', 'make'])
      assert.equal(
        (spawnSync(compiler, ['--version'], { env: bare }).error as NodeJS.ErrnoException | undefined)?.code,
        'ENOENT',
        `${compiler} is on the consumer's PATH`,
      );

    // The clone, with the dev dependencies, and its package (prepack: build, then package.json without
    // prepare). The copy has no dist/ (git ignores it): what the package has of it, prepack built.
    clone = path.join(work, 'clone');
    copyCheckout(clone);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
    const r = npmRun(['pack', '--json', '--pack-destination', work], clone, cleanEnv(process.env.PATH ?? ''));
    packed = (JSON.parse(check(r, 'npm pack in the clone')) as { files: { path: string }[] }[])[0]!;
    tarball = path.join(work, TARBALL);
    assert.ok(fs.existsSync(tarball), `npm pack made ${tarball}`);

    // The GN source tree, with the package unpacked into third_party/piplock.
    src = path.join(work, 'src');
    fs.cpSync(PROJECT, src, { recursive: true });
    fs.copyFileSync(STAMP_TOOL, path.join(src, 'tools', 'stamp.py'));
    fs.mkdirSync(path.join(src, 'third_party', 'piplock'), { recursive: true });
    const vendored = path.join(src, 'third_party', 'piplock');
    check(
      run('tar', ['-xzf', tarball, '--strip-components=1', '-C', vendored], { cwd: work, env: process.env }),
      'tar',
    );
  });

  it("npm pack in a clone builds dist/ and leaves the clone's package.json as it was; the package has the built files, the docs, and no install script", () => {
    assert.equal(
      fs.readFileSync(path.join(clone, 'package.json'), 'utf8'),
      fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'),
      "the clone's package.json after npm pack",
    );
    assert.ok(!fs.existsSync(path.join(clone, 'dist', 'package.json.orig')), 'postpack removed the saved manifest');
    const files = new Set(packed.files.map((f) => f.path));
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/bin/piplock.js',
      'dist/bin/piplock.bundle.js',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/platform/index.d.ts',
      'gn/python_action.gni',
      'gn/piplock_action.py',
      'docs/pigweed.md',
    ])
      assert.ok(files.has(f), `the package has ${f}`);
    for (const f of files)
      assert.ok(!/^(src|platform|test|scripts|examples)\/|^dist\/(test|scripts|examples)\//.test(f), `not ${f}`);

    const manifest = JSON.parse(fs.readFileSync(path.join(src, 'third_party', 'piplock', 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    for (const s of INSTALL_SCRIPTS) assert.equal(manifest.scripts?.[s], undefined, `the package's ${s} script`);

    // Every relative link of the package's Markdown files leads to a file in the package.
    for (const f of [...files].filter((f) => f.endsWith('.md'))) {
      const text = fs.readFileSync(path.join(src, 'third_party', 'piplock', f), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // https:, mailto:
        const rel = path.posix.normalize(path.posix.join(path.posix.dirname(f), target!));
        assert.ok(files.has(rel), `${f} links to ${target}, which the package does not have`);
      }
    }
  });

  it('npm ci --omit=dev in a clone stops at prepare with one line that says what to do', () => {
    const bareClone = path.join(work, 'clone-omit-dev');
    copyCheckout(bareClone);
    // Never with the link to this checkout's node_modules: npm ci empties node_modules first.
    assert.ok(!fs.existsSync(path.join(bareClone, 'node_modules')));
    const r = npmRun(['ci', '--omit=dev', '--prefer-offline'], bareClone, bare);
    assert.notEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /^piplock: error: building dist\/ in a clone needs the dev dependencies .*npm pack.*--omit=dev/m,
      r.stderr,
    );
    assert.doesNotMatch(r.stderr, /tsc: not found/);
  });

  /** Installs, and checks the install: no dev dependency, no unreviewed install script, koffi's flock. */
  function checkInstall(r: SpawnSyncReturns<string>, what: string, nodeModules: string, piplock: string[]): string {
    check(r, what);
    assert.doesNotMatch(r.stdout + r.stderr, UNREVIEWED, `${what}: npm says an install script is unreviewed`);
    for (const dev of ['typescript', 'esbuild', 'mocha', 'eslint'])
      assert.ok(!fs.existsSync(path.join(nodeModules, dev)), `${what} installed the dev dependency ${dev}`);
    const [cmd, ...args] = piplock;
    const v = check(run(cmd!, [...args, '--version', '--verbose'], { cwd: work, env: bare }), piplock.join(' '));
    assert.match(v, /^lock: flock \(koffi\)$/m, v);
    assert.match(v, new RegExp(`^piplock ${PACKAGE.version.replace(/\./g, '\\.')}$`, 'm'), v);
    const packages = fs.readdirSync(nodeModules).filter((n) => !n.startsWith('.'));
    console.log(
      `      ${what}: ${packages.length} entries in node_modules, ${(size(nodeModules) / 1e6).toFixed(1)} MB`,
    );
    return v;
  }

  /** A GN build through the template of the route, in a fresh build directory, with the consumer's PATH. */
  function gnBuild(test: Mocha.Context, route: 'third_party' | 'node_modules', pkg: string): void {
    if (!gn || !ninja) {
      console.log(`      pending: '${gn ? 'ninja' : 'gn'}' not found on PATH (Debian: generate-ninja, ninja-build)`);
      test.skip();
    }
    assert.ok(fs.existsSync(path.join(pkg, 'dist', 'bin', 'piplock.js')), `${pkg} is not there: its install failed`);
    const out = path.join(work, `out-${route}`);
    const slash = (p: string) => p.split(path.sep).join('/');
    check(
      run(
        gn,
        [
          'gen',
          out,
          `--script-executable=${python}`,
          `--args=vendoring_route="${route}" vendoring_python="${slash(python)}"`,
        ],
        { cwd: src, env: bare },
      ),
      'gn gen',
    );
    const b = run(ninja!, ['-C', out], { cwd: work, env: bare });
    check(b, `ninja (${route})`);

    const read = (rel: string) =>
      JSON.parse(fs.readFileSync(path.join(out, rel), 'utf8')) as { args: string[]; held: string | null };
    const first = read('gen/first.json');
    const second = read('gen/second.json');
    assert.match(first.held ?? '', /^shared:\d+:/, 'the action ran under the shared lock (PIPLOCK_HELD)');
    assert.ok(first.held!.endsWith(`${path.sep}pip.lock`), first.held!);
    assert.deepEqual(second.args, ['gen/first.json'], '<TARGET_FILE(:first)> expanded');
    assert.ok(fs.existsSync(path.join(out, 'gen', 'second.pw_pystamp')), 'the stamp of :second');

    const commands = check(run(ninja!, ['-C', out, '-t', 'commands'], { cwd: work, env: bare }), 'ninja -t commands');
    const launcher = `../src/${route === 'third_party' ? 'third_party/piplock' : 'node_modules/piplock'}/gn/piplock_action.py`;
    const actions = commands.split(/\r?\n/).filter((c) => c.includes('piplock_action.py'));
    assert.equal(actions.length, 2, commands);
    for (const c of actions) assert.ok(c.includes(` ${launcher} --node=node `), c);

    // The installed CLI reads the event log that the build's two actions wrote.
    const cli = path.join(pkg, 'dist', 'bin', 'piplock.js');
    const report = JSON.parse(
      check(run(NODE, [cli, 'report', '--json', path.join(out, 'pip.lock')], { cwd: work, env: bare }), 'report'),
    ) as { actions: number };
    assert.equal(report.actions, 2, 'one acquisition per Python action');
  }

  describe('vendored: unpacked into third_party/piplock, npm install --omit=dev there', function () {
    let pkg: string;
    before(() => {
      pkg = path.join(src, 'third_party', 'piplock');
    });

    it("installs with piplock's own allowScripts, without a compiler, and runs with koffi's flock", () => {
      const r = npmRun(['install', '--omit=dev', '--prefer-offline'], pkg, bare);
      checkInstall(r, 'vendored', path.join(pkg, 'node_modules'), [NODE, path.join(pkg, 'dist', 'bin', 'piplock.js')]);
    });

    it('builds a GN project that imports //third_party/piplock/gn/python_action.gni', function () {
      gnBuild(this, 'third_party', pkg);
    });
  });

  describe("node_modules: npm install --omit=dev of the tarball by the source tree's package.json", function () {
    let pkg: string;
    before(() => {
      pkg = path.join(src, 'node_modules', 'piplock');
    });

    it('installs with the allowScripts of docs/pigweed.md, without a compiler; node_modules/.bin/piplock runs with koffi', () => {
      const manifest = { name: 'gn-project', version: '1.0.0', private: true, allowScripts: documentedAllowScripts() };
      fs.writeFileSync(path.join(src, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      const r = npmRun(['install', '--omit=dev', '--prefer-offline', tarball], src, bare);
      // The bin that npm linked, run by its #! line with the node on the consumer's PATH.
      const bin = path.join(src, 'node_modules', '.bin', 'piplock');
      const v = checkInstall(r, 'node_modules', path.join(src, 'node_modules'), [bin]);
      assert.match(v, new RegExp(`^package: ${pkg.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}$`, 'm'), v);
    });

    it('builds a GN project that imports //node_modules/piplock/gn/python_action.gni', function () {
      gnBuild(this, 'node_modules', pkg);
    });
  });
});
