import { spawn } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';
import * as os from 'node:os';
import { setpriv, withParentDeathSignal } from '../platform/pdeathsig-linux';
import { armSpawnGuard } from '../platform/spawn-guard-windows';

/** A command that could not be started: 127 when it does not exist, 126 when it cannot be executed. */
export class SpawnError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'SpawnError';
  }
}

// On Windows a console Ctrl-C or Ctrl-Break already reaches every process on
// the console, the child included; forwarding would kill it outright
// (Node's kill() is TerminateProcess there), so the runner only waits.
const FORWARDED: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGBREAK', 'SIGHUP'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The shell's convention: the child's status, or 128+N for a child killed by signal N. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? os.constants.signals[signal] : undefined;
  return n === undefined ? 1 : 128 + n;
}

/** Does once, ahead of time, what the first spawn would otherwise do on the way from lock to command. */
export function prepareToSpawn(): void {
  if (process.platform === 'linux') setpriv();
}

/**
 * Runs the command with inherited stdio and resolves with its exit status once
 * it has exited, forwarding the signals the runner receives meanwhile.
 */
export function runChild(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    // Linux: the command is SIGKILLed if the runner dies, so that it never runs on without the lock.
    // Windows: libuv puts every non-detached child in a kill-on-close job of the runner's; the guard
    // covers the moment before it does.
    const viaSetpriv = process.platform === 'linux' && !options.detached ? withParentDeathSignal(command, args, (options.env ?? process.env).PATH, options.cwd?.toString()) : undefined;
    const guard = process.platform === 'win32' && !options.detached ? armSpawnGuard() : undefined;
    let child;
    try {
      child = viaSetpriv ? spawn(viaSetpriv.command, viaSetpriv.args, { stdio: 'inherit', ...options }) : spawn(command, args, { stdio: 'inherit', ...options });
    } finally {
      guard?.spawned();
    }
    const forward = (sig: NodeJS.Signals): void => {
      if (process.platform !== 'win32') child.kill(sig);
    };
    for (const sig of FORWARDED) process.on(sig, forward);
    const done = (): void => {
      for (const sig of FORWARDED) process.off(sig, forward);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      done();
      if (err.code === 'ENOENT') reject(new SpawnError(`command not found: '${command}'`, 127));
      else if (err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'ENOEXEC')
        reject(new SpawnError(`cannot execute '${command}': ${err.code === 'ENOEXEC' ? 'not an executable format' : 'permission denied'}`, 126));
      else reject(new SpawnError(`cannot start '${command}': ${err.message}`, 126));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(exitStatus(code, signal));
    });
  });
}
