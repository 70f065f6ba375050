import type { SpawnOptions } from 'node:child_process';
import { platform } from '../../platform';
import { CANNOT_EXECUTE_STATUS, NOT_FOUND_STATUS, SpawnError } from '../base/errors';
import type { Logger } from '../base/log';

/** The shell's convention: the child's status, or 128+N for a child killed by signal N. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? (require('node:os') as typeof import('node:os')).constants.signals[signal] : undefined;
  return n === undefined ? 1 : 128 + n;
}

/** How long after a signal the runner looks again whether its process group got it too, before passing it on. */
const GROUP_SIGNAL_GRACE_MS = 10;

/**
 * Runs the command with inherited stdio and resolves with its exit status once
 * it has exited, passing on the signals the runner receives meanwhile. The
 * command is started so that it dies with the runner where the OS allows, and
 * so never runs on without the lock.
 */
export function spawnCommand(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    let plan;
    try {
      plan = platform.spawnPlan(command, args, options);
    } catch (err) {
      reject(err);
      return;
    }
    if ('refused' in plan) {
      reject(new SpawnError(plan.refused, CANNOT_EXECUTE_STATUS));
      return;
    }
    let child;
    try {
      // Loaded only to spawn: with its net and stream modules, node:child_process is a tenth of a run's
      // start-up, which a runner whose command the GN launcher runs never needs.
      const { spawn } = require('node:child_process') as typeof import('node:child_process');
      child = spawn(plan.command, plan.args, { stdio: 'inherit', ...options });
    } catch (err) {
      // Node throws what libuv refuses at once (E2BIG, EINVAL, ELOOP, ...); it emits only a few as 'error'.
      reject(spawnError(command, err as NodeJS.ErrnoException));
      return;
    } finally {
      plan.spawned();
    }
    // A signal sent to the runner's whole process group (Ctrl-C, ninja) reached the command too: passing it on would
    // make two. The witness, a member of the group, tells those apart from signals to the runner alone.
    const witness =
      platform.forwardSignals.length > 0 && !options.detached
        ? platform.signalWitness?.(platform.forwardSignals)
        : undefined;
    const timers = new Set<NodeJS.Timeout>();
    // Never without a PID: a spawn refused after its handle was made (EMFILE, reported a tick later) has PID 0, and
    // Node's kill() would then signal the runner's whole process group.
    const pass = (sig: NodeJS.Signals): void => void (child.pid !== undefined && child.pid > 0 && child.kill(sig));
    const forward = (sig: NodeJS.Signals): void => {
      const saw = witness?.saw(sig);
      if (saw === true) return;
      if (saw === undefined) return pass(sig);
      // Not yet: a sender that signals a group's processes one by one (systemd's stop) may not have reached the
      // witness when the runner's handler runs. One look more, a moment later.
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (witness?.saw(sig) !== true) pass(sig);
      }, GROUP_SIGNAL_GRACE_MS);
      timers.add(timer);
    };
    const outlive = (): void => {};
    for (const sig of platform.forwardSignals) process.on(sig, forward);
    for (const sig of platform.outliveSignals) process.on(sig, outlive);
    const done = (): void => {
      for (const sig of platform.forwardSignals) process.off(sig, forward);
      for (const sig of platform.outliveSignals) process.off(sig, outlive);
      for (const timer of timers) clearTimeout(timer);
      witness?.close();
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      done();
      reject(spawnError(command, err));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(exitStatus(code, signal));
    });
  });
}

/** The one line and the shell's status for a command that could not be started. */
function spawnError(command: string, err: NodeJS.ErrnoException): Error {
  if (typeof err.errno !== 'number') return err; // not the OS's answer (an invalid argument to spawn): a bug
  if (err.code === 'ENOENT')
    return new SpawnError(`command not found: '${command}'${platform.notFoundHint ?? ''}`, NOT_FOUND_STATUS);
  if (err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'ENOEXEC')
    return new SpawnError(
      `cannot execute '${command}': ${err.code === 'ENOEXEC' ? 'not an executable format' : 'permission denied'}`,
      CANNOT_EXECUTE_STATUS,
    );
  return new SpawnError(`cannot start '${command}': ${systemErrorText(err)}`, CANNOT_EXECUTE_STATUS);
}

/** libuv's own text for a spawn error, e.g. "argument list too long (E2BIG)"; not the lock file's table. */
function systemErrorText(err: NodeJS.ErrnoException): string {
  const util = require('node:util') as typeof import('node:util');
  const text = util.getSystemErrorMap().get(err.errno!)?.[1];
  return text === undefined ? (err.code ?? String(err.errno)) : `${text} (${err.code})`;
}

/**
 * The status of a command start: `start`'s, or, for a command that could not
 * be started, the shell's 127 or 126 after one error line.
 */
export async function reportingSpawnErrors(log: Logger, start: () => Promise<number>): Promise<number> {
  try {
    return await start();
  } catch (err) {
    if (!(err instanceof SpawnError)) throw err;
    log.error(err.message);
    return err.status;
  }
}
