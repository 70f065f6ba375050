import { platform } from '../../platform';

/*
 * Bytes that are not UTF-8. Node decodes process.argv and process.env as UTF-8, with U+FFFD for every byte that is
 * not, and child_process passes only strings on (a Buffer argument is decoded the same way). A command given such
 * an argument or environment would therefore get other bytes than flock(1) would pass it, and a lock path with them
 * would name another file. piplock refuses them, in one line, where it can tell (Linux: the bytes the process was
 * started with); elsewhere it cannot tell a decoded byte from a real U+FFFD.
 */

const REPLACEMENT = '\uFFFD';

/** The bytes as a quoted text: printable ASCII as it is, every other byte as \xHH. */
function shown(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    out +=
      b >= 0x20 && b < 0x7f && b !== 0x5c && b !== 0x27
        ? String.fromCharCode(b)
        : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `'${out}'`;
}

function isUtf8(bytes: Buffer): boolean {
  return (require('node:buffer') as typeof import('node:buffer')).isUtf8(bytes);
}

/**
 * One line for the first of this process's arguments (after Node's own and the script's) that is not UTF-8, or
 * undefined. Reads /proc only when an argument has a U+FFFD in it.
 */
export function argumentNotUtf8(argv: readonly string[] = process.argv): string | undefined {
  const args = argv.slice(2);
  if (!args.some((a) => a.includes(REPLACEMENT))) return undefined;
  const raw = platform.startBytes?.('argv');
  if (raw === undefined || raw.length < args.length) return undefined;
  // Node's options and the script come first; the arguments are the last ones.
  const ours = raw.slice(raw.length - args.length);
  const i = ours.findIndex((b) => !isUtf8(b));
  if (i < 0) return undefined;
  return (
    `argument ${i + 1}, ${shown(ours[i]!)}, is not UTF-8: piplock runs on Node, which would pass it on, or open it, ` +
    'as other bytes (U+FFFD for each byte that is not UTF-8); give it in UTF-8'
  );
}

/**
 * One line for the first environment variable whose name or value is not UTF-8, or undefined: the command would
 * get it with other bytes. Reads /proc only when a variable has a U+FFFD in it.
 */
export function environmentNotUtf8(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!Object.entries(env).some(([k, v]) => k.includes(REPLACEMENT) || v?.includes(REPLACEMENT))) return undefined;
  const raw = platform.startBytes?.('environ');
  const bad = raw?.find((b) => !isUtf8(b));
  if (bad === undefined) return undefined;
  const eq = bad.indexOf(0x3d);
  const name = eq < 0 ? bad : bad.subarray(0, eq);
  return (
    `the environment variable ${shown(name)} is not UTF-8 (${shown(bad)}): piplock runs on Node, which would pass ` +
    'it to the command as other bytes (U+FFFD for each byte that is not UTF-8); unset it, or give it in UTF-8'
  );
}
