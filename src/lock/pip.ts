import type { LockMode } from '../../platform';

// Basenames are compared without directory and without a Windows executable suffix.
// A version, then CPython's ABI flags (t free-threaded, d debug, m pymalloc, u wide: python3.13t, python3.11d,
// python3.7m), then Debian's -dbg (python3-dbg, python3.11-dbg).
const PYTHON = /^(python|pythonw|py|pypy)(\d+(\.\d+)*)?[tdmu]*(-dbg)?$/;
const PIP = /^pip(\d+(\.\d+)*)?$/;
/** Pigweed's script that runs pip. */
const PIP_SCRIPT = 'pip_install_python_deps.py';
// Python's short options that take a value, in the next argument or attached (-Wdefault, -Xdev).
const SHORT_WITH_VALUE = new Set(['W', 'X']);
const LONG_WITH_VALUE = new Set(['--check-hash-based-pycs']);

function baseName(arg: string): string {
  const name = arg.slice(Math.max(arg.lastIndexOf('/'), arg.lastIndexOf('\\')) + 1).toLowerCase();
  return name.replace(/\.(exe|com|bat|cmd)$/, '');
}

/**
 * What Python would run for these arguments, read as Python reads its own
 * command line (short options may be combined: -Im pip, -Esmpip):
 * a module, a script, or something else (-c, stdin).
 */
function pythonTarget(args: readonly string[]): { module: string } | { script: string } | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-' || arg === '--') return i + 1 < args.length && arg === '--' ? { script: args[i + 1]! } : undefined;
    if (arg.startsWith('--')) {
      if (LONG_WITH_VALUE.has(arg)) i++;
      continue; // --version, --help and the like
    }
    if (!arg.startsWith('-')) return { script: arg };
    for (let j = 1; j < arg.length; j++) {
      const opt = arg[j]!;
      const attached = arg.slice(j + 1);
      if (opt === 'm') return { module: attached !== '' ? attached : (args[i + 1] ?? '') };
      if (opt === 'c') return undefined;
      if (SHORT_WITH_VALUE.has(opt)) {
        if (attached === '') i++;
        break;
      }
    }
  }
  return undefined;
}

/**
 * Whether a command line runs pip: `python -m pip` (in any spelling Python
 * accepts), a pip executable, or Pigweed's pip_install_python_deps.py, run
 * directly or by Python.
 */
export function isPipCommand(argv: readonly string[]): boolean {
  const [command, ...args] = argv;
  if (command === undefined) return false;
  const name = baseName(command);
  if (PIP.test(name) || name === PIP_SCRIPT) return true;
  if (!PYTHON.test(name)) return false;
  const target = pythonTarget(args);
  if (target === undefined) return false;
  if ('module' in target) return target.module === 'pip';
  // `python venv/bin/pip install`: pip's own launcher script, run by an interpreter.
  const script = baseName(target.script);
  return script === PIP_SCRIPT || PIP.test(script);
}

/** The reference runner's rule: pip exclusive, everything else shared. */
export function modeForCommand(argv: readonly string[]): LockMode {
  return isPipCommand(argv) ? 'exclusive' : 'shared';
}
