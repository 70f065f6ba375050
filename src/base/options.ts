/**
 * The options of each subcommand, as tables: one entry per option gives its
 * parse, its usage errors and its help. Two parsers read the tables:
 *
 * - commander, for piplock's own subcommands (run, status, report, trace):
 *   src/cli.ts builds its Commands from the tables, and unknownOptions()
 *   below names every unknown option that commander leaves;
 * - parseOptions() below, for python-runner, as Python's argparse reads
 *   python_runner.py's options: a value must not look like an option,
 *   unambiguous prefixes of long names are taken, and its messages are
 *   argparse's, which the side-by-side tests compare.
 *
 * Both name every unknown option at once, with "did you mean" where one is
 * close. Loaded on every run: nothing here loads anything.
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
  /**
   * The value when the option is not given, where one is known at the parse;
   * absent, the option is missing from the values (and its default, such as
   * one from the environment, is applied later).
   */
  defaultValue?: unknown;
  required?: boolean;
  /** Every value kept, in order (`--env`); otherwise the last one given wins. */
  repeatable?: boolean;
  /** The value as the subcommand uses it; throws UsageError about the text, and the parser names the option. */
  parse?: (text: string) => unknown;
}

export interface Parsed {
  /** Each option given, by key: its value (true for a flag), or every value for a repeatable one. */
  values: Record<string, unknown>;
  /** The command: everything from the first word that is not an option on, a `--` included. */
  rest: string[];
  /** -h or --help was given among the options. */
  help: boolean;
  /** The usage error, one line, worded as argparse words it; undefined when there is none. */
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
  /** The one long name that the word begins (`--lock` of `--lockfile`), or else the closest. */
  const near = (u: string): string | undefined => {
    const longer = longs.filter((l) => l.startsWith(u));
    return longer.length === 1 && u.length > 3 ? longer[0] : closest(u, longs);
  };
  const hints = unknown
    .map((u) => [u, u.startsWith('--') ? near(u) : undefined] as const)
    .filter((h): h is readonly [string, string] => h[1] !== undefined);
  if (hints.length === 0) return '';
  if (unknown.length === 1) return ` (did you mean ${quoteValue(hints[0]![1])}?)`;
  return ` (did you mean ${hints.map(([u, near]) => `${quoteValue(near)} for ${quoteValue(u)}`).join(', ')}?)`;
}

const HELP_FLAGS = ['-h', '--help'];

/**
 * The usage error for the words commander could not place (the `unknown` of
 * its parseOptions), checked against the subcommand's table: every unknown
 * option among them, named at once with "did you mean", or undefined when
 * there is none. Commander itself names only the first, and only after its
 * check of the required options, which one of the unknown may be meant to
 * be (`--lokfile`). After the first unknown option commander leaves every
 * word unread; `rest` says how the words that are not options read: for
 * `command`, the command starts at the first of them, unless a `--` follows
 * (then the word after an unknown option may be its value); for `operands`,
 * they stand among the options. A -h or --help before the command is left to
 * commander, which then shows the help.
 */
export function unknownOptions(
  words: readonly string[],
  options: readonly OptionSpec[],
  rest: 'command' | 'operands',
): string | undefined {
  const unknown: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') break;
    if (word.length < 2 || word[0] !== '-') {
      const prev = words[i - 1];
      const valueOfUnknown = unknown.length > 0 && prev === unknown[unknown.length - 1] && words.includes('--', i);
      if (rest === 'command' && !valueOfUnknown) break;
      continue;
    }
    if (HELP_FLAGS.includes(word)) return undefined;
    if (word.startsWith('--')) {
      const name = word.split('=', 1)[0]!;
      const o = options.find((x) => x.long === name);
      if (!o) unknown.push(name);
      // A known option's value is its next word, unless given with '='.
      else if (o.value !== undefined && !word.includes('=')) i++;
      continue;
    }
    // Short options: bundled flags (-xn), and a value attached (-w5) or in the next word (-w 5).
    for (let j = 1; j < word.length; j++) {
      const o = options.find((x) => x.short === `-${word[j]}`);
      if (!o) {
        if (HELP_FLAGS.includes(`-${word[j]}`)) return undefined;
        unknown.push(`-${word[j]}`);
        continue;
      }
      if (o.value === undefined) continue;
      if (j + 1 === word.length) i++;
      break;
    }
  }
  if (unknown.length === 0) return undefined;
  return `unknown option${unknown.length > 1 ? 's' : ''} ${listed(unknown)}${didYouMean(unknown, options)}`;
}

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

class Stop extends Error {}

