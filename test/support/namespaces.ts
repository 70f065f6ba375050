// PID namespaces for the tests that run runners in them: whether this lane may make them.
import { spawnSync } from 'node:child_process';

let why: { reason: string | undefined } | undefined;

/**
 * Why `unshare -p -f --mount-proc` (a PID namespace with a /proc of its own, as a container has) cannot be used
 * here, or undefined when it can. Asked once.
 */
export function noPidNamespace(): string | undefined {
  why ??= { reason: probe() };
  return why.reason;
}

function probe(): string | undefined {
  if (process.platform !== 'linux') return 'PID namespaces are Linux only';
  const r = spawnSync('unshare', ['-p', '-f', '--mount-proc', '--', 'true'], { stdio: 'ignore' });
  if (r.error) return `unshare(1) cannot be run: ${(r.error as NodeJS.ErrnoException).code}`;
  if (r.status !== 0) return 'unshare -p -f --mount-proc is not allowed here (no CAP_SYS_ADMIN)';
  return undefined;
}

/** `unshare` arguments that run `command` as PID 1 of a new PID namespace with its own /proc; killing unshare kills it all. */
export function inNewPidNamespace(command: readonly string[]): string[] {
  return ['-p', '-f', '--mount-proc', '--kill-child', '--', ...command];
}
