/** Quoting for messages: one rule for a command line, one for a single value. */

const PLAIN = /^[\w@%+=:,./\\-]+$/;

/** A command line as a reader can paste it into a POSIX shell: plain words as they are, others in single quotes. */
export function quoteCommand(argv: readonly string[]): string {
  return argv.map((a) => (PLAIN.test(a) ? a : `'${a.replace(/'/g, `'"'"'`)}'`)).join(' ');
}

/** One value in an error message, as Python's repr spells a str, so that messages read as python_runner.py's do. */
export function quoteValue(s: string): string {
  return needsEscapes(s) ? JSON.stringify(s) : `'${s}'`;
}

/** A control character (C0 or DEL) or a single quote: what a plain quoted form cannot show. */
function needsEscapes(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x27) return true;
  }
  return false;
}
