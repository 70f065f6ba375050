#!/usr/bin/env python3
"""Starts `piplock python-runner` for one pw_python_action.

GN runs every action with the .gn file's script_executable (Python, by
default), so the templates in python_action.gni run this file, and it starts
Node with piplock's CLI: by exec on POSIX, so that nothing is left between
ninja and piplock; as a child on Windows, where exec would let ninja see the
action end at once.

    piplock_action.py [--node=NODE] RUNNER-ARGS...

NODE defaults to "node" on PATH. Unless RUNNER-ARGS choose an interpreter
with --python, the Python running this file runs the action's script, as it
does with Pigweed's python_runner.py.

This runs once per action: it uses only the standard library, imports
nothing that Python has not already loaded, and does no work it can avoid.
"""

import os
import sys


def main():
    args = sys.argv[1:]
    node = 'node'
    if args and args[0].startswith('--node='):
        node = args[0][len('--node='):] or 'node'
        args = args[1:]

    # The package may be linked into the source tree: find dist/ beside the
    # real gn/ directory.
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    cli = os.path.join(package, 'dist', 'src', 'cli.js')
    if not os.path.isfile(cli):
        sys.stderr.write(
            "piplock: error: '%s' is missing: build piplock in '%s' "
            '(npm install, or npm run build)\n' % (cli, package))
        return 1

    options = args[:args.index('--')] if '--' in args else args
    if sys.executable and not any(
            a == '--python' or a.startswith('--python=') for a in options):
        args = ['--python=' + sys.executable] + args

    argv = [node, cli, 'python-runner'] + args
    try:
        if os.name != 'nt':
            os.execvp(node, argv)  # does not return
        import signal  # pylint: disable=import-outside-toplevel
        import subprocess  # pylint: disable=import-outside-toplevel
        # Ctrl-C reaches Node as well, which decides what the action does.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return subprocess.call(argv)
    except OSError as err:
        sys.stderr.write(
            "piplock: error: cannot run Node '%s': %s (set the GN build arg "
            'piplock_node)\n' % (node, err.strerror or err))
        return 127


if __name__ == '__main__':
    sys.exit(main())
