import { platform } from '../../platform';

/**
 * Telling a process from a later one with the same PID. Registry entries and
 * PIPLOCK_HELD lines record the start tag of the runner that wrote them
 * (Linux: its start time; Windows: its creation time), and a reader trusts
 * one only while that PID still carries that tag.
 */

let selfTag: { tag: string | undefined } | undefined;

/** This process's start tag, read once. */
export function ownStartTag(): string | undefined {
  selfTag ??= { tag: platform.startTag(process.pid) };
  return selfTag.tag;
}

/**
 * Whether `pid` is still the process that recorded `tag`: true when no tag
 * was recorded (undefined or ''), or when its tag now is the same; false when
 * it differs; undefined when the tag cannot be read now.
 */
export function isSameProcess(pid: number, tag: string | undefined): boolean | undefined {
  if (tag === undefined || tag === '') return true;
  const now = platform.startTag(pid);
  return now === undefined ? undefined : now === tag;
}

/** Whether the process that recorded `tag` for `pid` still runs; one whose tag cannot be read counts as running. */
export function processAlive(pid: number, tag?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return isSameProcess(pid, tag) !== false;
}
