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
  /** CreateMutexExW with a security descriptor given as SDDL. */
  createMutex(name: string, sddl: string, access: number): Handle;
  /** The DACL of a kernel object, as SDDL, through a handle with READ_CONTROL; undefined where it cannot be read. */
  daclOf(h: Handle): string | undefined;
  /** The owner and DACL of a file, as SDDL. */
  fileSddl(file: string): string | undefined;
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
  const a = koffi.load('advapi32.dll');
  const fa = (ret: string, name: string, args: unknown[]) => a.func('__stdcall', name, ret, args as string[]) as never;
  const fromSddl = fa('int32_t', 'ConvertStringSecurityDescriptorToSecurityDescriptorW', [
    'str16',
    'uint32_t',
    '_Out_ void **',
    'void *',
  ]) as (...x: unknown[]) => number;
  const toSddl = fa('int32_t', 'ConvertSecurityDescriptorToStringSecurityDescriptorW', [
    'void *',
    'uint32_t',
    'uint32_t',
    '_Out_ void **',
    'void *',
  ]) as (...x: unknown[]) => number;
  const getSecurityInfo = fa('uint32_t', 'GetSecurityInfo', [
    'void *',
    'int',
    'uint32_t',
    '_Out_ void **',
    '_Out_ void **',
    '_Out_ void **',
    '_Out_ void **',
    '_Out_ void **',
  ]) as (...x: unknown[]) => number;
  const getNamedSecurityInfo = fa('uint32_t', 'GetNamedSecurityInfoW', [
    'str16',
    'int',
    'uint32_t',
    '_Out_ void **',
    '_Out_ void **',
    '_Out_ void **',
    '_Out_ void **',
    '_Out_ void **',
  ]) as (...x: unknown[]) => number;
  const SA = koffi.struct({ nLength: 'uint32_t', lpSecurityDescriptor: 'void *', bInheritHandle: 'int32_t' });
  const createMutexEx = f('void *', 'CreateMutexExW', [
    koffi.pointer(SA) as unknown as string,
    'str16',
    'uint32_t',
    'uint32_t',
  ]) as (...x: unknown[]) => Handle;
  const sddlOf = (sd: unknown, what: number): string | undefined => {
    const out: unknown[] = [null];
    return toSddl(sd, 1, what, out, null) === 0 ? undefined : (koffi.decode(out[0], 'char16_t', -1) as string);
  };
  const SE_FILE_OBJECT = 1;
  const SE_KERNEL_OBJECT = 6;
  const OWNER = 0x1;
  const DACL = 0x4;
  cached = {
    wineVersion,
    createMutex(name, sddl, access) {
      const sd: unknown[] = [null];
      if (fromSddl(sddl, 1, sd, null) === 0) throw new Error(`bad SDDL ${sddl}`);
      return createMutexEx(
        { nLength: koffi.sizeof(SA), lpSecurityDescriptor: sd[0], bInheritHandle: 0 },
        name,
        0,
        access,
      );
    },
    daclOf(h) {
      const sd: unknown[] = [null];
      return getSecurityInfo(h, SE_KERNEL_OBJECT, DACL, [null], [null], [null], [null], sd) === 0
        ? sddlOf(sd[0], DACL)
        : undefined;
    },
    fileSddl(file) {
      const sd: unknown[] = [null];
      return getNamedSecurityInfo(file, SE_FILE_OBJECT, OWNER | DACL, [null], [null], [null], [null], sd) === 0
        ? sddlOf(sd[0], OWNER | DACL)
        : undefined;
    },
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
