/** Process ancestry, from any OS's parent links. */

/** pid, its parent, and so on, up to init; stops at a loop or after 256 steps. */
export function walkUp(first: number, parentOf: (pid: number) => number | undefined): number[] {
  const out: number[] = [];
  for (
    let pid: number | undefined = first;
    pid !== undefined && pid > 0 && out.length < 256 && !out.includes(pid);
    pid = parentOf(pid)
  )
    out.push(pid);
  return out;
}
