import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LockMode } from '../platform';
import { sideDir } from '../platform/names';
import { startTag } from '../platform/process-info';

/**
 * The registry of holders and waiters: one file per runner,
 * `<lockfile>.d/<pid>.json`, written whole (temporary file, then rename), so
 * that a reader never sees half an entry. A runner removes its entry when it
 * lets go; the entry of a runner that was killed stays until a reader (status,
 * a waiting runner) finds its PID dead and removes it.
 */
export interface RegistryEntry {
  pid: number;
  mode: LockMode;
  state: 'holding' | 'waiting';
  command: string[];
  /** When it started waiting or holding, ms since the epoch. */
  since: number;
  /** Tells this process from a later one with the same PID (Linux: start time; Windows: creation time). */
  start?: string;
}

export function registryFile(lockfile: string, pid: number): string {
  return path.join(sideDir(lockfile), `${pid}.json`);
}

/** This runner's entry. Best effort: a registry that cannot be written never stops the build. */
export class Registration {
  private written = false;
  private tag: string | undefined | null = null;

  constructor(
    private readonly lockfile: string,
    private readonly mode: LockMode,
    private readonly command: string[],
  ) {}

  set(state: RegistryEntry['state']): void {
    if (this.tag === null) this.tag = startTag(process.pid);
    const entry: RegistryEntry = { pid: process.pid, mode: this.mode, state, command: this.command, since: Date.now(), start: this.tag };
    const file = registryFile(this.lockfile, process.pid);
    const tmp = `${path.dirname(file)}${path.sep}.${process.pid}.tmp`;
    try {
      try {
        fs.writeFileSync(tmp, JSON.stringify(entry));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(tmp, JSON.stringify(entry));
      }
      fs.renameSync(tmp, file);
      this.written = true;
    } catch {
      // read-only build directory and the like: status will not list this runner
    }
  }

  remove(): void {
    if (!this.written) return;
    this.written = false;
    try {
      fs.unlinkSync(registryFile(this.lockfile, process.pid));
    } catch {
      // already gone
    }
  }
}
