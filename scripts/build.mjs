// node scripts/build.mjs: after `tsc -p .`, bundles the CLI and everything of
// piplock's it can load into dist/bin/piplock.bundle.js, and writes the `bin`,
// dist/bin/piplock.js, a shim that loads it. tsc's own output (dist/src/) is
// never overwritten: dist/src/cli.js stays the same CLI in many files.
//
// The CLI starts once per build action. Loaded from ~35 files, a run spends a
// good share of its start-up in Node's module loader (resolving, reading and
// compiling each file); one file takes that away. The bundle is built from
// the TypeScript sources, so it is the same code tsc compiled (tsc has
// type-checked it first). Left outside, loaded from node_modules as before:
// the native modules (koffi, fs-ext), and commander and pino, which only the
// uncommon paths load.
//
// The shim turns on Node's compile cache (Node 22.1 and later) before the
// bundle is compiled: a module is compiled from the cache only if the cache
// was on when it was loaded, and the bundle is most of what a run compiles.
// Without esbuild (installed without devDependencies) the shim loads tsc's
// dist/src/cli.js instead: a working CLI, only slower to start.
//
// The sources import Node's modules as `import fs = require('node:fs')`, not
// `import * as fs`: in a CommonJS bundle, esbuild turns a namespace import
// into a copy of the module's exports (a getter per export, on every load),
// which on fs and path costs a run more than the code that uses them.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'dist', 'bin');
const shim = path.join(bin, 'piplock.js');
const outfile = path.join(bin, 'piplock.bundle.js');

fs.mkdirSync(bin, { recursive: true });
// The shim is written after the bundle, with the bundle's hash in it (below).
const writeShim = (hash) => {
  fs.writeFileSync(shim, shimText(hash));
  fs.chmodSync(shim, 0o755);
};

