// node scripts/build.mjs: after `tsc -p .`, bundles the CLI and everything of
// piplock's it can load into dist/src/cli.bundle.js, and makes dist/src/cli.js
// a shim that loads it.
//
// The CLI starts once per build action. Loaded from ~35 files, a run spends a
// good share of its start-up in Node's module loader (resolving, reading and
// compiling each file); one file takes that away. The bundle is built from
// the TypeScript sources, so it is the same code tsc compiled (tsc has
// type-checked it first). Left outside, loaded from node_modules as before:
// the native modules (koffi, fs-ext), and commander and pino, which only the
// uncommon paths load. package.json is read where it is, for --version.
//
// The shim turns on Node's compile cache (Node 22.1 and later) before the
// bundle is compiled: a module is compiled from the cache only if the cache
// was on when it was loaded, and the bundle is most of what a run compiles.
//
// The sources import Node's modules as `import fs = require('node:fs')`, not
// `import * as fs`: in a CommonJS bundle, esbuild turns a namespace import
// into a copy of the module's exports (a getter per export, on every load),
// which on fs and path costs a run more than the code that uses them.
//
// dist/src/cli.js stays the `bin` and keeps working without this step: tsc's
// own output is the same CLI in many files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'src', 'cli.js');
const outfile = path.join(root, 'dist', 'src', 'cli.bundle.js');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // Installed without devDependencies: tsc's output is a working CLI, only slower to start.
  process.stderr.write('build: esbuild is not installed; dist/src/cli.js stays unbundled (slower start-up)\n');
  process.exit(0);
}
await esbuild.build({
  entryPoints: [path.join(root, 'src', 'cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['koffi', 'fs-ext', 'commander', 'pino', '../../package.json'],
  logLevel: 'warning',
});
fs.writeFileSync(
  cli,
  `#!/usr/bin/env node
"use strict";
// Written by scripts/build.mjs: the compile cache first, then the CLI (cli.bundle.js).
require("node:module").enableCompileCache?.();
module.exports = require("./cli.bundle.js");
if (require.main === module) void module.exports.main();
`,
);
fs.chmodSync(cli, 0o755);
