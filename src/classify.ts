import type { LockMode } from '../platform';

// Basenames are compared without directory and without a Windows executable suffix.
const PYTHON = /^(python|pythonw|py|pypy)(\d+(\.\d+)*)?$/;
const PIP = /^pip(\d+(\.\d+)*)?$/;
const PIP_SCRIPT = 'pip_install_python_deps.py';
// Python options that consume the next argument when given on their own.
const PYTHON_OPTS_WITH_VALUE = new Set(['-W', '-X', '--check-hash-based-pycs']);

function baseName(arg: string): string {
  const name = arg.slice(Math.max(arg.lastIndexOf('/'), arg.lastIndexOf('\\')) + 1).toLowerCase();
  return name.replace(/\.(exe|com|bat|cmd)$/, '');
}

/** Whether a command line runs pip: `python -m pip`, a pip executable, or Pigweed's pip_install_python_deps.py. */
export function isPipCommand(argv: readonly string[]): boolean {
  const [command, ...args] = argv;
  if (command === undefined) return false;
  const name = baseName(command);
  if (PIP.test(name) || name === PIP_SCRIPT) return true;
  if (!PYTHON.test(name)) return false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-m') return args[i + 1] === 'pip';
    if (arg.startsWith('-m')) return arg.slice(2) === 'pip';
    if (arg === '-c' || arg.startsWith('-c') || arg === '-' || arg === '--') return false;
    if (PYTHON_OPTS_WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue; // -u, -B, -3 (py launcher), -X opt=val, -Wdefault, ...
    return baseName(arg) === PIP_SCRIPT;
  }
  return false;
}

/** The seed's rule: pip exclusive, everything else shared. */
export function modeForCommand(argv: readonly string[]): LockMode {
  return isPipCommand(argv) ? 'exclusive' : 'shared';
}
