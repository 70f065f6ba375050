import fs = require('node:fs');
import path = require('node:path');

function notADirectory(dir: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', syscall: 'mkdir', path: dir });
}

/**
 * mkdir -p. Node's own recursive mkdirSync spins forever where mkdir answers
 * ENOENT although the parent exists (under /proc, for one), so this one
 * retries each level at most once. A file where a directory should be is
 * ENOTDIR, not EEXIST: that is the problem to report.
 */
export function mkdirs(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (fs.statSync(dir).isDirectory()) return;
      throw notADirectory(dir);
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    mkdirs(parent);
    try {
      fs.mkdirSync(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
      if (!fs.statSync(dir).isDirectory()) throw notADirectory(dir);
    }
  }
}
