/**
 * The one option parser of the command line: each subcommand describes its
 * options in a table, and the same table gives its parse, its usage errors
 * and its help. Two styles read a table:
 *
 * - `getopt`, piplock's own subcommands, as flock(1) reads its options
 *   (getopt_long): short options bundled (`-xn`) or with their value attached
 *   (`-w5`), a value taken from the next word whatever it is;
 * - `argparse`, python-runner, as Python's argparse reads python_runner.py's:
 *   a value must not look like an option, and its messages are argparse's.
 *
 * Both take `--name=value` and `--name value`, an unambiguous prefix of a long
 * name (`--lock`), and the last of a repeated option; both name every unknown
 * option at once, with "did you mean" where one is close. Loaded on every
 * run: nothing here loads anything.
 */
import { notADuration, parseDuration } from './duration';
import { UsageError } from './errors';
import { quoteValue } from './quote';

/** One option of a subcommand. */
export interface OptionSpec {
  /** Its key among the values of a parse; the option keyed `help` asks for the help. */
  key: string;
  /** `--lockfile` */
  long: string;
  /** `-s` */
  short?: string;
  /** The name of its value in the help (`PATH`); absent for a flag. */
  value?: string;
  help: string;
  /** What the help says it defaults to. */
  default?: string;
  required?: boolean;
  /** Every value kept, in order (`--env`); otherwise the last one given wins. */
  repeatable?: boolean;
  /** The value as the subcommand uses it; throws UsageError about the text, and the parser names the option. */
  parse?: (text: string) => unknown;
}

export interface ParserSpec {
  options: readonly OptionSpec[];
  style: 'getopt' | 'argparse';
  /**
   * The words that are not options: `command`, everything from the first of
   * them on is the command (a `--` before it ends the options, and argparse
   * keeps that `--`, as python_runner.py's REMAINDER does); `operands`, they
   * may stand among the options, and `--` ends the options.
   */
  rest: 'command' | 'operands';
}

export interface Parsed {
  /** Each option given, by key: its value (true for a flag), or every value for a repeatable one. */
  values: Record<string, unknown>;
  /** The command, or the operands. */
  rest: string[];
  /** -h or --help was given among the options. */
  help: boolean;
  /** The usage error, one line, worded for the style; undefined when there is none. */
  error?: string;
}

/** Optimal string alignment distance: an edit, or two letters swapped, counts 1 (`--mdoe` is 1 from `--mode`). */
export function distance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        d[0]![j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate closest to a mistyped word, if it is close: at most 2 edits, and fewer than half the word's letters. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const letters = word.replace(/^-+/, '').length;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance && d <= 2 && d * 2 < letters) [best, bestDistance] = [c, d];
  }
  return best;
}

/** `invalid choice 'loud' (choose from a, b)`: the value as it was typed, the choices as they are spelt. */
export function invalidChoice(text: string, choices: readonly string[]): string {
  return `invalid choice ${quoteValue(text)} (choose from ${choices.join(', ')})`;
}

/** A parse function for one of `choices`; without regard to case when asked (log levels: DEBUG, Debug). */
export function choice<T extends string>(choices: readonly T[], anyCase = false): (text: string) => T {
  return (text) => {
    const v = anyCase ? text.toLowerCase() : text;
    if (!(choices as readonly string[]).includes(v)) throw new UsageError(invalidChoice(text, choices));
    return v as T;
  };
}

/** A parse function for a duration (`90`, `1.5m`, `500ms`), in milliseconds. */
export function durationValue(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(notADuration(text));
  return ms;
}

/** `'a'`, `'a' and 'b'`, `'a', 'b' and 'c'`. */
export function listed(words: readonly string[]): string {
  const q = words.map(quoteValue);
  return q.length === 1 ? q[0]! : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
}

/** ` (did you mean '--mode'?)` for one unknown, ` (did you mean '--mode' for '--mdoe', ...?)` for several. */
function didYouMean(unknown: readonly string[], options: readonly OptionSpec[]): string {
  const longs = options.map((o) => o.long);
  const hints = unknown
    .map((u) => [u, u.startsWith('--') ? closest(u, longs) : undefined] as const)
    .filter((h): h is readonly [string, string] => h[1] !== undefined);
  if (hints.length === 0) return '';
  if (unknown.length === 1) return ` (did you mean ${quoteValue(hints[0]![1])}?)`;
  return ` (did you mean ${hints.map(([u, near]) => `${quoteValue(near)} for ${quoteValue(u)}`).join(', ')}?)`;
}

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

class Stop extends Error {}

/**
 * Reads argv with the table. Never throws for what the user typed: the
 * first usage error is in `error`, worded for the style. Which error is
 * reported: the unknown options (all of them) if there are any, for one of
 * them may be a misspelling of the rest; else the first other mistake; else
 * the missing required options.
 */
