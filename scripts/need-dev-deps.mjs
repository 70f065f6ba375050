// node scripts/need-dev-deps.mjs: run by `prepare` before the build, in a clone
// (`npm ci`, `npm install`). Building dist/ needs the dev dependencies
// (TypeScript, esbuild). Where npm left them out (`--omit=dev`), this says so,
// and names the package that needs no build, instead of the shell's
// `tsc: not found`.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
try {
  require.resolve('typescript/package.json');
} catch {
  process.stderr.write(
    'piplock: error: building dist/ in a clone needs the dev dependencies (TypeScript, esbuild), which --omit=dev left out: ' +
      'run `npm ci` here, or make the package with `npm pack` (it has dist/ built) and install that with --omit=dev (docs/pigweed.md)\n',
  );
  process.exit(1);
}
