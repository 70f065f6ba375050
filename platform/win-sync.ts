/**
 * kernel32's named mutexes and events through koffi: what the Windows gate
 * and release signal need. Mutex ownership is per thread, so the mutex calls
 * are made synchronously, on the main thread; only event waits go through
 * `.async`, and always with a bounded timeout.
 */
import { isNullHandle, kernel32Function } from './kernel32';

type Handle = unknown;

export interface Kernel32Sync {
  CreateMutexW(sa: null, initialOwner: boolean, name: string): Handle;
  CreateEventW(sa: null, manualReset: boolean, initialState: boolean, name: string): Handle;
  OpenEventW(access: number, inherit: boolean, name: string): Handle;
  WaitForSingleObject(h: Handle, ms: number): number;
  waitAsync(h: Handle, ms: number, done: (err: unknown, result: number) => void): void;
  ReleaseMutex(h: Handle): boolean;
  SetEvent(h: Handle): boolean;
  ResetEvent(h: Handle): boolean;
  CloseHandle(h: Handle): boolean;
  GetLastError(): number;
  isNull(h: Handle): boolean;
}

export const WAIT_OBJECT_0 = 0;
export const WAIT_ABANDONED = 0x80;
export const WAIT_TIMEOUT = 0x102;
export const EVENT_MODIFY_STATE = 0x0002;

let k: Kernel32Sync | undefined;

export function kernel32Sync(): Kernel32Sync {
  if (k) return k;
  const fn = kernel32Function;
  const wait = fn('uint32_t', 'WaitForSingleObject', ['void *', 'uint32_t']);
  k = {
    CreateMutexW: fn('void *', 'CreateMutexW', ['void *', 'bool', 'str16']),
    CreateEventW: fn('void *', 'CreateEventW', ['void *', 'bool', 'bool', 'str16']),
    OpenEventW: fn('void *', 'OpenEventW', ['uint32_t', 'bool', 'str16']),
    WaitForSingleObject: wait,
    waitAsync: (h, ms, done) => wait.async(h, ms, done),
    ReleaseMutex: fn('bool', 'ReleaseMutex', ['void *']),
    SetEvent: fn('bool', 'SetEvent', ['void *']),
    ResetEvent: fn('bool', 'ResetEvent', ['void *']),
    CloseHandle: fn('bool', 'CloseHandle', ['void *']),
    GetLastError: fn('uint32_t', 'GetLastError', []),
    isNull: isNullHandle,
  };
  return k;
}
