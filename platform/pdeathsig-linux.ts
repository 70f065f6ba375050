import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Linux: make the command die with the runner. If the runner is SIGKILLed (or
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

let setprivPath: string | null | undefined;

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

/** setpriv from util-linux, looked up once on the runner's own PATH (call early to take that off the hand-off path). */
export function setpriv(): string | undefined {
  if (setprivPath === undefined) {
    setprivPath = findExecutable('setpriv', process.env.PATH) ?? null;
    hasSh();
  }
  return setprivPath ?? undefined;
}

/**
 * The command line that runs `command` with a parent-death SIGKILL, or
 * undefined where that is not possible: no setpriv, or a command that cannot
 * be run, which is spawned directly so that its error is Node's as before
 * (setpriv would report it in words of its own).
 */
export function withParentDeathSignal(
  command: string,
  args: readonly string[],
  pathVar: string | undefined,
  cwd?: string,
): { command: string; args: string[] } | undefined {
  const sp = setpriv();
  if (sp === undefined || findExecutable(command, pathVar, cwd) === undefined) return undefined;
  if (!hasSh()) return { command: sp, args: ['--pdeathsig', 'KILL', '--', command, ...args] };
  const parentCheck = `[ "$PPID" = ${process.pid} ] || exit 1; exec "$@"`;
  return { command: sp, args: ['--pdeathsig', 'KILL', '--', SH, '-c', parentCheck, 'piplock', command, ...args] };
}

const SH = '/bin/sh';
let sh: boolean | undefined;

function hasSh(): boolean {
  if (sh === undefined) sh = isExecutableFile(SH);
  return sh;
}
