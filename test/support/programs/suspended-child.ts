// Windows only: stands in for a runner killed inside libuv's spawn. It arms the
// spawn guard (unless PIPLOCK_TEST_SABOTAGE=nospawnguard), creates a child
// suspended, as libuv does before it puts the child in its job, prints the
// child's PID, and terminates itself before anyone resumes the child.
// usage: node suspended-child.js
import * as fs from 'node:fs';
import { armSpawnGuard } from '../../../platform/windows-process';
import { sabotaged } from '../sabotage';

const CREATE_SUSPENDED = 0x4;
const STARTUPINFOW_SIZE = 104; // x64
const PROCESS_INFORMATION_SIZE = 24; // x64: hProcess, hThread, dwProcessId, dwThreadId
const PID_OFFSET = 16;

const koffi = require('koffi') as typeof import('koffi');
const kernel32 = koffi.load('kernel32.dll');
const CreateProcessW = kernel32.func('__stdcall', 'CreateProcessW', 'bool', [
  'void *',
  'void *',
  'void *',
  'void *',
  'bool',
  'uint32_t',
  'void *',
  'void *',
  'void *',
  'void *',
]);
const GetLastError = kernel32.func('__stdcall', 'GetLastError', 'uint32_t', []);

if (!sabotaged('nospawnguard') && armSpawnGuard() === undefined) {
  fs.writeSync(2, 'suspended-child: the spawn guard could not be armed\n');
  process.exit(3);
}
const commandLine = Buffer.from(`"${process.execPath}" -e "setTimeout(() => {}, 60000)"\0`, 'utf16le'); // CreateProcessW may write to it
const startup = Buffer.alloc(STARTUPINFOW_SIZE);
startup.writeUInt32LE(STARTUPINFOW_SIZE, 0);
const info = Buffer.alloc(PROCESS_INFORMATION_SIZE);
if (!CreateProcessW(null, commandLine, null, null, false, CREATE_SUSPENDED, null, null, startup, info)) {
  fs.writeSync(2, `suspended-child: CreateProcessW failed, error ${GetLastError()}\n`);
  process.exit(4);
}
fs.writeSync(1, `${info.readUInt32LE(PID_OFFSET)}\n`);
process.kill(process.pid, 'SIGKILL'); // TerminateProcess: nobody resumes the child
