/**
 * kernel32 through koffi: every Win32 function piplock calls, declared once,
 * on first use (Windows only). Win32 BOOL is a 32-bit int, declared as such
 * and tested against 0, because koffi decodes a C `bool` return as its low
 * bit. Types are anonymous, so that two copies of piplock in one process do
 * not clash in koffi's global type registry.
 */
import { loadKoffi } from './koffi';

type Handle = unknown;

/** SECURITY_ATTRIBUTES, or null for the default security of the caller. */
export type SecurityAttributes = { nLength: number; lpSecurityDescriptor: unknown; bInheritHandle: number } | null;

export interface Kernel32 {
  CreateFileW(
    name: string,
    access: number,
    share: number,
    sa: null,
    disposition: number,
    flags: number,
    template: null,
  ): Handle;
  LockFileEx(h: Handle, flags: number, reserved: number, lenLow: number, lenHigh: number, ov: object): boolean;
  UnlockFileEx(h: Handle, reserved: number, lenLow: number, lenHigh: number, ov: object): boolean;
  GetFileType(h: Handle): number;
  GetFileInformationByHandle(h: Handle, info: Record<string, number>): boolean;
  GetFileInformationByHandleEx(h: Handle, infoClass: number, info: Buffer, size: number): boolean;
  CloseHandle(h: Handle): boolean;

  /** Creates the named mutex, or opens it where it exists, asking only for `access`. */
  CreateMutexExW(sa: SecurityAttributes, name: string, flags: number, access: number): Handle;
  /** Creates the named event, or opens it where it exists, asking only for `access`. */
  CreateEventExW(sa: SecurityAttributes, name: string, flags: number, access: number): Handle;
  CreateEventW(sa: SecurityAttributes, manualReset: boolean, initialState: boolean, name: string | null): Handle;
  OpenEventW(access: number, inherit: boolean, name: string): Handle;
  WaitForSingleObject(h: Handle, ms: number): number;
  /** WaitForMultipleObjects (any one of `handles`) on a libuv pool thread. */
  waitAnyAsync(handles: Handle[], ms: number, done: (err: unknown, result: number) => void): void;
  ReleaseMutex(h: Handle): boolean;
  SetEvent(h: Handle): boolean;
  ResetEvent(h: Handle): boolean;

  CreateJobObjectW(sa: null, name: null): Handle;
  /** SetInformationJobObject(JobObjectExtendedLimitInformation) with only LimitFlags set. */
  setJobLimitFlags(job: Handle, flags: number): boolean;
  AssignProcessToJobObject(job: Handle, process: Handle): boolean;
  GetCurrentProcess(): Handle;
  OpenProcess(access: number, inherit: boolean, pid: number): Handle;
  GetProcessTimes(h: Handle, creation: bigint[], exit: bigint[], kernel: bigint[], user: bigint[]): boolean;

  /** pid -> parent pid for every process, from one toolhelp snapshot; undefined where it cannot be taken. */
  parentPids(): Map<number, number> | undefined;

  GetLastError(): number;
  /** The NTSTATUS behind the last error of this thread (ntdll), which tells causes apart that share one Win32 code. */
  RtlGetLastNtStatus(): number;
  /** A security descriptor from SDDL (advapi32), never freed; undefined where it cannot be made. */
  securityDescriptor(sddl: string): unknown;
  /** The owner and DACL of a file as SDDL (advapi32); undefined where they cannot be read. */
  fileSecurity(file: string): string | undefined;
  /** The path of an open file as the file system names it (GetFinalPathNameByHandleW); undefined on failure. */
  finalPath(h: Handle): string | undefined;
  /** Byte size of JOBOBJECT_EXTENDED_LIMIT_INFORMATION in this process (144 on x64 and arm64, 112 on ia32). */
  readonly jobLimitsSize: number;
  readonly SECURITY_ATTRIBUTES_SIZE: number;
  /** Whether a returned HANDLE is NULL. */
  isNull(h: Handle): boolean;
  /** Whether a returned HANDLE is INVALID_HANDLE_VALUE (-1 at the pointer width of this process). */
  isInvalid(h: Handle): boolean;
}

let k32: Kernel32 | undefined;

const JobObjectExtendedLimitInformation = 9;
const SDDL_REVISION_1 = 1;
const SE_FILE_OBJECT = 1;
const OWNER_AND_DACL = 0x1 | 0x4; // OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION

