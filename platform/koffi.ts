import * as path from 'node:path';

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
    const pkg = require.resolve(`@koromix/koffi-${process.platform}-${process.arch}/package.json`, { paths: [path.dirname(require.resolve('koffi'))] });
    const module = { exports: {} as Record<string, unknown> };
    process.dlopen(module, path.join(path.dirname(pkg), `${process.platform}_${process.arch}`, 'koffi.node'));
    if (typeof module.exports.load === 'function' && typeof module.exports.errno === 'function') koffi = module.exports as unknown as typeof import('koffi');
  } catch {
    // fall back to koffi's entry point
  }
  koffi ??= require('koffi') as typeof import('koffi');
  return koffi;
}
