/**
 * On the in-process GN path the launcher exits as soon as Node has said its
 * status, and Node ends on its own a moment later, an orphan that nobody
 * waits for: its CPU time would be missing from this process's children's
 * times (/proc/self/stat cutime, cstime). The bench makes itself the child
 * subreaper (Linux prctl PR_SET_CHILD_SUBREAPER, through koffi), so that
 * such orphans become its children, and reaps them after each command, which
 * adds their CPU time where it belongs. Elsewhere both calls do nothing.
 */
let waitAny: (() => number) | undefined;

export function becomeSubreaper(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const koffi = require('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    const prctl = libc.func(
      'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
    );
    const waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
    if (prctl(36, 1, 0, 0, 0) !== 0) return false;
    waitAny = () => waitpid(-1, [0], 0) as number;
    return true;
  } catch {
    return false;
  }
}

/** Waits for every orphan adopted so far (Node processes still ending); call only when no child of Node's own runs. */
export function reapOrphans(): void {
  if (waitAny === undefined) return;
  while (waitAny() > 0);
}
