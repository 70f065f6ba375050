import { waitOf } from '../runner/event-log';
import type { EventRecord } from '../runner/event-log';

/** One acquisition on the timeline: its wait, then its hold, on one slot (row) of its own while it lasts. */
export interface Placed {
  record: EventRecord;
  slot: number;
  /** ms since the epoch */
  asked: number;
  waitEnd: number;
  /** Equal to waitEnd when it never held the lock. */
  holdEnd: number;
}

/**
 * Places each acquisition on the lowest slot free at the time it asked, as
 * ninjatracing places ninja's edges on threads: at any moment each busy slot
 * shows one runner, so the number of slots is the peak number of runners.
 */
export function place(records: readonly EventRecord[]): Placed[] {
  const slotEnds: number[] = [];
  const out: Placed[] = [];
  for (const record of [...records].sort((a, b) => a.asked - b.asked)) {
    const waitEnd = record.asked + waitOf(record);
    const holdEnd = record.granted !== undefined && record.released !== undefined ? record.released : waitEnd;
    let slot = slotEnds.findIndex((end) => end <= record.asked);
    if (slot < 0) slot = slotEnds.length;
    slotEnds[slot] = Math.max(holdEnd, waitEnd);
    out.push({ record, slot, asked: record.asked, waitEnd, holdEnd });
  }
  return out;
}

/** The name an acquisition is shown by: its GN label, else its command. */
export function shownName(r: EventRecord): string {
  return r.label ?? (r.command.join(' ') || `PID ${r.pid}`);
}
