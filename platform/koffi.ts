import fs = require('node:fs');
import path = require('node:path');

let koffi: typeof import('koffi') | undefined;

/**
 * koffi's native module, loaded directly from the platform package that
 * koffi installs beside itself. koffi's own entry point does more than load
 * it: it copies all of node:util's exports (which loads Node's text codecs),
 * reads the ELF header of Node's own binary to tell glibc from musl, and
 * wraps deprecated names; on the runner's start-up path, where the runner
 * needs flock and nothing else, that costs several times the load itself.
 * Where the module is not there or does not load (musl, another layout),
 * koffi's entry point does the job.
 */
export function loadKoffi(): typeof import('koffi') {
  if (koffi) return koffi;
  try {
    const file = nativeModule();
    const module = { exports: {} as Record<string, unknown> };
    process.dlopen(module, file);
    if (typeof module.exports.load === 'function' && typeof module.exports.errno === 'function')
      koffi = module.exports as unknown as typeof import('koffi');
  } catch {
    // fall back to koffi's entry point
  }
  koffi ??= require('koffi') as typeof import('koffi');
  return koffi;
}

/**
 * The path of koffi's native module. First where npm puts it: in the
 * node_modules directory where require('koffi') would find koffi, beside
 * koffi or inside it, found by looking at files rather than by resolving
 * packages, which reads and interprets each package.json on the way
 * (several milliseconds of every run). Then, for other layouts, by
 * resolving the platform package from koffi's own directory.
 */
function nativeModule(): string {
  const tag = `${process.platform}-${process.arch}`;
  const inPackage = path.join(`${process.platform}_${process.arch}`, 'koffi.node');
  // Where require('koffi') looks, whichever module object the code was loaded with (the bin shim makes its own).
  for (const dir of require.resolve.paths('koffi') ?? []) {
    if (!fs.existsSync(path.join(dir, 'koffi', 'package.json'))) continue;
    // Inside koffi first: npm nests the platform package there when the one beside koffi is another version.
    for (const file of [
      path.join(dir, 'koffi', 'node_modules', '@koromix', `koffi-${tag}`, inPackage),
      path.join(dir, '@koromix', `koffi-${tag}`, inPackage),
    ]) {
      if (fs.existsSync(file)) return file;
    }
    break;
  }
  const pkg = require.resolve(`@koromix/koffi-${tag}/package.json`, {
    paths: [path.dirname(require.resolve('koffi'))],
  });
  return path.join(path.dirname(pkg), inPackage);
}
