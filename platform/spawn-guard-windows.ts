/**
 * libuv starts a child suspended, puts it in the runner's kill-on-close job,
 * and only then resumes it. A runner killed between those steps leaves the
 * child suspended for good: it never runs, but it holds the runner's stdio
 * handles, so a build reading the action's output waits forever. Under Wine
 * that window is tens of milliseconds wide; on Windows it is short, not absent.
 *
 * The guard closes it: just before spawning, the runner joins a kill-on-close
 * job of its own, so that the child is born inside it; once spawn() has
 * returned, the job lets later descendants break away silently, as libuv's
 * does, so that only the command itself dies with the runner. The job handle
 * stays open until the runner exits.
 */
import { isNullHandle, kernel32Function } from './kernel32';

const JobObjectExtendedLimitInformation = 9;
const JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000;
const JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK = 0x1000;
const EXTENDED_LIMIT_INFORMATION_SIZE = 144; // JOBOBJECT_EXTENDED_LIMIT_INFORMATION on x64 and arm64
const LIMIT_FLAGS_OFFSET = 16;

type Handle = unknown;
interface Kernel32Job {
  CreateJobObjectW(sa: null, name: null): Handle;
  SetInformationJobObject(job: Handle, infoClass: number, info: Buffer, size: number): boolean;
  AssignProcessToJobObject(job: Handle, process: Handle): boolean;
  GetCurrentProcess(): Handle;
  CloseHandle(h: Handle): boolean;
  isNull(h: Handle): boolean;
}

let k: Kernel32Job | undefined;
const jobs: Handle[] = []; // never closed: closing a job handle would kill the command

function kernel32(): Kernel32Job {
  if (k) return k;
  const fn = kernel32Function;
  k = {
    CreateJobObjectW: fn('void *', 'CreateJobObjectW', ['void *', 'void *']),
    SetInformationJobObject: fn('bool', 'SetInformationJobObject', ['void *', 'int', 'void *', 'uint32_t']),
    AssignProcessToJobObject: fn('bool', 'AssignProcessToJobObject', ['void *', 'void *']),
    GetCurrentProcess: fn('void *', 'GetCurrentProcess', []),
    CloseHandle: fn('bool', 'CloseHandle', ['void *']),
    isNull: isNullHandle,
  };
  return k;
}

function limits(flags: number): Buffer {
  const info = Buffer.alloc(EXTENDED_LIMIT_INFORMATION_SIZE);
  info.writeUInt32LE(flags, LIMIT_FLAGS_OFFSET);
  return info;
}

export interface SpawnGuard {
  /** Call as soon as spawn() has returned. */
  spawned(): void;
}

/**
 * Arms the guard for the next child this process creates. Best effort: where
 * the job cannot be made or joined (a parent job that forbids nesting, before
 * Windows 8), it returns undefined and the runner spawns without it.
 */
export function armSpawnGuard(): SpawnGuard | undefined {
  let k32: Kernel32Job;
  try {
    k32 = kernel32();
  } catch {
    return undefined;
  }
  const job = k32.CreateJobObjectW(null, null);
  if (k32.isNull(job)) return undefined;
  const armed =
    k32.SetInformationJobObject(job, JobObjectExtendedLimitInformation, limits(JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE), EXTENDED_LIMIT_INFORMATION_SIZE) &&
    k32.AssignProcessToJobObject(job, k32.GetCurrentProcess());
  if (!armed) {
    k32.CloseHandle(job);
    return undefined;
  }
  jobs.push(job);
  return {
    spawned(): void {
      // The command stays in the job; what it starts from now on does not.
      k32.SetInformationJobObject(
        job,
        JobObjectExtendedLimitInformation,
        limits(JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK),
        EXTENDED_LIMIT_INFORMATION_SIZE,
      );
    },
  };
}
