import path = require('node:path');

/** The path flavour in use: Node's own, or a fixed one for tests. */
export type PathApi = path.PlatformPath;

/**
 * The extension as Python's `PurePath.suffix` gives it: from the last dot of
 * the last component, but empty for names that start with their only dot
 * (".hidden") or end with one ("name.").
 */
export function pySuffix(p: string, api: PathApi = path): string {
  const name = lastComponent(p, api);
  const i = name.lastIndexOf('.');
  return i > 0 && i < name.length - 1 ? name.slice(i) : '';
}

function lastComponent(p: string, api: PathApi): string {
  const seps = api.sep === '\\' ? /[\\/]+/ : /\/+/;
  const parts = p.split(seps).filter((s) => s !== '' && s !== '.');
  return parts.length === 0 ? '' : parts[parts.length - 1]!;
}

/**
 * A path string spelled as Python's `str(Path(p))` spells it: repeated
 * separators and "." components dropped (".." kept), no trailing separator,
 * "." for an empty path, and backslashes on Windows. The runner prints the
 * paths it reads from .ninja files this way, as python_runner.py does.
 */
export function pyPathString(p: string, api: PathApi = path): string {
  const win = api.sep === '\\';
  let rest = win ? p.replace(/\//g, '\\') : p;
  const sep = win ? '\\' : '/';
  let anchor = '';
  if (win) {
    const drive = /^(?:[A-Za-z]:|\\\\[^\\]+\\[^\\]+)/.exec(rest);
    if (drive) {
      anchor = drive[0];
      rest = rest.slice(anchor.length);
    }
    if (rest.startsWith('\\')) anchor += '\\';
  } else if (rest.startsWith('//') && !rest.startsWith('///')) {
    anchor = '//'; // POSIX leaves the meaning of exactly two leading slashes open; Python keeps them
  } else if (rest.startsWith('/')) {
    anchor = '/';
  }
  const parts = rest.split(sep).filter((s) => s !== '' && s !== '.');
  const joined = anchor + parts.join(sep);
  return joined === '' ? '.' : joined;
}