export function parseOptions(spec: ParserSpec, argv: readonly string[]): Parsed {
  const { options, style } = spec;
  const argparse = style === 'argparse';
  const values: Record<string, unknown> = {};
  const rest: string[] = [];
  const unknown: string[] = [];
  let problem: string | undefined;
  let help = false;

  /** How a message names an option: argparse's way, or as it was typed (`-w`, or the whole long name). */
  const name = (o: OptionSpec, typed: string): string =>
    argparse ? `argument ${o.long}` : typed.startsWith('--') ? o.long : typed;
  const fail = (message: string): never => {
    problem ??= message;
    throw new Stop();
  };
  /** An option by its name or, as getopt_long and argparse allow, by an unambiguous prefix of a long name. */
  const find = (word: string): OptionSpec | undefined => {
    const exact = options.find((o) => o.long === word || o.short === word);
    if (exact || !word.startsWith('--') || word.length < 3) return exact;
    const matches = options.filter((o) => o.long.startsWith(word));
    if (matches.length > 1)
      fail(
        argparse
          ? `ambiguous option: ${word} could match ${matches.map((o) => o.long).join(', ')}`
          : `option ${quoteValue(word)} is ambiguous: ${matches.map((o) => o.long).join(' or ')}`,
      );
    return matches[0];
  };
  /** Whether argparse would take the word as an option rather than as a value or the command. */
  const looksLikeOption = (word: string): boolean => {
    if (word.length < 2 || word[0] !== '-') return false;
    if (word === '--' || options.some((o) => o.long === word.split('=', 1)[0] || o.short === word)) return true;
    return !NEGATIVE_NUMBER.test(word) && !word.includes(' ');
  };
  const isOption = argparse ? looksLikeOption : (word: string) => word.length > 1 && word[0] === '-';
  const set = (o: OptionSpec, typed: string, text: string | true): void => {
    if (o.key === 'help') {
      // As argparse's -h: help, whatever else the line says, unless a mistake before it stopped the reading.
      help = true;
      throw new Stop();
    }
    let v: unknown = text;
    if (text !== true && o.parse) {
      try {
        v = o.parse(text);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        problem ??= `${name(o, typed)}: ${err.message}`;
        return;
      }
    }
    if (o.repeatable) ((values[o.key] ??= []) as unknown[]).push(v);
    else values[o.key] = v;
  };

  try {
    for (let i = 0; i < argv.length; i++) {
      const word = argv[i]!;
      if (word === '--') {
        rest.push(...argv.slice(spec.rest === 'command' && argparse ? i : i + 1));
        break;
      }
      if (!isOption(word)) {
        // After an unknown option, the next word may be its value: while a '--' follows, look on for more unknowns.
        const prev = argv[i - 1];
        if (unknown.length > 0 && prev === unknown[unknown.length - 1] && argv.includes('--', i)) continue;
        if (spec.rest === 'operands') {
          rest.push(word);
          continue;
        }
        rest.push(...argv.slice(i));
        break;
      }
      if (word.startsWith('--')) {
        const eq = word.indexOf('=');
        const typed = eq > 0 ? word.slice(0, eq) : word;
        const o = find(typed);
        if (!o) {
          unknown.push(argparse ? word : typed);
          continue;
        }
        if (o.value === undefined) {
          if (eq > 0)
            fail(
              argparse
                ? `argument ${o.long}: ignored explicit argument ${quoteValue(word.slice(eq + 1))}`
                : `${o.long} takes no value (given ${quoteValue(word.slice(eq + 1))})`,
            );
          set(o, typed, true);
        } else if (eq > 0) {
          set(o, typed, word.slice(eq + 1));
        } else {
          const next = argv[i + 1];
          if (next === undefined || (argparse && looksLikeOption(next)))
            fail(argparse ? `argument ${o.long}: expected one argument` : `${o.long} needs a value (${o.value})`);
          set(o, typed, next!);
          i++;
        }
        continue;
      }
      // Short options: bundled flags (-xn), and a value attached (-w5) or in the next word (-w 5).
      for (let j = 1; j < word.length; j++) {
        const typed = `-${word[j]}`;
        const o = find(typed);
        if (!o || (argparse && j > 1)) {
          unknown.push(argparse ? word : typed);
          if (argparse) break;
          continue;
        }
        if (o.value === undefined) {
          set(o, typed, true);
          continue;
        }
        if (j + 1 < word.length) set(o, typed, word.slice(j + 1));
        else {
          const next = argv[i + 1];
          if (next === undefined || (argparse && looksLikeOption(next)))
            fail(argparse ? `argument ${o.short}: expected one argument` : `${o.short} needs a value (${o.value})`);
          set(o, typed, next!);
          i++;
        }
        break;
      }
    }
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
  if (help) return { values, rest, help };
  if (unknown.length > 0) {
    const hint = didYouMean(argparse ? unknown.map((u) => u.split('=', 1)[0]!) : unknown, options);
    problem = argparse
      ? `unrecognized arguments: ${unknown.join(' ')}${hint}`
      : `unknown option${unknown.length > 1 ? 's' : ''} ${listed(unknown)}${hint}`;
  }
  if (problem === undefined) {
    const missing = options.filter((o) => o.required && values[o.key] === undefined);
    if (missing.length > 0)
      problem = argparse
        ? `the following arguments are required: ${missing.map((o) => o.long).join(', ')}`
        : `${missing.map((o) => `${o.long} ${o.value}`).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required`;
  }
  return { values, rest, help, ...(problem !== undefined ? { error: problem } : {}) };
}

/** Words wrapped to lines of at most `width` columns (a longer word has a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

/** Two columns: each left text (indented by the caller), and its text wrapped beside it. */
export function formatRows(rows: readonly (readonly [string, string])[], width = 80): string {
  const column = Math.min(Math.max(...rows.map(([left]) => left.length)) + 2, 30);
  return rows
    .map(([left, text]) => {
      const head = left.length + 2 > column ? `${left}\n${' '.repeat(column)}` : left.padEnd(column);
      return head + wrap(text, width - column).join(`\n${' '.repeat(column)}`);
    })
    .join('\n');
}

/** The help's lines for a table: each option with its value, what it does, its default, and whether it is required. */
export function formatOptions(options: readonly OptionSpec[], width = 80): string {
  return formatRows(
    options.map((o) => [
      `  ${o.short ? `${o.short}, ` : '    '}${o.long}${o.value ? ` ${o.value}` : ''}`,
      `${o.help}${o.default !== undefined ? ` (default: ${o.default})` : ''}${o.required ? ' (required)' : ''}`,
    ]),
    width,
  );
}
