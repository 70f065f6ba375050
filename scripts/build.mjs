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
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'dist', 'bin');
const shim = path.join(bin, 'piplock.js');
const outfile = path.join(bin, 'piplock.bundle.js');

fs.mkdirSync(bin, { recursive: true });
fs.writeFileSync(
  shim,
  `#!/usr/bin/env node
"use strict";
// Written by scripts/build.mjs: the compile cache first, then the CLI (the bundle, or tsc's output without it).
require("node:module").enableCompileCache?.();
let cli;
try {
  cli = require("./piplock.bundle.js");
} catch (err) {
  if (err.code !== "MODULE_NOT_FOUND" || !String(err.message).includes("piplock.bundle.js")) throw err;
  cli = require("../src/cli.js");
}
module.exports = cli;
if (require.main === module) void cli.main();
`,
);
fs.chmodSync(shim, 0o755);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  fs.rmSync(outfile, { force: true });
  process.stderr.write(
    'build: esbuild is not installed; dist/bin/piplock.js loads the unbundled dist/src/cli.js (slower start-up)\n',
  );
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