// The shim, the package's `bin`. Node's compile cache (Node 22.1 and later),
// which it turns on first, caches a module's code as the module is compiled:
// that leaves out every function V8 compiles later, when it is first called,
// which on a run is about half of what it compiles. So the shim compiles the
// bundle itself, with a V8 code cache made at the end of a run (vm.Script's
// createCachedData), which holds those too: a fifth fewer instructions for
// the whole Node process of a GN action. The cache lives in Node's compile
// cache directory (one per Node version, flags and user; on Node 20 and 22.1
// to 22.7, which do not say where it is, piplock-VERSION-ARCH-FLAGS-UID in the same
// place), named for the bundle's hash, size and time and for the kind of run,
// and is written, as a file of its own renamed into place, at the end of the
// first run of its kind that ends with status 0 and found none, or found it
// rejected by V8. A code cache is code: where another user could have written
// it, the shim loads the bundle as any module instead. The cache is a help
// only: whatever goes wrong with it, the run goes on without it.
// NODE_DISABLE_COMPILE_CACHE=1 turns both caches off.
function shimText(hash) {
  return `#!/usr/bin/env node
"use strict";
// Written by scripts/build.mjs, which says why it compiles the bundle itself.
const mod = require("node:module");
mod.enableCompileCache?.();
const fs = require("node:fs");
const path = require("node:path");

function cacheDir() {
  if (mod.getCompileCacheDir) return mod.getCompileCacheDir();
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const base = process.env.NODE_COMPILE_CACHE || path.join(require("node:os").tmpdir(), "node-compile-cache");
  // V8 rejects a cache made under other flags: one directory per set of them, as Node's own has.
  let flags = 0x811c9dc5;
  for (const c of process.execArgv.join("\\0") + "\\0" + (process.env.NODE_OPTIONS ?? ""))
    flags = Math.imul(flags ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const user = process.getuid?.() ?? 0;
  return path.join(base, \`piplock-\${process.version}-\${process.arch}-\${flags.toString(16)}-\${user}\`);
}

// Another user may write here: others can, or a group that is not ours (a umask of 002 gives our own group).
function othersWrite(st) {
  return (st.mode & 0o002) !== 0 || ((st.mode & 0o020) !== 0 && st.gid !== process.getgid());
}

function ours(dir) {
  if (!process.getuid) return true;
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  return st === undefined || (st.isDirectory() && st.uid === process.getuid() && !othersWrite(st));
}

function readCache(file) {
  let fd;
  try {
    fd = fs.openSync(file, "r");
    const st = fs.fstatSync(fd);
    // Only a file of ours, never linked elsewhere (a directory swapped in between the look at it and the read).
    if (process.getuid && (st.uid !== process.getuid() || st.nlink !== 1 || othersWrite(st))) return undefined;
    return fs.readFileSync(fd);
  } catch {
    return undefined; // none yet: this run makes it
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function writeCache(dir, file, script) {
  const tmp = file + "." + process.pid + ".tmp";
  try {
    // Node 20 and 22.1 to 22.7: the directory is ours to make; the shared one above it keeps the usual mode.
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
    }
    fs.writeFileSync(tmp, script.createCachedData(), { flag: "wx", mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never made, or gone
    }
  }
}

function load() {
  const file = path.join(__dirname, "piplock.bundle.js");
  let source;
  try {
    source = fs.readFileSync(file, "utf8");
  } catch (err) {
    if (err.code !== "ENOENT") throw err;
    return require("../src/cli.js");
  }
  const state = { file: undefined, state: "off", dir: undefined };
  let cachedData;
  // A cache is a help: whatever goes wrong with it (a directory that cannot be read, a file in its place), the run goes on.
  try {
    state.dir = cacheDir();
    if (state.dir && !ours(state.dir)) state.state = "foreign";
    else if (state.dir) {
      const st = fs.statSync(file);
      const first = process.argv[2] ?? "";
      const kind =
        (/^[a-z][a-z-]{0,30}$/.test(first) ? first : "run") +
        ((process.argv[3] ?? "").startsWith("--launcher=") ? "-launcher" : "");
      state.file = path.join(state.dir, \`piplock-${hash}-\${st.size}-\${Math.trunc(st.mtimeMs)}-\${kind}.v8\`);
      cachedData = readCache(state.file);
    }
  } catch {
    state.file = undefined;
    state.state = "off";
  }
  globalThis[Symbol.for("piplock.codeCache")] = state;
  // Not ours to use: the bundle is loaded as any module, with Node's compile cache where Node uses one.
  if (state.state === "foreign") return require(file);
  const vm = require("node:vm");
  const body = source.startsWith("#!") ? "//" + source.slice(2) : source;
  const script = new vm.Script("(function (exports, require, module, __filename, __dirname) {" + body + "\\n})", {
    filename: file,
    cachedData,
  });
  if (state.file) state.state = cachedData === undefined ? "none" : script.cachedDataRejected ? "rejected" : "read";
  if (state.file && state.state !== "read") {
    process.once("exit", (code) => {
      if (code === 0) writeCache(state.dir, state.file, script);
    });
  }
  const m = { exports: {}, id: file, filename: file };
  script.runInThisContext().call(m.exports, m.exports, mod.createRequire(file), m, file, __dirname);
  return m.exports;
}

const cli = load();
module.exports = cli;
if (require.main === module) void cli.main();
`;
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  fs.rmSync(outfile, { force: true });
  process.stderr.write(
    'build: esbuild is not installed; dist/bin/piplock.js loads the unbundled dist/src/cli.js (slower start-up)\n',
  );
  writeShim('none');
  process.exit(0);
}
await esbuild.build({
  entryPoints: [path.join(root, 'src', 'cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // package.json is read where it is (for --version): dist/bin/ and dist/src/ are both two levels down.
  external: ['koffi', 'fs-ext', 'commander', 'pino', '../../package.json'],
  logLevel: 'warning',
});
writeShim(createHash('sha256').update(fs.readFileSync(outfile)).digest('hex').slice(0, 16));
