// node scripts/pack-manifest.mjs strip|restore: the package.json that `npm pack`
// and `npm publish` put into the package has no install-time scripts.
//
// In a clone, `prepare` builds dist/ during `npm ci`, so that a checkout works
// after one command (README). In the package, dist/ is already built (prepack
// builds it), and a `prepare` there would only do harm: npm runs the root's
// `prepare` when `npm install` runs inside an unpacked package (where the
// TypeScript compiler is not installed with --omit=dev), and npm 11 lists
// it among the install scripts a consumer has to approve for a tarball,
// directory or git dependency. npm has no field for a script that is not
// published, so prepack takes the scripts out of package.json just before
// npm reads the files, and postpack (postpublish, for `npm publish`) puts the
// file back as it was, byte for byte.
//
// `npm publish` reads package.json again after packing and sends what it
// reads to the registry as the version's metadata; for that to match the
// tarball, the file stays stripped until postpublish. A pack or publish that
// fails in between leaves package.json stripped and its original in
// dist/package.json.orig: the next strip or restore puts it back first.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = path.join(root, 'package.json');
// Under dist/, which git ignores and `files` does not ship.
const saved = path.join(root, 'dist', 'package.json.orig');

/** The scripts npm runs in the package's own directory when it is installed, or installed into. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare'];

function restore() {
  if (!fs.existsSync(saved)) return;
  fs.writeFileSync(manifest, fs.readFileSync(saved));
  fs.rmSync(saved);
}

const [what] = process.argv.slice(2);
if (what === 'strip') {
  restore();
  const text = fs.readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(text);
  const dropped = INSTALL_SCRIPTS.filter((s) => pkg.scripts?.[s] !== undefined);
  if (dropped.length > 0) {
    fs.mkdirSync(path.dirname(saved), { recursive: true });
    fs.writeFileSync(saved, text);
    for (const s of dropped) delete pkg.scripts[s];
    fs.writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
    process.stderr.write(`pack-manifest: the package's package.json has no ${dropped.join(', ')} script\n`);
  }
} else if (what === 'restore') {
  // npm publish reads package.json again after postpack: keep it stripped until postpublish.
  if (['publish', 'stage'].includes(process.env.npm_command ?? '') && process.env.npm_lifecycle_event === 'postpack')
    process.exit(0);
  restore();
} else {
  process.stderr.write('usage: node scripts/pack-manifest.mjs strip|restore\n');
  process.exit(2);
}
