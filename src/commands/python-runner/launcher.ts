import fs = require('node:fs');
import { platform } from '../../../platform';
import type { LockHandle } from '../../../platform';
import { FAILURE_STATUS, UsageError } from '../../base/errors';
import type { Logger } from '../../base/log';
import type { Lock } from '../../lock/lock';

/** What the launcher's child runs: `python ARGV` in CWD with ENV, its output in the capture file or not. */
export interface Plan {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  capture: boolean;
}

/** The option by which gn/piplock_action.py passes its descriptors: the first of python-runner's arguments. */
export const LAUNCHER_OPTION = '--launcher=';

/**
 * The GN launcher (gn/piplock_action.py) that runs the action in its own,
 * already-started Python, on Linux and macOS. It passes five descriptors:
 *
 *   lock     the lock file, which it opened; its child keeps it open
 *   plan     a pipe to the child, which waits for the plan on it
 *   status   a pipe from the launcher: the child's exit status
 *   output   the file for --capture-output, unlinked
 *   done     a pipe to the launcher: this runner's exit status, at the end
 *
 * The lock is taken on the lock file's open file, which the launcher, its
 * child and this process share: if this process dies, the kernel keeps the
 * lock for as long as the action's process has the file open, and an
 * explicit unlock here ends it at once for all. The child runs nothing
 * until the plan arrives, which is sent only once the lock is held; if this
 * process ends without sending one, the child ends without running anything.
 */
export class Launcher {
  private open: Set<number>;
  private lockTaken = false;

  private constructor(
    private readonly lockFd: number,
    private readonly planFd: number,
    private readonly statusFd: number,
    readonly outputFd: number,
    private readonly doneFd: number,
  ) {
    this.open = new Set([lockFd, planFd, statusFd, outputFd, doneFd]);
  }

  static parse(value: string): Launcher {
    const fds = value.split(',').map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
    if (fds.length !== 5 || fds.some((fd) => !Number.isSafeInteger(fd) || fd < 3)) {
      throw new UsageError(`${LAUNCHER_OPTION}${value}: expected five descriptors (for gn/piplock_action.py only)`);
    }
    const [lock, plan, status, output, done] = fds as [number, number, number, number, number];
    return new Launcher(lock, plan, status, output, done);
  }

  /** The lock file as the launcher opened it, to be locked instead of a handle of this runner's own. */
  adoptLock(path: string): LockHandle {
    this.lockTaken = true;
    this.open.delete(this.lockFd);
    return platform.adoptLockHandle(this.lockFd, path);
  }

  /**
   * Sends the plan, and resolves with the action's exit status once the
   * launcher reports it. The launcher, the action's parent, passes on the
   * signals that end an action; this runner outlives them meanwhile, so as
   * to let go of the lock when the action has ended. If the launcher ends
   * without a status, its child may run on: the lock is handed over to it.
   */
  async run(plan: Plan, lock: Lock | undefined, log: Logger): Promise<number> {
    const debug = log.enabled('debug') ? '1' : '0';
    const fields = [
      'piplock-plan-1',
      plan.cwd,
      plan.capture ? '1' : '0',
      debug,
      String(plan.argv.length),
      ...plan.argv,
    ];
    for (const [name, value] of Object.entries(plan.env)) if (value !== undefined) fields.push(`${name}=${value}`);
    fields.push('end', '');
    writeAll(this.planFd, Buffer.from(fields.join('\0')));
    this.noPlan();
    if (log.enabled('debug')) log.debug(`RUN by the launcher: ${JSON.stringify(plan.argv)}`, { cwd: plan.cwd });
    const outlive = (): void => {};
    for (const sig of platform.forwardSignals) process.on(sig, outlive);
    try {
      const said = await readAll(this.statusFd);
      this.open.delete(this.statusFd);
      if (/^\d+\n$/.test(said)) return Number(said);
    } finally {
      for (const sig of platform.forwardSignals) process.off(sig, outlive);
    }
    lock?.handOver();
    log.error(
      'the GN launcher (piplock_action.py) ended before its action did; the lock stays with the action until it ends',
    );
    return FAILURE_STATUS;
  }

  /** Tells the child that it runs nothing: the lock was not granted, or this runner spawns the action itself. */
  noPlan(): void {
    this.close(this.planFd);
  }

  /**
   * Gives the launcher this runner's exit status, once it has let go of the
   * lock and said all it has to say: the launcher then ends at once, and
   * ninja sees the action end, while this process ends on its own.
   */
  finish(status: number): void {
    this.noPlan();
    for (const fd of [this.statusFd, this.outputFd]) this.close(fd);
    if (!this.lockTaken) this.close(this.lockFd);
    // Nothing more is written: stdout and stderr are let go, so that ninja's pipe closes with the launcher.
    for (const fd of [1, 2]) {
      try {
        fs.closeSync(fd);
        const again = fs.openSync('/dev/null', 'w');
        if (again !== fd) fs.closeSync(again);
      } catch {
        // already closed
      }
    }
    try {
      writeAll(this.doneFd, Buffer.from(`${status}\n`));
    } catch {
      // the launcher has gone: nobody waits for the status
    }
    this.close(this.doneFd);
  }

  private close(fd: number): void {
    if (!this.open.delete(fd)) return;
    try {
      fs.closeSync(fd);
    } catch {
      // closed already
    }
  }
}

function writeAll(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length;) off += fs.writeSync(fd, buf, off);
}

/** What a pipe says up to its end, which it closes. */
function readAll(fd: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const buf = Buffer.alloc(64);
    const next = (): void => {
      fs.read(fd, buf, 0, buf.length, null, (err, n) => {
        if (err || n === 0) {
          fs.close(fd, () => {});
          resolve(text);
          return;
        }
        text += buf.toString('latin1', 0, n);
        next();
      });
    };
    next();
  });
}
