/**
 * Linux: POSIX locking, plus what /proc and util-linux offer: start times
 * that tell a process from a later one with the same PID, the kernel's list
 * of flock holders, and a parent-death signal for the command.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { posix } from './posix';
import type { KernelLockHolder, Platform, SpawnPlan } from './types';

/** The start time in clock ticks since boot (/proc/PID/stat, field 22). */
function startTag(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The flock holders of `file` as /proc/locks lists them: any program (flock(1), the reference runner, piplock). */
function kernelLockHolders(file: string): KernelLockHolder[] {
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

/*
 * The command dies with the runner. If the runner is SIGKILLed (or
 * OOM-killed) its lock goes with it, and a command that went on running would
 * be modifying the virtualenv with no lock held. PR_SET_PDEATHSIG has to be set
 * in the child between fork and exec, which Node cannot do, so the command is
 * started through util-linux `setpriv --pdeathsig KILL -- COMMAND ARGS`, which
 * sets it and execs the command in place (one extra exec, about 1 ms).
 *
 * The signal only covers a runner that dies after setpriv has set it. A
 * runner killed between the fork and that moment (about a millisecond) would
 * leave the command unprotected, and setpriv does not check its parent. So
 * setpriv runs `/bin/sh -c` with a check of $PPID, read after the signal was
 * set, against the runner's PID; on a mismatch the command never starts.
 * That costs one exec of sh (dash: well under a millisecond).
 *
 * Limits, by the kernel's design: the signal is sent when the runner exits,
 * just after its descriptors (and so the lock) were closed, which leaves a
 * window of microseconds; it reaches the command only, not processes the
 * command started itself; and a set-user-ID command clears it.
 */

const SH = '/bin/sh';

function isExecutableFile(p: string): boolean {
  try {
    // No exception for the common miss: a PATH search misses in most directories, and on the hand-off path.
    if (!fs.statSync(p, { throwIfNoEntry: false })?.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** execvp's search: a name with a slash is used as is, others are looked up on PATH. */
export function findExecutable(command: string, pathVar: string | undefined, cwd = '.'): string | undefined {
  if (command.includes('/')) return isExecutableFile(path.resolve(cwd, command)) ? command : undefined;
  for (const dir of (pathVar ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.resolve(cwd, dir === '' ? '.' : dir, command);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

/** What the parent-death wrapper needs, looked up once on the runner's own PATH. */
interface Wrapper {
  setpriv: string | undefined;
  sh: boolean;
}
let wrapper: Wrapper | undefined;

function prepareSpawn(): Wrapper {
  wrapper ??= { setpriv: findExecutable('setpriv', process.env.PATH), sh: isExecutableFile(SH) };
  return wrapper;
}

/**
 * setpriv with a parent-death SIGKILL in front of the command, where that is
 * possible: not without setpriv, not for a detached command, and not for a
 * command that cannot be run, which is spawned directly so that its error is
 * Node's (setpriv would report it in words of its own).
 */
function spawnPlan(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string | URL; detached?: boolean }): SpawnPlan {
  const direct: SpawnPlan = { command, args: [...args], spawned: () => {} };
  const { setpriv, sh } = prepareSpawn();
  if (options.detached || setpriv === undefined) return direct;
  if (findExecutable(command, (options.env ?? process.env).PATH, options.cwd?.toString()) === undefined) return direct;
  if (!sh) return { command: setpriv, args: ['--pdeathsig', 'KILL', '--', command, ...args], spawned: () => {} };
  const parentCheck = `[ "$PPID" = ${process.pid} ] || exit 1; exec "$@"`;
  return { command: setpriv, args: ['--pdeathsig', 'KILL', '--', SH, '-c', parentCheck, 'piplock', command, ...args], spawned: () => {} };
}

export const linux: Platform = {
  ...posix,
  startTag,
  kernelLockHolders,
  prepareSpawn: () => void prepareSpawn(),
  spawnPlan,
};
