/** Quoting for messages: one rule for a command line, one for a single value. */

const PLAIN = /^[\w@%+=:,./\\-]+$/;

/**
 * A command line as a reader can paste it into a POSIX shell: plain words as they are, others in single quotes,
 * and a word with a control character (a terminal escape, a newline that would fake a line) as $'...' with its
 * control characters escaped, so that nothing from another process's argv acts on the reader's terminal.
 */
export function quoteCommand(argv: readonly string[]): string {
  return argv.map(quoteWord).join(' ');
}

function quoteWord(a: string): string {
  if (PLAIN.test(a)) return a;
  if (!hasControl(a)) return `'${a.replace(/'/g, `'"'"'`)}'`;
  let body = '';
  for (const c of a) {
    const code = c.charCodeAt(0);
    if (c === "'" || c === '\\') body += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) body += `\\x${code.toString(16).padStart(2, '0')}`;
    else body += c;
  }
  return `$'${body}'`;
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
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
