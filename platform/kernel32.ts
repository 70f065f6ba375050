/**
 * kernel32 through koffi, loaded once for the Windows modules of platform/
 * that declare plain functions (windows.ts declares its own struct types).
 */
export type Kernel32Function = ((...a: unknown[]) => never) & { async: (...a: unknown[]) => void };

let koffi: typeof import('koffi') | undefined;
let lib: ReturnType<typeof import('koffi').load> | undefined;

/** A __stdcall kernel32 function; throws where koffi or kernel32 cannot be loaded. */
export function kernel32Function(ret: string, name: string, args: string[]): Kernel32Function {
  if (!lib) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    koffi = require('koffi') as typeof import('koffi');
    lib = koffi.load('kernel32.dll');
  }
  return lib.func('__stdcall', name, ret, args) as unknown as Kernel32Function;
}

/** Whether a HANDLE or pointer that koffi returned is NULL. */
export function isNullHandle(h: unknown): boolean {
  return h === null || koffi!.address(h) === 0n;
}
