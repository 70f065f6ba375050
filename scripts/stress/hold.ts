// A stress-run holder command in Node, for the Windows lane (no bash there):
// the same lines as hold.sh. usage: node hold.js LOG ID MODE [HOLD_MS]
import * as fs from 'node:fs';

const [log, id, mode, hold] = process.argv.slice(2) as [string, string, string, string | undefined];
const fd = fs.openSync(log, 'a');
fs.writeSync(fd, `E ${id} ${mode} ${process.pid} t=${Date.now() / 1000}\n`);
const ms = Number(hold ?? 0);
if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
fs.writeSync(fd, `X ${id}\n`);
