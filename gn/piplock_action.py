#!/usr/bin/env python3
"""Starts `piplock python-runner` for one pw_python_action.

GN runs every action with the .gn file's script_executable (Python, by
default), so the templates in python_action.gni run this file, and it starts
Node with piplock's CLI: by exec on POSIX, so that nothing is left between
ninja and piplock; as a child on Windows, where exec would let ninja see the
action end at once.

    piplock_action.py [--node=NODE] RUNNER-ARGS...

NODE defaults to "node" on PATH (and, on Windows, with PATHEXT's
extensions, as a command prompt finds it). Unless RUNNER-ARGS choose an interpreter
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
    cli = os.path.join(package, 'dist', 'bin', 'piplock.js')
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
        return run_on_windows(argv)
    except OSError as err:
        sys.stderr.write(
            "piplock: error: cannot run Node '%s': %s (set the GN build arg "
            'piplock_node)\n' % (node, err.strerror or err))
        return 127


def run_on_windows(argv):
    """Runs Node as a child that cannot outlive this launcher.

    ninja interrupts an action with Ctrl-Break (Ctrl-C from a console):
    the event reaches Node and the action too, so this launcher ignores it
    and waits for Node, which decides what the action does, and ninja
    waits for the launcher. Should the launcher be killed outright
    (TerminateProcess), Node is in a kill-on-close job of the launcher's
    and dies with it; Node's own job then ends the action.
    """
    # pylint: disable=import-outside-toplevel
    import shutil
    import signal
    import subprocess

    # CreateProcess alone tries .exe only; shutil.which also tries PATHEXT's
    # other extensions, as a command prompt does, so that a node.cmd shim of a
    # version manager is found. Such a shim runs under cmd.exe, which expands
    # %VAR% in the arguments: fine for a build's own arguments, and node.exe,
    # found first in its directory, avoids it.
    found = shutil.which(argv[0])
    if found is None:
        raise OSError(2, 'not found on PATH')
    argv = [found] + argv[1:]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGBREAK, signal.SIG_IGN)  # pylint: disable=no-member
    release = join_kill_on_close_job()
    child = subprocess.Popen(argv)
    if release:
        release()
    return child.wait()


def join_kill_on_close_job():
    """Puts this process in a kill-on-close job, so that the next child is
    born in it; returns the call that lets later descendants break away.
    Best effort: where a job cannot be made or joined, returns None."""
    # pylint: disable=import-outside-toplevel,invalid-name,too-few-public-methods
    import ctypes
    from ctypes import wintypes

    class BasicLimits(ctypes.Structure):
        _fields_ = [('PerProcessUserTimeLimit', ctypes.c_int64),
                    ('PerJobUserTimeLimit', ctypes.c_int64),
                    ('LimitFlags', wintypes.DWORD),
                    ('MinimumWorkingSetSize', ctypes.c_size_t),
                    ('MaximumWorkingSetSize', ctypes.c_size_t),
                    ('ActiveProcessLimit', wintypes.DWORD),
                    ('Affinity', ctypes.c_size_t),
                    ('PriorityClass', wintypes.DWORD),
                    ('SchedulingClass', wintypes.DWORD)]

    class ExtendedLimits(ctypes.Structure):
        _fields_ = [('BasicLimitInformation', BasicLimits),
                    ('IoInfo', ctypes.c_uint64 * 6),
                    ('ProcessMemoryLimit', ctypes.c_size_t),
                    ('JobMemoryLimit', ctypes.c_size_t),
                    ('PeakProcessMemoryUsed', ctypes.c_size_t),
                    ('PeakJobMemoryUsed', ctypes.c_size_t)]

    kill_on_close = 0x2000
    silent_breakaway_ok = 0x1000
    extended_limit_information = 9
    k32 = ctypes.WinDLL('kernel32', use_last_error=True)
    k32.CreateJobObjectW.restype = wintypes.HANDLE
    k32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    k32.SetInformationJobObject.argtypes = [
        wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD]
    k32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    k32.GetCurrentProcess.restype = wintypes.HANDLE

    def limit(job, flags):
        info = ExtendedLimits()
        info.BasicLimitInformation.LimitFlags = flags
        return k32.SetInformationJobObject(job, extended_limit_information,
                                           ctypes.byref(info),
                                           ctypes.sizeof(info))

    job = k32.CreateJobObjectW(None, None)
    if not job:
        return None
    if not (limit(job, kill_on_close) and
            k32.AssignProcessToJobObject(job, k32.GetCurrentProcess())):
        k32.CloseHandle(job)
        return None
    # The handle stays open until this process exits: closing it kills Node.
    return lambda: limit(job, kill_on_close | silent_breakaway_ok)


if __name__ == '__main__':
    sys.exit(main())