/**
 * Reads argv with the table as Python's argparse reads python_runner.py's
 * options: `--name=value` and `--name value`, an unambiguous prefix of a
 * long name (`--lock`), the last of a repeated option winning, and the
 * command from the first word that is not an option on (a `--` before it
 * stays in the command, as argparse's REMAINDER keeps it). A value must not
 * look like an option. Never throws for what the user typed: the usage
 * error is in `error`, worded as argparse words it. Which error is
 * reported: the unknown options (all of them) if there are any, for one of
 * them may be a misspelling of the rest; else the first other mistake; else
 * the missing required options.
 */
export function parseOptions(options: readonly OptionSpec[], argv: readonly string[]): Parsed {
  const values: Record<string, unknown> = {};
  const rest: string[] = [];
  const unknown: string[] = [];
  let problem: string | undefined;
  let help = false;

  const fail = (message: string): never => {
    problem ??= message;
    throw new Stop();
  };
  /** An option by its name or, as argparse allows, by an unambiguous prefix of a long name. */
  const find = (word: string): OptionSpec | undefined => {
    const exact = options.find((o) => o.long === word || o.short === word);
    if (exact || !word.startsWith('--') || word.length < 3) return exact;
    const matches = options.filter((o) => o.long.startsWith(word));
    if (matches.length > 1) fail(`ambiguous option: ${word} could match ${matches.map((o) => o.long).join(', ')}`);
    return matches[0];
  };
  /** Whether argparse would take the word as an option rather than as a value or the command. */
  const looksLikeOption = (word: string): boolean => {
    if (word.length < 2 || word[0] !== '-') return false;
    if (word === '--' || options.some((o) => o.long === word.split('=', 1)[0] || o.short === word)) return true;
    return !NEGATIVE_NUMBER.test(word) && !word.includes(' ');
  };
  const set = (o: OptionSpec, text: string | true): void => {
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
        problem ??= `argument ${o.long}: ${err.message}`;
        return;
      }
    }
    if (o.repeatable) ((values[o.key] ??= []) as unknown[]).push(v);
    else values[o.key] = v;
  };
  /** The value of an option that takes one, from the next word. */
  const next = (i: number, name: string): string => {
    const word = argv[i + 1];
    if (word === undefined || looksLikeOption(word)) fail(`argument ${name}: expected one argument`);
    return word!;
  };

  try {
    for (let i = 0; i < argv.length; i++) {
      const word = argv[i]!;
      if (word === '--') {
        rest.push(...argv.slice(i));
        break;
      }
      if (!looksLikeOption(word)) {
        // After an unknown option, the next word may be its value: while a '--' follows, look on for more unknowns.
        const prev = argv[i - 1];
        if (unknown.length > 0 && prev === unknown[unknown.length - 1] && argv.includes('--', i)) continue;
        rest.push(...argv.slice(i));
        break;
      }
      if (word.startsWith('--')) {
        const eq = word.indexOf('=');
        const o = find(eq > 0 ? word.slice(0, eq) : word);
        if (!o) unknown.push(word);
        else if (o.value === undefined) {
          if (eq > 0) fail(`argument ${o.long}: ignored explicit argument ${quoteValue(word.slice(eq + 1))}`);
          set(o, true);
        } else if (eq > 0) set(o, word.slice(eq + 1));
        else set(o, next(i++, o.long));
        continue;
      }
      // A short option, its value attached (-w5) or in the next word; argparse does not bundle ours.
      const o = find(word.slice(0, 2));
      if (!o || (o.value === undefined && word.length > 2)) unknown.push(word);
      else if (o.value === undefined) set(o, true);
      else if (word.length > 2) set(o, word.slice(2));
      else set(o, next(i++, o.short!));
    }
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
  if (help) return { values, rest, help };
  if (unknown.length > 0)
    problem = `unrecognized arguments: ${unknown.join(' ')}${didYouMean(
      unknown.map((u) => u.split('=', 1)[0]!),
      options,
    )}`;
  if (problem === undefined) {
    const missing = options.filter((o) => o.required && values[o.key] === undefined);
    if (missing.length > 0) problem = `the following arguments are required: ${missing.map((o) => o.long).join(', ')}`;
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

/** What the help says of an option: what it does, its default, and whether it is required. */
export function describeOption(o: OptionSpec): string {
  return `${o.help}${o.default !== undefined ? ` (default: ${o.default})` : ''}${o.required ? ' (required)' : ''}`;
}

/** The help's lines for a table: each option with its value, what it does, its default, and whether it is required. */
export function formatOptions(options: readonly OptionSpec[], width = 80): string {
  return formatRows(
    options.map((o) => [
      `  ${o.short ? `${o.short}, ` : '    '}${o.long}${o.value ? ` ${o.value}` : ''}`,
      describeOption(o),
    ]),
    width,
  );
}
