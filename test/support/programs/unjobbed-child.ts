// Windows only: stands in for a runner killed inside libuv's spawn, after CreateProcess and before the child joins
// libuv's kill-on-close job. Since libuv 1.47 only a detached child is created suspended, and before that none was, so
// what such a runner leaves is a child that runs, outside any job of the runner's. This helper arms the spawn guard
// (unless PIPLOCK_TEST_SABOTAGE=nospawnguard), creates a child that runs, in no job of its own, prints the child's PID,
// and terminates itself.
// usage: node unjobbed-child.js
import * as fs from 'node:fs';
import { armSpawnGuard } from '../../../platform/windows-process';
import { sabotaged } from '../sabotage';

const koffi = require('koffi') as typeof import('koffi');
// Laid out by koffi for this process's pointer width: 104 and 24 bytes on x64, 68 and 16 on ia32.
const STARTUPINFOW = koffi.struct({
  cb: 'uint32_t',
  lpReserved: 'void *',
  lpDesktop: 'void *',
  lpTitle: 'void *',
  dwX: 'uint32_t',
  dwY: 'uint32_t',
  dwXSize: 'uint32_t',
  dwYSize: 'uint32_t',
  dwXCountChars: 'uint32_t',
  dwYCountChars: 'uint32_t',
  dwFillAttribute: 'uint32_t',
  dwFlags: 'uint32_t',
  wShowWindow: 'uint16_t',
  cbReserved2: 'uint16_t',
  lpReserved2: 'void *',
  hStdInput: 'void *',
  hStdOutput: 'void *',
  hStdError: 'void *',
});
const PROCESS_INFORMATION = koffi.struct({
  hProcess: 'void *',
  hThread: 'void *',
  dwProcessId: 'uint32_t',
  dwThreadId: 'uint32_t',
});
const kernel32 = koffi.load('kernel32.dll');
const CreateProcessW = kernel32.func('__stdcall', 'CreateProcessW', 'int32_t', [
  'void *',
  'void *',
  'void *',
  'void *',
  'int32_t',
  'uint32_t',
  'void *',
  'void *',
  koffi.pointer(STARTUPINFOW),
  koffi.out(koffi.pointer(PROCESS_INFORMATION)),
]) as (...args: unknown[]) => number;
const GetLastError = kernel32.func('__stdcall', 'GetLastError', 'uint32_t', []) as () => number;

if (!sabotaged('nospawnguard') && armSpawnGuard() === undefined) {
  fs.writeSync(2, 'unjobbed-child: the spawn guard could not be armed\n');
  process.exit(3);
}
const commandLine = Buffer.from(`"${process.execPath}" -e "setTimeout(() => {}, 60000)"\0`, 'utf16le'); // CreateProcessW may write to it
const info: Record<string, unknown> = {};
if (!CreateProcessW(null, commandLine, null, null, 0, 0, null, null, { cb: koffi.sizeof(STARTUPINFOW) }, info)) {
  fs.writeSync(2, `unjobbed-child: CreateProcessW failed, error ${GetLastError()}\n`);
  process.exit(4);
}
fs.writeSync(1, `${info.dwProcessId as number}\n`);
process.kill(process.pid, 'SIGKILL'); // TerminateProcess, before anyone would put the child in a job
