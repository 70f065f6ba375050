/**
 * Win32 calls that only tests make (Windows Node only): opening piplock's
 * named objects from outside, squatting their names, reading and writing a
 * locked byte, and telling Wine from Windows. The product's declarations are
 * in platform/kernel32.ts.
 */
import type * as Koffi from 'koffi';

type Handle = unknown;

export interface TestWin32 {
  /** Wine's version (ntdll's wine_get_version), or undefined on Windows. */
  wineVersion: string | undefined;
  OpenMutexW(access: number, inherit: number, name: string): Handle;
  CreateEventW(sa: null, manualReset: number, initial: number, name: string): Handle;
  WaitForSingleObject(h: Handle, ms: number): number;
  ReleaseMutex(h: Handle): number;
  CreateFileW(
    name: string,
    access: number,
    share: number,
    sa: null,
    disposition: number,
    flags: number,
    template: null,
  ): Handle;
  ReadFile(h: Handle, buf: Buffer, n: number, read: number[], ov: null): number;
  WriteFile(h: Handle, buf: Buffer, n: number, written: number[], ov: null): number;
  CloseHandle(h: Handle): number;
  SetFileInformationByHandle(h: Handle, infoClass: number, info: Buffer, size: number): number;
  GetLastError(): number;
  isNull(h: Handle): boolean;
  isInvalid(h: Handle): boolean;
}

let cached: TestWin32 | undefined;

export function win32(): TestWin32 {
  if (cached) return cached;
  const koffi = require('koffi') as typeof Koffi;
  const k = koffi.load('kernel32.dll');
  const f = (ret: string, name: string, args: string[]) => k.func('__stdcall', name, ret, args) as never;
  let wineVersion: string | undefined;
  try {
    wineVersion = (koffi.load('ntdll.dll').func('const char *wine_get_version()') as () => string)();
  } catch {
    wineVersion = undefined; // no such export: real Windows
  }
  cached = {
    wineVersion,
    OpenMutexW: f('void *', 'OpenMutexW', ['uint32_t', 'int32_t', 'str16']),
    CreateEventW: f('void *', 'CreateEventW', ['void *', 'int32_t', 'int32_t', 'str16']),
    WaitForSingleObject: f('uint32_t', 'WaitForSingleObject', ['void *', 'uint32_t']),
    ReleaseMutex: f('int32_t', 'ReleaseMutex', ['void *']),
    CreateFileW: f('void *', 'CreateFileW', [
      'str16',
      'uint32_t',
      'uint32_t',
      'void *',
      'uint32_t',
      'uint32_t',
      'void *',
    ]),
    ReadFile: f('int32_t', 'ReadFile', ['void *', '_Out_ uint8_t *', 'uint32_t', '_Out_ uint32_t *', 'void *']),
    WriteFile: f('int32_t', 'WriteFile', ['void *', 'uint8_t *', 'uint32_t', '_Out_ uint32_t *', 'void *']),
    CloseHandle: f('int32_t', 'CloseHandle', ['void *']),
    SetFileInformationByHandle: f('int32_t', 'SetFileInformationByHandle', ['void *', 'int', 'uint8_t *', 'uint32_t']),
    GetLastError: f('uint32_t', 'GetLastError', []),
    isNull: (h) => h === null || koffi.address(h) === 0n,
    isInvalid: (h) => h !== null && koffi.address(h) === (1n << BigInt(8 * koffi.sizeof('void *'))) - 1n,
  };
  return cached;
}
