import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * mkdir -p. Node's own recursive mkdirSync spins forever where mkdir answers
 * ENOENT although the parent exists (under /proc, for one), so this one
 * retries each level at most once.
 */
export function mkdirs(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && fs.statSync(dir).isDirectory()) return;
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    mkdirs(parent);
    try {
      fs.mkdirSync(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(dir).isDirectory()) throw again;
    }
  }
}
