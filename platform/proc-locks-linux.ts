import * as fs from 'node:fs';
import type { LockMode } from './lock-handle';

export interface KernelLockHolder {
  pid: number;
  mode: LockMode;
  command: string[];
}

/**
 * Linux only: the flock holders of `file` as /proc/locks lists them (any
 * program: flock(1), the seed runner, piplock). Empty elsewhere or when
 * /proc is not there.
 */
export function flockHolders(file: string): KernelLockHolder[] {
  if (process.platform !== 'linux') return [];
  let text: string;
  let ino: bigint;
  try {
    ino = fs.statSync(file, { bigint: true }).ino;
    text = fs.readFileSync('/proc/locks', 'latin1');
  } catch {
    return [];
  }
  const out: KernelLockHolder[] = [];
  for (const line of text.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; blocked waiters have "->" after the number
    const f = line.trim().split(/\s+/);
    if (f[1] !== 'FLOCK' || f[2] === '->') continue;
    const devIno = f[5]?.split(':');
    if (devIno === undefined || devIno.length !== 3 || BigInt(devIno[2]!) !== ino) continue;
    const pid = Number(f[4]);
    let command: string[] = [];
    try {
      command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    } catch {
      // gone meanwhile
    }
    out.push({ pid, mode: f[3] === 'WRITE' ? 'exclusive' : 'shared', command });
  }
  return out;
}
