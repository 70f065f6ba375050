/**
 * node dist/scripts/bench/cpuprof-summary.js FILE.cpuprofile [TOP]
 *
 * Sums the self time of a V8 CPU profile (node --cpu-prof) by script, and by
 * function, and prints the largest: where a short-lived process spends its
 * time, with node_modules and node: internals kept apart from piplock's code.
 */
import * as fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topText] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: cpuprof-summary FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const top = Number(topText ?? 20);
const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));

const short = (url: string): string => url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/') || '(native/VM)';
const byScript = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { url, functionName, lineNumber } = byId.get(id)!.callFrame;
  const script = short(url);
  byScript.set(script, (byScript.get(script) ?? 0) + us);
  const fn = `${functionName || '(anonymous)'} ${script}:${lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
}
const print = (title: string, m: Map<string, number>): void => {
  process.stdout.write(`${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${(us / 1000).toFixed(2).padStart(8)} ms  ${k}\n`);
};
process.stdout.write(`profile: ${((prof.endTime - prof.startTime) / 1000).toFixed(1)} ms\n`);
print('self time by script:', byScript);
print('self time by function:', byFunction);
