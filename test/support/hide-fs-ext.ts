// Preloaded with --require: makes fs-ext unresolvable, as on a machine where
// the optional addon was not installed or failed to compile.
import Module = require('node:module');

const mod = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
const resolve = mod._resolveFilename;
mod._resolveFilename = function (request: string, ...rest: unknown[]): string {
  if (request === 'fs-ext') {
    const err = new Error("Cannot find module 'fs-ext'") as NodeJS.ErrnoException;
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
