import * as fs from 'node:fs';

/**
 * A token that tells this process apart from a later one with the same PID:
 * on Linux the start time in clock ticks (/proc/PID/stat, field 22), on
 * Windows the creation time; undefined elsewhere, where only liveness is
 * checked.
 */
export function startTag(pid: number): string | undefined {
  if (process.platform === 'win32') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('./process-times-windows') as typeof import('./process-times-windows')).processCreationTime(pid);
  }
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `tag` for `pid` still runs. */
export function processAlive(pid: number, tag?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (tag === undefined) return true;
  const now = startTag(pid);
  return now === undefined || now === tag;
}
