/**
 * Windows reuses process IDs quickly. A registry entry whose runner died is
 * told apart from a later process with the same PID by the creation time
 * (GetProcessTimes), as Linux does with /proc/PID/stat's start time.
 */
import { isNullHandle, kernel32Function } from './kernel32';

const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;

type Handle = unknown;
interface Kernel32Times {
  OpenProcess(access: number, inherit: boolean, pid: number): Handle;
  GetProcessTimes(h: Handle, creation: bigint[], exit: bigint[], kernel: bigint[], user: bigint[]): boolean;
  CloseHandle(h: Handle): boolean;
  isNull(h: Handle): boolean;
}

let k: Kernel32Times | undefined;

function kernel32(): Kernel32Times {
  if (k) return k;
  const fn = kernel32Function;
  k = {
    OpenProcess: fn('void *', 'OpenProcess', ['uint32_t', 'bool', 'uint32_t']),
    // A FILETIME is two 32-bit halves of a 64-bit count: read as one uint64 on little-endian x64 and arm64.
    GetProcessTimes: fn('bool', 'GetProcessTimes', ['void *', '_Out_ uint64_t *', '_Out_ uint64_t *', '_Out_ uint64_t *', '_Out_ uint64_t *']),
    CloseHandle: fn('bool', 'CloseHandle', ['void *']),
    isNull: isNullHandle,
  };
  return k;
}

/** The process's creation time in 100 ns units since 1601, as a string; undefined when it cannot be read. */
export function processCreationTime(pid: number): string | undefined {
  let k32: Kernel32Times;
  try {
    k32 = kernel32();
  } catch {
    return undefined;
  }
  const h = k32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, pid);
  if (k32.isNull(h)) return undefined;
  try {
    const creation = [0n];
    const scratch = [0n];
    if (!k32.GetProcessTimes(h, creation, scratch, [0n], [0n])) return undefined;
    return String(creation[0]);
  } finally {
    k32.CloseHandle(h);
  }
}
