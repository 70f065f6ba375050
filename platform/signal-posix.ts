import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReleaseWaiter } from './signal';
import { sideDir } from './names';

function releaseFile(lockfile: string): string {
  return path.join(sideDir(lockfile), 'release');
}

/**
 * POSIX release signal: releasers set the times of `<lockfile>.d/release`,
 * and waiters watch it with fs.watch (inotify on Linux, kqueue on macOS),
 * which costs no thread while waiting. The file stays empty.
 */
export class PosixReleaseWaiter implements ReleaseWaiter {
  private watcher: fs.FSWatcher | undefined;
  private pending = false;
  private wake: (() => void) | undefined;

  constructor(lockfile: string) {
    const file = releaseFile(lockfile);
    try {
      fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_RDONLY | fs.constants.O_NONBLOCK, 0o666));
      this.watcher = fs.watch(file, { persistent: true }, () => {
        this.pending = true;
        this.wake?.();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      // no signal (read-only directory, no inotify left): polling alone
      this.watcher = undefined;
    }
  }

  wait(ms: number, abort?: AbortSignal): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve, reject) => {
      const finish = (signalled: boolean): void => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        this.wake = undefined;
        this.pending = false;
        resolve(signalled);
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        reject(abort!.reason);
      };
      const timer = setTimeout(() => finish(false), ms);
      this.wake = () => finish(true);
      if (abort?.aborted) onAbort();
      else abort?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.wake?.();
  }
}
