/** Quoting for messages: one rule for a command line, one for a single value. */

const PLAIN = /^[\w@%+=:,./\\-]+$/;

/** A command line as a reader can paste it into a POSIX shell: plain words as they are, others in single quotes. */
export function quoteCommand(argv: readonly string[]): string {
  return argv.map((a) => (PLAIN.test(a) ? a : `'${a.replace(/'/g, `'"'"'`)}'`)).join(' ');
}

/** One value in an error message, as Python's repr spells a str, so that messages read as python_runner.py's do. */
export function quoteValue(s: string): string {
  return /[\x00-\x1f\x7f']/.test(s) ? JSON.stringify(s) : `'${s}'`;
}
