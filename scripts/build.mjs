// node scripts/build.mjs: after `tsc -p .`, replaces dist/src/cli.js with one
// bundle of the CLI and everything of piplock's it can load.
//
// The CLI starts once per build action. Loaded from ~35 files, a run spends a
// good share of its start-up in Node's module loader (resolving, reading and
// compiling each file); one file takes that away. The bundle is built from
// the TypeScript sources, so it is the same code tsc compiled (tsc has
// type-checked it first). Left outside, loaded from node_modules as before:
// the native modules (koffi, fs-ext), and commander and pino, which only the
// uncommon paths load. package.json is read where it is, for --version.
//
// dist/src/cli.js stays the `bin` and keeps working without this step: tsc's
// own output is the same CLI in many files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'dist', 'src', 'cli.js');

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
fs.chmodSync(outfile, 0o755);
