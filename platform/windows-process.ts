/** Processes on Windows: telling a PID's owner from a later one, and a child that cannot outlive the runner. */
import { kernel32 } from './kernel32';
import type { SpawnPlan } from './types';

const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;

/**
 * Windows reuses process IDs quickly. A registry entry whose runner died is
 * told apart from a later process with the same PID by the creation time
 * (GetProcessTimes, 100 ns units since 1601), as Linux does with
 * /proc/PID/stat's start time.
 */
export function processCreationTime(pid: number): string | undefined {
  let k;
  try {
    k = kernel32();
  } catch {
    return undefined;
  }
  const h = k.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, pid);
  if (k.isNull(h)) return undefined;
  try {
    const creation = [0n];
    if (!k.GetProcessTimes(h, creation, [0n], [0n], [0n])) return undefined;
    return String(creation[0]);
  } finally {
    k.CloseHandle(h);
  }
}

/*
 * The spawn guard. libuv creates a child that is not detached running (it
 * creates only detached children suspended, since 1.47, and none before),
 * and then puts it in the runner's kill-on-close job. A runner killed between
 * those steps leaves the child running outside any job of the runner's: it
 * runs on unlocked, and holds the runner's stdio handles, so a build reading
 * the action's output waits for it. Under Wine that window is tens of
 * milliseconds wide; on Windows it is short, not absent.
 *
 * The guard closes it: just before spawning, the runner joins a kill-on-close
 * job of its own, so that the child is born inside it; once spawn() has
 * returned, the job lets later descendants break away silently, as libuv's
 * does, so that only the command itself dies with the runner. The job handle
 * stays open until the runner exits.
 */
const JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000;
const JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK = 0x1000;

const jobs: unknown[] = []; // never closed: closing a job handle would kill the command

/**
 * Arms the guard for the next child this process creates, and returns the
 * call that disarms it for later descendants. Best effort: where the job
 * cannot be made or joined (a parent job that forbids nesting, before
 * Windows 8), the runner spawns without it.
 */
export function armSpawnGuard(): (() => void) | undefined {
  let k;
  try {
    k = kernel32();
  } catch {
    return undefined;
  }
  const job = k.CreateJobObjectW(null, null);
  if (k.isNull(job)) return undefined;
  const armed =
    k.setJobLimitFlags(job, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE) &&
    k.AssignProcessToJobObject(job, k.GetCurrentProcess());
  if (!armed) {
    k.CloseHandle(job);
    return undefined;
  }
  jobs.push(job);
  // The command stays in the job; what it starts from now on does not.
  return () => void k.setJobLimitFlags(job, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK);
}

/**
 * A batch file runs only under cmd.exe, which parses its command line again
 * with its own rules, which no quoting of the arguments for CreateProcess
 * survives: Node refuses it without a shell (spawn EINVAL, since
 * CVE-2024-27980), and Node 20 before that ran it with the arguments open to
 * cmd.exe. Refused before the spawn, with the way to run it on purpose.
 */
const BATCH_FILE = /\.(bat|cmd)[. ]*$/i;

/** libuv's PATH search tries `.com` and `.exe` only: `npm` is not found where only `npm.cmd` is. */
export const NOT_FOUND_HINT =
  " (Windows searches PATH for NAME.com and NAME.exe only, not PATHEXT's other extensions: a .cmd or .bat runs as 'cmd /c NAME ...')";

export function guardedSpawnPlan(command: string, args: readonly string[], options: { detached?: boolean }): SpawnPlan {
  if (BATCH_FILE.test(command)) {
    return {
      refused: `cannot execute '${command}': a batch file runs only under cmd.exe, which parses its arguments again; run it as 'cmd /c ${command} ...' if they are safe for cmd`,
    };
  }
  // libuv puts every non-detached child in a kill-on-close job of the runner's; the guard covers the moment before it does.
  const spawned = options.detached ? undefined : armSpawnGuard();
  return { command, args: [...args], spawned: spawned ?? (() => {}) };
}
