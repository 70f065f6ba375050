import { formatDuration } from '../base/duration';
import type { EventRecord } from '../runner/event-log';
import { formatReport } from './report';
import type { Report } from './report';
import { place, shownName } from './timeline';

/** The colours of the page, by what a span shows; docs/seeing-the-lock.md names them. */
export const COLOURS = {
  'hold exclusive': '#d62728',
  'hold shared': '#1f77b4',
  'wait exclusive': '#f4b6b6',
  'wait shared': '#b3d1ea',
} as const;

const WIDTH = 1100;
const LEFT = 70;
const ROW = 14;
const GAP = 4;

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * One self-contained page: an inline SVG timeline of waits and holds, one row
 * per concurrent slot, and the report's summary. Nothing is loaded from
 * anywhere; each span is a <rect class="span ..."> with a <title>.
 */
export function htmlPage(report: Report, records: readonly EventRecord[]): string {
  const placed = place(records);
  const t0 = Math.min(...placed.map((p) => p.asked));
  const t1 = Math.max(...placed.map((p) => Math.max(p.holdEnd, p.waitEnd)));
  const span = Math.max(1, t1 - t0);
  const x = (t: number): number => LEFT + ((t - t0) / span) * (WIDTH - LEFT - 10);
  const rows = placed.length ? Math.max(...placed.map((p) => p.slot)) + 1 : 0;
  const height = rows * (ROW + GAP) + 40;
  const rects: string[] = [];
  for (const p of placed) {
    const r = p.record;
    const y = 10 + p.slot * (ROW + GAP);
    const draw = (kind: 'wait' | 'hold', from: number, to: number, what: string): void => {
      // Whole pixels, at least 2 wide, and a 1 px gap before the next span, so that each span can be
      // seen and counted, with no blended edge that looks like a span of another colour.
      const left = Math.round(x(from));
      const w = Math.max(2, Math.round(x(to)) - left - 1);
      const cls = `${kind} ${r.mode}` as keyof typeof COLOURS;
      rects.push(
        `<rect class="span ${cls}" x="${left}" y="${y}" width="${w}" height="${ROW}" fill="${COLOURS[cls]}">` +
          `<title>${escape(`${shownName(r)} (PID ${r.pid}, ${r.mode}): ${what}`)}</title></rect>`,
      );
    };
    if (p.waitEnd > p.asked) draw('wait', p.asked, p.waitEnd, `waited ${formatDuration(p.waitEnd - p.asked)}`);
    if (r.granted !== undefined) draw('hold', p.waitEnd, p.holdEnd, `held ${formatDuration(p.holdEnd - p.waitEnd)}`);
  }
  const ticks: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const t = t0 + (span * i) / 10;
    const tx = x(t).toFixed(1);
    ticks.push(
      `<line x1="${tx}" y1="4" x2="${tx}" y2="${height - 24}" stroke="#ddd"/>` +
        `<text x="${tx}" y="${height - 10}" font-size="11" text-anchor="middle">${formatDuration(t - t0)}</text>`,
    );
  }
  const legend = Object.entries(COLOURS)
    .map(([k, c]) => `<span style="display:inline-block;width:12px;height:12px;background:${c}"></span> ${k}`)
    .join(' &nbsp; ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>piplock report: ${escape(report.lockfile)}</title>
<style>body{font-family:sans-serif;margin:16px;background:#fff;color:#222}pre{font-size:12px}</style></head>
<body>
<h1 style="font-size:18px">piplock: waits and holds of ${escape(report.lockfile)}</h1>
<p style="font-size:12px">${legend}</p>
<svg xmlns="http://www.w3.org/2000/svg" shape-rendering="crispEdges" width="${WIDTH}" height="${height}" data-spans="${rects.length}" data-slots="${rows}">
${ticks.join('\n')}
${rects.join('\n')}
</svg>
<pre>${escape(formatReport(report))}</pre>
</body></html>
`;
}
