/**
 * The stress checker. Every holder appends lines to one log opened with
 * O_APPEND, so the order of the lines is the true order of the writes and no
 * clock is needed:
 *
 *   E <id> <shared|exclusive> <pid> [t=<epoch s>] [w=<wait ms>]   entered (lock held)
 *   X <id>                                                         about to release
 *   K <participant>                                                the harness is about to SIGKILL it
 *
 * An id is `<participant>.<n>`: one participant (a process) may hold the lock
 * several times in a row. A holder's interval runs from its E line to its last
 * line, X or K (a K line ends every open interval of its participant). K is
 * written before the kill is sent, so it under-estimates the end of a killed
 * holder's hold: nothing is reported that did not happen. A command that
 * outlives its killed runner and writes X later extends its interval to that
 * X, and any holder that entered meanwhile is reported.
 *
 * A violation: an entry while an exclusive holder is inside, or an exclusive
 * entry while anyone is inside.
 */

export interface Violation {
  /** 1-based line of the entry that overlapped. */
  line: number;
  entered: string;
  mode: string;
  /** Ids inside when it entered, with their modes. */
  inside: string[];
}

export interface CheckResult {
  acquisitions: number;
  exclusive: number;
  shared: number;
  violations: Violation[];
  /** Lines that do not parse: a torn write would show up here. */
  malformed: string[];
  /** Holders whose interval was ended by a K line (killed while holding). */
  killedHolding: number;
  /** Largest wait reported by w= fields, ms. */
  longestWaitMs: number;
  /** Most holders inside at once. */
  maxConcurrent: number;
}

interface Event {
  kind: 'E' | 'X' | 'K';
  id: string;
  mode?: string;
  wait?: number;
}

function participantOf(id: string): string {
  const dot = id.lastIndexOf('.');
  return dot < 0 ? id : id.slice(0, dot);
}

function parse(line: string): Event | undefined {
  const f = line.trim().split(/\s+/);
  if (f[0] === 'E' && f.length >= 4 && (f[2] === 'shared' || f[2] === 'exclusive')) {
    const w = f.find((x) => x.startsWith('w='));
    return { kind: 'E', id: f[1]!, mode: f[2], wait: w === undefined ? undefined : Number(w.slice(2)) };
  }
  if ((f[0] === 'X' || f[0] === 'K') && f.length === 2) return { kind: f[0], id: f[1]! };
  return undefined;
}

export function check(text: string): CheckResult {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const events: Array<Event | undefined> = lines.map(parse);
  const malformed = lines.filter((_, i) => events[i] === undefined);

  // Pass 1: the line that ends each interval (its last X, or a later K of its participant).
  const lastLine = new Map<string, number>();
  const openByParticipant = new Map<string, Set<string>>();
  let killedHolding = 0;
  events.forEach((ev, i) => {
    if (!ev) return;
    if (ev.kind === 'E') {
      lastLine.set(ev.id, i);
      const p = participantOf(ev.id);
      if (!openByParticipant.has(p)) openByParticipant.set(p, new Set());
      openByParticipant.get(p)!.add(ev.id);
    } else if (ev.kind === 'X') {
      if (lastLine.has(ev.id)) lastLine.set(ev.id, i);
      openByParticipant.get(participantOf(ev.id))?.delete(ev.id);
    } else {
      for (const id of openByParticipant.get(ev.id) ?? []) {
        lastLine.set(id, i);
        killedHolding++;
      }
      openByParticipant.delete(ev.id);
    }
  });
  // An X after the K of its participant (a command outliving its killed runner) still extends the interval.
  events.forEach((ev, i) => {
    if (ev?.kind === 'X' && lastLine.has(ev.id) && lastLine.get(ev.id)! < i) lastLine.set(ev.id, i);
  });

  const endsAt = new Map<number, string[]>();
  for (const [id, i] of lastLine) {
    if (!endsAt.has(i)) endsAt.set(i, []);
    endsAt.get(i)!.push(id);
  }

  // Pass 2: walk the log with the set of holders inside.
  const inside = new Map<string, string>();
  const violations: Violation[] = [];
  let acquisitions = 0;
  let exclusive = 0;
  let longestWaitMs = 0;
  let maxConcurrent = 0;
  events.forEach((ev, i) => {
    if (ev?.kind === 'E') {
      acquisitions++;
      if (ev.mode === 'exclusive') exclusive++;
      if (ev.wait !== undefined && Number.isFinite(ev.wait)) longestWaitMs = Math.max(longestWaitMs, ev.wait);
      const clash = [...inside].filter(([, m]) => m === 'exclusive' || ev.mode === 'exclusive');
      if (clash.length > 0)
        violations.push({
          line: i + 1,
          entered: ev.id,
          mode: ev.mode!,
          inside: clash.map(([id, m]) => `${id} (${m})`),
        });
      inside.set(ev.id, ev.mode!);
      maxConcurrent = Math.max(maxConcurrent, inside.size);
    }
    for (const id of endsAt.get(i) ?? []) inside.delete(id);
  });
  return {
    acquisitions,
    exclusive,
    shared: acquisitions - exclusive,
    violations,
    malformed,
    killedHolding,
    longestWaitMs,
    maxConcurrent,
  };
}
