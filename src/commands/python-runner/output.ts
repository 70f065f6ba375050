import fs = require('node:fs');
import path = require('node:path');
import { platform } from '../../../platform';

/**
 * A file that a child gets as both stdout and stderr, so that its output is
 * combined in the order it was written (python_runner.py's stderr=STDOUT),
 * and that is read back only if the command fails. A file rather than a pipe:
 * nothing has to drain it while the child runs, and one descriptor can be
 * given for both streams. On POSIX it is unlinked at once, so that nothing is
 * left behind even if the runner is killed.
 */
export class CapturedOutput {
  readonly fd: number;
  private readonly file: string | undefined;

  /** `given`: a file made, and unlinked, by the GN launcher, whose child writes to it. */
  constructor(dirGiven?: string, given?: number) {
    // Else in memory where the OS allows (Linux), as python_runner.py buffers it: $TMPDIR's room does not matter then.
    const memory = given ?? platform.memoryFile?.('piplock-output');
    if (memory !== undefined) {
      this.fd = memory;
      this.file = undefined;
      return;
    }
    // Unique by pid and time; 'wx' refuses an existing file, so a clash only means another try.
    // (Not node:crypto: loading it would add milliseconds to every build action.)
    // node:os only here, where the file is made: the GN path and Linux make none.
    const dir = dirGiven ?? (require('node:os') as typeof import('node:os')).tmpdir();
    let file = '';
    for (let attempt = 0; ; attempt++) {
      file = path.join(dir, `piplock-output-${process.pid}-${process.hrtime.bigint().toString(36)}-${attempt}.log`);
      try {
        this.fd = fs.openSync(file, 'wx+', 0o600);
        break;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EEXIST' && attempt < 100) continue;
        throw new Error(`cannot create a file for the captured output in '${dir}': ${e.code ?? e.message}`);
      }
    }
    if (platform.unlinkOpenFiles) {
      fs.unlinkSync(file);
      this.file = undefined;
    } else {
      this.file = file;
    }
  }

  read(): Buffer {
    const size = fs.fstatSync(this.fd).size;
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = fs.readSync(this.fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  }

  close(): void {
    fs.closeSync(this.fd);
    if (this.file !== undefined) fs.rmSync(this.file, { force: true });
  }
}

/** Writes all of buf to a descriptor, waiting out a non-blocking pipe that is full. */
export function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}
