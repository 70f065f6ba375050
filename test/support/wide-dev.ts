/**
 * Preload (`node -r`): Node's stat of a path reports a volume serial with
 * high bits set, as libuv does where it reads the path through
 * GetFileInformationByName (a 64-bit serial) and the handle through
 * GetFileInformationByHandle (32 bits). fstat is left alone.
 */
import fs = require('node:fs');

const HIGH = 0x5a5a_0000_0000n;

function widen<T>(st: T): T {
  if (st === null || typeof st !== 'object') return st;
  const s = st as unknown as { dev: number | bigint };
  s.dev = typeof s.dev === 'bigint' ? s.dev | HIGH : s.dev + Number(HIGH);
  return st;
}

type AnyFn = (...args: unknown[]) => unknown;
const f = fs as unknown as Record<string, AnyFn>;
for (const name of ['statSync', 'lstatSync']) {
  const orig = f[name]!;
  f[name] = (...args) => widen(orig(...args));
}
for (const name of ['stat', 'lstat']) {
  const orig = f[name]!;
  f[name] = (...args) => {
    const cb = args.pop() as AnyFn;
    return orig(...args, (err: unknown, st: unknown) => cb(err, err ? st : widen(st)));
  };
}
const p = fs.promises as unknown as Record<string, AnyFn>;
for (const name of ['stat', 'lstat']) {
  const orig = p[name]!;
  p[name] = async (...args) => widen(await orig(...args));
}