/** kernel32, loaded on first call; throws where koffi or kernel32 cannot be loaded. */
export function kernel32(): Kernel32 {
  if (k32) return k32;
  const koffi = loadKoffi();
  const lib = koffi.load('kernel32.dll');
  const invalid = (1n << BigInt(8 * koffi.sizeof('void *'))) - 1n;
  const OVERLAPPED = koffi.struct({
    Internal: 'uintptr_t',
    InternalHigh: 'uintptr_t',
    Offset: 'uint32_t',
    OffsetHigh: 'uint32_t',
    hEvent: 'void *',
  });
  const BY_HANDLE_FILE_INFORMATION = koffi.struct({
    dwFileAttributes: 'uint32_t',
    ftCreationTimeLow: 'uint32_t',
    ftCreationTimeHigh: 'uint32_t',
    ftLastAccessTimeLow: 'uint32_t',
    ftLastAccessTimeHigh: 'uint32_t',
    ftLastWriteTimeLow: 'uint32_t',
    ftLastWriteTimeHigh: 'uint32_t',
    dwVolumeSerialNumber: 'uint32_t',
    nFileSizeHigh: 'uint32_t',
    nFileSizeLow: 'uint32_t',
    nNumberOfLinks: 'uint32_t',
    nFileIndexHigh: 'uint32_t',
    nFileIndexLow: 'uint32_t',
  });
  // Laid out by koffi for this process's pointer width, so that the sizes hold on ia32 as on x64.
  const JOBOBJECT_BASIC_LIMIT_INFORMATION = koffi.struct({
    PerProcessUserTimeLimit: 'int64_t',
    PerJobUserTimeLimit: 'int64_t',
    LimitFlags: 'uint32_t',
    MinimumWorkingSetSize: 'uintptr_t',
    MaximumWorkingSetSize: 'uintptr_t',
    ActiveProcessLimit: 'uint32_t',
    Affinity: 'uintptr_t',
    PriorityClass: 'uint32_t',
    SchedulingClass: 'uint32_t',
  });
  const IO_COUNTERS = koffi.struct({
    ReadOperationCount: 'uint64_t',
    WriteOperationCount: 'uint64_t',
    OtherOperationCount: 'uint64_t',
    ReadTransferCount: 'uint64_t',
    WriteTransferCount: 'uint64_t',
    OtherTransferCount: 'uint64_t',
  });
  const JOBOBJECT_EXTENDED_LIMIT_INFORMATION = koffi.struct({
    BasicLimitInformation: JOBOBJECT_BASIC_LIMIT_INFORMATION,
    IoInfo: IO_COUNTERS,
    ProcessMemoryLimit: 'uintptr_t',
    JobMemoryLimit: 'uintptr_t',
    PeakProcessMemoryUsed: 'uintptr_t',
    PeakJobMemoryUsed: 'uintptr_t',
  });
  const SECURITY_ATTRIBUTES = koffi.struct({
    nLength: 'uint32_t',
    lpSecurityDescriptor: 'void *',
    bInheritHandle: 'int32_t',
  });
  const raw = (ret: unknown, name: string, args: unknown[]) =>
    lib.func('__stdcall', name, ret as string, args as string[]) as unknown as ((...a: unknown[]) => never) & {
      async: (...a: unknown[]) => void;
    };
  // BOOL is int32 on the wire and a JS boolean for callers, as an argument and as a result.
  const ints = (a: unknown[]): unknown[] => a.map((x) => (typeof x === 'boolean' ? Number(x) : x));
  const fn = (ret: string, name: string, args: unknown[]) => {
    const f = raw(ret, name, args);
    return (...a: unknown[]): never => f(...ints(a));
  };
  const bool = (name: string, args: unknown[]) => {
    const f = raw('int32_t', name, args);
    return (...a: unknown[]): boolean => (f(...ints(a)) as number) !== 0;
  };
  const wait = raw('uint32_t', 'WaitForSingleObject', ['void *', 'uint32_t']);
  const waitAny = raw('uint32_t', 'WaitForMultipleObjects', ['uint32_t', 'void **', 'int32_t', 'uint32_t']);
  const finalPathName = raw('uint32_t', 'GetFinalPathNameByHandleW', [
    'void *',
    '_Out_ uint8_t *',
    'uint32_t',
    'uint32_t',
  ]);
  const localFree = raw('void *', 'LocalFree', ['void *']);
  const PROCESSENTRY32W = koffi.struct({
    dwSize: 'uint32_t',
    cntUsage: 'uint32_t',
    th32ProcessID: 'uint32_t',
    th32DefaultHeapID: 'uintptr_t',
    th32ModuleID: 'uint32_t',
    cntThreads: 'uint32_t',
    th32ParentProcessID: 'uint32_t',
    pcPriClassBase: 'int32_t',
    dwFlags: 'uint32_t',
    szExeFile: koffi.array('char16_t', 260, 'Array'),
  });
  const entrySize = koffi.sizeof(PROCESSENTRY32W);
  const pidAt = koffi.offsetof(PROCESSENTRY32W, 'th32ProcessID');
  const ppidAt = koffi.offsetof(PROCESSENTRY32W, 'th32ParentProcessID');
  const snapshot = raw('void *', 'CreateToolhelp32Snapshot', ['uint32_t', 'uint32_t']);
  const first = bool('Process32FirstW', ['void *', 'void *']);
  const next = bool('Process32NextW', ['void *', 'void *']);
  const close = bool('CloseHandle', ['void *']);
  const TH32CS_SNAPPROCESS = 0x2;
  const inoutOverlapped = koffi.inout(koffi.pointer(OVERLAPPED));
  const sa = koffi.pointer(SECURITY_ATTRIBUTES);
  const setInformationJobObject = bool('SetInformationJobObject', [
    'void *',
    'int',
    koffi.pointer(JOBOBJECT_EXTENDED_LIMIT_INFORMATION),
    'uint32_t',
  ]);
  const jobLimitsSize = koffi.sizeof(JOBOBJECT_EXTENDED_LIMIT_INFORMATION);
  const ntdll = koffi.load('ntdll.dll');
  const rtlGetLastNtStatus = ntdll.func('__stdcall', 'RtlGetLastNtStatus', 'uint32_t', []) as unknown as () => number;
  let advapi32: ReturnType<typeof koffi.load> | undefined;
  let getNamedSecurityInfo: ((...a: unknown[]) => number) | undefined;
  let toSddl: ((...a: unknown[]) => number) | undefined;
  let convertSddl: ((sddl: string, revision: number, sd: unknown[], size: null) => number) | undefined;
  const descriptors = new Map<string, unknown>();
  k32 = {
    CreateFileW: raw('void *', 'CreateFileW', [
      'str16',
      'uint32_t',
      'uint32_t',
      'void *',
      'uint32_t',
      'uint32_t',
      'void *',
    ]),
    LockFileEx: bool('LockFileEx', ['void *', 'uint32_t', 'uint32_t', 'uint32_t', 'uint32_t', inoutOverlapped]),
    UnlockFileEx: bool('UnlockFileEx', ['void *', 'uint32_t', 'uint32_t', 'uint32_t', inoutOverlapped]),
    GetFileType: raw('uint32_t', 'GetFileType', ['void *']),
    GetFileInformationByHandle: bool('GetFileInformationByHandle', [
      'void *',
      koffi.out(koffi.pointer(BY_HANDLE_FILE_INFORMATION)),
    ]),
    GetFileInformationByHandleEx: bool('GetFileInformationByHandleEx', [
      'void *',
      'int',
      '_Out_ uint8_t *',
      'uint32_t',
    ]),
    CloseHandle: bool('CloseHandle', ['void *']),

    CreateMutexExW: fn('void *', 'CreateMutexExW', [sa, 'str16', 'uint32_t', 'uint32_t']),
    CreateEventExW: fn('void *', 'CreateEventExW', [sa, 'str16', 'uint32_t', 'uint32_t']),
    CreateEventW: fn('void *', 'CreateEventW', [sa, 'int32_t', 'int32_t', 'str16']),
    OpenEventW: fn('void *', 'OpenEventW', ['uint32_t', 'int32_t', 'str16']),
    WaitForSingleObject: wait,
    waitAnyAsync: (handles, ms, done) => waitAny.async(handles.length, handles, 0, ms, done),
    ReleaseMutex: bool('ReleaseMutex', ['void *']),
    SetEvent: bool('SetEvent', ['void *']),
    ResetEvent: bool('ResetEvent', ['void *']),

    CreateJobObjectW: raw('void *', 'CreateJobObjectW', ['void *', 'void *']),
    setJobLimitFlags: (job, flags) =>
      setInformationJobObject(
        job,
        JobObjectExtendedLimitInformation,
        { BasicLimitInformation: { LimitFlags: flags } },
        jobLimitsSize,
      ),
    AssignProcessToJobObject: bool('AssignProcessToJobObject', ['void *', 'void *']),
    GetCurrentProcess: raw('void *', 'GetCurrentProcess', []),
    OpenProcess: fn('void *', 'OpenProcess', ['uint32_t', 'int32_t', 'uint32_t']),
    // A FILETIME is two 32-bit halves of a 64-bit count: read as one uint64 on little-endian x64 and arm64.
    GetProcessTimes: bool('GetProcessTimes', [
      'void *',
      '_Out_ uint64_t *',
      '_Out_ uint64_t *',
      '_Out_ uint64_t *',
      '_Out_ uint64_t *',
    ]),

    parentPids() {
      const h = snapshot(TH32CS_SNAPPROCESS, 0);
      if (k32!.isInvalid(h)) return undefined;
      try {
        const entry = Buffer.alloc(entrySize);
        entry.writeUInt32LE(entrySize, 0);
        const parents = new Map<number, number>();
        for (let ok = first(h, entry); ok; ok = next(h, entry))
          parents.set(entry.readUInt32LE(pidAt), entry.readUInt32LE(ppidAt));
        return parents;
      } finally {
        close(h);
      }
    },
    GetLastError: raw('uint32_t', 'GetLastError', []),
    RtlGetLastNtStatus: rtlGetLastNtStatus,
    securityDescriptor(sddl) {
      if (descriptors.has(sddl)) return descriptors.get(sddl);
      let sd: unknown;
      try {
        convertSddl ??= koffi
          .load('advapi32.dll')
          .func('__stdcall', 'ConvertStringSecurityDescriptorToSecurityDescriptorW', 'int32_t', [
            'str16',
            'uint32_t',
            '_Out_ void **',
            'void *',
          ]) as never;
        const out: unknown[] = [null];
        if (convertSddl!(sddl, SDDL_REVISION_1, out, null) !== 0) sd = out[0];
      } catch {
        sd = undefined; // no advapi32 entry point: the caller falls back to default security
      }
      descriptors.set(sddl, sd);
      return sd;
    },
    fileSecurity(file) {
      try {
        advapi32 ??= koffi.load('advapi32.dll');
        const out = ['_Out_ void **', '_Out_ void **', '_Out_ void **', '_Out_ void **', '_Out_ void **'];
        getNamedSecurityInfo ??= advapi32.func('__stdcall', 'GetNamedSecurityInfoW', 'uint32_t', [
          'str16',
          'int',
          'uint32_t',
          ...out,
        ]) as never;
        toSddl ??= advapi32.func('__stdcall', 'ConvertSecurityDescriptorToStringSecurityDescriptorW', 'int32_t', [
          'void *',
          'uint32_t',
          'uint32_t',
          '_Out_ void **',
          'void *',
        ]) as never;
      } catch {
        return undefined; // no advapi32 entry point: the caller takes the file for one without security
      }
      const sd: unknown[] = [null];
      if (getNamedSecurityInfo!(file, SE_FILE_OBJECT, OWNER_AND_DACL, [null], [null], [null], [null], sd) !== 0)
        return undefined;
      try {
        const text: unknown[] = [null];
        if (toSddl!(sd[0], SDDL_REVISION_1, OWNER_AND_DACL, text, null) === 0) return undefined;
        try {
          return koffi.decode(text[0], 'char16_t', -1) as string;
        } finally {
          localFree(text[0]);
        }
      } finally {
        localFree(sd[0]);
      }
    },
    finalPath(h) {
      let buf = Buffer.alloc(1024);
      for (;;) {
        const n = finalPathName(h, buf, buf.length / 2, 0) as number;
        if (n === 0) return undefined;
        if (n < buf.length / 2) return buf.toString('utf16le', 0, n * 2);
        buf = Buffer.alloc((n + 1) * 2);
      }
    },
    jobLimitsSize,
    SECURITY_ATTRIBUTES_SIZE: koffi.sizeof(SECURITY_ATTRIBUTES),
    isNull: (h) => h === null || koffi.address(h) === 0n,
    isInvalid: (h) => h !== null && koffi.address(h) === invalid,
  };
  return k32;
}
