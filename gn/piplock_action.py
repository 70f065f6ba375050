#!/usr/bin/env python3
"""Starts `piplock python-runner` for one pw_python_action.

GN runs every action with the .gn file's script_executable (Python, by
default), so the templates in python_action.gni run this file, and it starts
Node with piplock's CLI: by exec on POSIX, so that nothing is left between
ninja and piplock; as a child on Windows, where exec would let ninja see the
action end at once.

    piplock_action.py [--node=NODE] RUNNER-ARGS...

NODE defaults to "node" on PATH; on Windows, node.exe along PATH first, then
PATHEXT's other extensions, and never a batch file (see find_on_windows).
Unless RUNNER-ARGS choose an interpreter
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
        found = find_on_windows(node, os.environ.get('PATH', ''),
                                os.environ.get('PATHEXT', ''))
        if found.lower().endswith(BATCH):
            sys.stderr.write(
                "piplock: error: Node '%s' is a batch file, which cmd.exe would "
                "run with the action's arguments unquoted (< > & |); put "
                'node.exe first on PATH or set the GN build arg piplock_node to '
                'its path\n' % found)
            return 126
        return windows_status(run_on_windows([found] + argv[1:]))
    except OSError as err:
        sys.stderr.write(
            "piplock: error: cannot run Node '%s': %s (set the GN build arg "
            'piplock_node)\n' % (node, err.strerror or err))
        return 127


BATCH = ('.bat', '.cmd')


def find_on_windows(node, path, pathext):
    """The file that NODE names on Windows, or OSError(ENOENT).

    node.exe is preferred anywhere along PATH: a node.cmd or node.bat shim
    (the npm "node" package, some version managers) runs under cmd.exe, which
    parses its arguments again without any quoting, so that the
    <TARGET_FILE(//a:b)> arguments of a pw_python_action become redirections
    and an "&" ends the command. Then PATHEXT's other extensions, in PATH
    order, as a command prompt tries them; a name without one of them (an sh
    shim called "node") is never run. shutil.which is not used: before
    Python 3.12.8 it can return such an extensionless file, and it prefers
    the first PATH entry over node.exe.
    """
    exts = [e.lower() for e in (pathext or '.COM;.EXE;.BAT;.CMD').split(';')
            if e.startswith('.')]
    ext = os.path.splitext(node)[1]
    if ext.lower() in exts:
        names = [node]  # an extension given: that file, and nothing else
    else:
        names = [node + e for e in sorted(exts, key=lambda e: e != '.exe')]
    if os.path.dirname(node):
        dirs = ['']
    else:
        dirs = [d.strip('"') for d in path.split(';') if d.strip('"')]
    for name in names:
        for d in dirs:
            candidate = os.path.join(d, name)
            if os.path.isfile(candidate):
                return candidate
    raise OSError(2, 'not found on PATH with PATHEXT (%s)' % ';'.join(exts))


def windows_status(status):
    """The status to give sys.exit for a child's exit code on Windows.

    Popen reports the DWORD exit code, e.g. 0xC000013A (STATUS_CONTROL_C_EXIT)
    when an action was interrupted. Before Python 3.12.8, sys.exit turns a
    value of 2**31 or more into 0xFFFFFFFF, and ninja then reports a failure
    instead of an interruption: the signed value passes through unchanged.
    """
    return status - (1 << 32) if status >= 1 << 31 else status


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
    import signal
    import subprocess

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
