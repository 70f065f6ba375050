#!/usr/bin/env python3
"""Runs one pw_python_action through `piplock python-runner`.

GN runs every action with the .gn file's script_executable (Python, by
default), so the templates in python_action.gni run this file.

    piplock_action.py [--node=NODE] [--in-process=true|false] RUNNER-ARGS...

NODE defaults to "node" on PATH; on Windows, node.exe along PATH first, then
PATHEXT's other extensions, and never a batch file (see find_on_windows).
Unless RUNNER-ARGS choose an interpreter
with --python, the Python running this file runs the action's script, as it
does with Pigweed's python_runner.py.

On Linux and macOS the action runs in this Python, which has already
started ("in process"): this file opens the lock file, starts Node with the
descriptor and two pipes, and forks. Node does the runner's work (arguments,
expressions, the lock) and locks the open file it was given; then it sends
the child a plan (argv, environment, directory, capture), and the child runs
the script as a fresh `python SCRIPT ARGS...` would. The parent reports the
child's exit status to Node, which lets go of the lock, and exits with Node's
status. The lock belongs to the open file that Node, the parent and the child
share: if Node or this process is killed, the kernel keeps it for as long as
the action's process lives.

Where the plan cannot run faithfully in this interpreter (an environment
that changes what Python reads at start-up, a zip or .pyc to run, interpreter
options), the child execs a fresh interpreter instead, still under the lock.
`--in-process=false` (the GN build arg piplock_in_process) or
PIPLOCK_IN_PROCESS=0 starts Node by exec instead, and Node spawns a fresh
interpreter, as on Windows, where Node runs as a child of this launcher.

This runs once per action: it imports nothing that Python has not already
loaded at start-up, and does no work it can avoid.
"""

import os
import sys

# The names a fresh interpreter puts in __main__ before a script runs.
_MAIN_KEYS = tuple(k for k in globals() if k.startswith('__'))

# The signals that end an action: the launcher passes them on to its child.
_FORWARDED = tuple(getattr(__import__('_signal'), name)
                   for name in ('SIGINT', 'SIGTERM', 'SIGHUP')
                   if os.name != 'nt')

# Environment variables that Python reads only while it starts (or that decide
# what it finds then): a plan that changes one runs in a fresh interpreter.
_STARTUP_NAMES = ('HOME', 'LANG', 'LANGUAGE', 'TZ', '__PYVENV_LAUNCHER__')
_STARTUP_PREFIXES = ('PYTHON', 'LC_')


def main():
    args = sys.argv[1:]
    node = 'node'
    in_process = os.environ.get('PIPLOCK_IN_PROCESS', '') not in ('0', 'false')
    while args and args[0].startswith(('--node=', '--in-process=')):
        name, _, value = args.pop(0).partition('=')
        if name == '--node':
            node = value or 'node'
        elif value in ('true', 'false'):
            in_process = in_process and value == 'true'
        else:
            sys.stderr.write("piplock: error: --in-process=%s: expected "
                             "'true' or 'false'\n" % value)
            return 2

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
    own_python = not any(
        a == '--python' or a.startswith('--python=') for a in options)
    if sys.executable and own_python:
        args = ['--python=' + sys.executable] + args

    argv = [node, cli, 'python-runner'] + args
    try:
        if os.name != 'nt':
            if in_process and own_python and sys.executable and plain_start():
                status = run_in_process(argv, lockfile_of(options))
                if status is not None:
                    return status
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
    return 1


def plain_start():
    """Whether this interpreter started as `python FILE` does, with no
    interpreter options: what Node would otherwise start."""
    orig = getattr(sys, 'orig_argv', None)
    return (orig is not None and len(orig) >= 2 and orig[1] == sys.argv[0]
            and not sys.warnoptions and not sys._xoptions)


def lockfile_of(options):
    """The runner's --lockfile, as the template spells it; None if absent.
    (Node checks that the descriptor it gets is the file it locks.)"""
    found = None
    for i, arg in enumerate(options):
        if arg == '--lockfile' and i + 1 < len(options):
            found = options[i + 1]
        elif arg.startswith('--lockfile='):
            found = arg[len('--lockfile='):]
    return found or None


def open_lock(lockfile):
    """Opens the lock file as Node does; None where this cannot, and Node
    says why."""
    flags = os.O_CREAT | os.O_NONBLOCK
    try:
        return os.open(lockfile, flags | os.O_RDWR, 0o666)
    except OSError:
        try:
            return os.open(lockfile, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            return None


def open_capture():
    """The file for --capture-output, made as Node makes it: unique, private,
    and unlinked at once, so that nothing is left behind."""
    tmp = os.environ.get('TMPDIR') or '/tmp'
    if len(tmp) > 1:
        tmp = tmp.rstrip('/')
    for attempt in range(100):
        name = os.path.join(tmp, 'piplock-output-%d-py-%d.log' %
                            (os.getpid(), attempt))
        try:
            fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError:
            return None
        os.unlink(name)
        return fd
    return None


def run_in_process(argv, lockfile):
    """Starts Node, forks the child that waits for Node's plan, reports the
    child's status to Node, and returns Node's. None: use Node alone. In the
    child, returns the MainModule to run."""
    if lockfile is None:
        return None
    lock = open_lock(lockfile)
    if lock is None:
        return None
    capture = open_capture()
    if capture is None:
        os.close(lock)
        return None
    plan_r, plan_w = os.pipe()
    status_r, status_w = os.pipe()
    done_r, done_w = os.pipe()
    given = (lock, plan_w, status_r, capture, done_w)
    for fd in given:
        os.set_inheritable(fd, True)
    argv = argv[:3] + ['--launcher=%d,%d,%d,%d,%d' % given] + argv[3:]
    try:
        node = os.posix_spawnp(argv[0], argv, os.environ)
    finally:
        for fd in given:
            os.set_inheritable(fd, False)
    # pylint: disable=import-outside-toplevel
    import _signal  # built in, and loaded at start-up

    # Until the plan comes, the child ignores the signals that end an action;
    # the parent passes them on once the action runs.
    for sig in _FORWARDED:
        _signal.signal(sig, _signal.SIG_IGN)
    freeze()
    child = os.fork()
    if child == 0:
        os.close(plan_w)
        os.close(status_r)
        os.close(status_w)
        os.close(done_r)
        os.close(done_w)
        return run_child(plan_r, lock, capture)
    for fd in (plan_r, plan_w, status_r, capture, lock, done_w):
        os.close(fd)
    return finish(node, child, status_w, done_r)


def freeze():
    """Moves this interpreter's objects out of the collector's reach: the
    child's collections, at its end above all, would otherwise touch, and so
    copy, every page it shares with this process."""
    loaded = 'gc' in sys.modules
    import gc  # pylint: disable=import-outside-toplevel

    gc.freeze()
    if not loaded:
        del sys.modules['gc']


def finish(node, child, status_w, done_r):
    """The parent: waits for the action and then for Node."""
    # pylint: disable=import-outside-toplevel
    import _signal

    # The action's parent passes these on to it, as Node does to a child of
    # its own (Node outlives them meanwhile); but not those sent to the whole
    # process group (ninja interrupting the action, a terminal's Ctrl-C),
    # which the action got from the kernel already: the witness tells.
    witness = Witness()

    def forward(sig, _):
        if witness.saw(sig):
            return
        try:
            os.kill(child, sig)
        except OSError:
            pass

    for sig in _FORWARDED:
        _signal.signal(sig, forward)
    status = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    for sig in _FORWARDED:
        _signal.signal(sig, _signal.SIG_IGN)
    witness.close()
    write_all(status_w, b'%d\n' % (status if status >= 0 else 128 - status))
    os.close(status_w)
    # Node says its status once it has let go of the lock and said all it
    # has to say, and then ends on its own; if it dies first, it says nothing.
    said = b''
    while True:
        chunk = os.read(done_r, 16)
        if not chunk:
            break
        said += chunk
    if said.endswith(b'\n') and said[:-1].isdigit():
        os._exit(int(said))  # pylint: disable=protected-access
    status = os.waitstatus_to_exitcode(os.waitpid(node, 0)[1])
    if status < 0:
        # Killed: end the same way, as the exec'd Node would have.
        if -status != _signal.SIGKILL:
            _signal.signal(-status, _signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        status = 128 - status
    os._exit(status)  # pylint: disable=protected-access


class Witness:
    """A process in the launcher's process group that blocks the signals the
    launcher passes on, so that one sent to the whole group stays pending in
    it, where /proc/PID/status shows it (Linux; elsewhere there is none, and
    every signal is passed on). It reads a pipe from the launcher and ends at
    its end, so it goes with the launcher however the launcher ends."""

    def __init__(self):
        self.pid = None
        self.pipe = None
        self.start()

    def start(self):
        # pylint: disable=import-outside-toplevel
        import _signal

        if not _FORWARDED or not os.path.exists('/proc/self/status'):
            return
        r, w = os.pipe()
        # Blocked from the fork on: the witness never runs a handler.
        old = _signal.pthread_sigmask(_signal.SIG_BLOCK, _FORWARDED)
        try:
            pid = os.fork()
        except OSError:
            pid = None
        if pid == 0:
            try:
                os.close(w)
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                # Nothing of the launcher's stays open in it: not Node's pipes.
                os.closerange(3, r)
                os.closerange(r + 1, 1 << 16)
                while os.read(r, 1):
                    pass
            finally:
                os._exit(0)  # pylint: disable=protected-access
        _signal.pthread_sigmask(_signal.SIG_SETMASK, old)
        os.close(r)
        if pid is None:
            os.close(w)
            return
        self.pid, self.pipe = pid, w

    def saw(self, sig):
        """Whether the witness got sig too, since it was last asked; then a
        new witness takes its place, since a blocked signal stays pending."""
        if self.pid is None:
            return False
        try:
            with open('/proc/%d/status' % self.pid, 'rb') as f:
                text = f.read()
        except OSError:
            return False
        pending = 0
        for line in text.split(b'\n'):
            if line.startswith((b'ShdPnd:', b'SigPnd:')):
                pending |= int(line.split()[1], 16)
        if not pending & (1 << (sig - 1)):
            return False
        self.close()
        self.start()
        return True

    def close(self):
        if self.pid is None:
            return
        os.close(self.pipe)
        os.waitpid(self.pid, 0)
        self.pid = self.pipe = None


def write_all(fd, data):
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass  # Node has gone: its exit status tells


def read_plan(fd):
    """Node's plan, or None when Node ended without one (the lock was not
    granted, or Node runs the action itself). ValueError for a plan that is
    not one (a launcher and a Node side of different versions)."""
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    data = b''.join(chunks)
    if not data:
        return None
    fields = data.split(b'\0')
    if len(fields) < 7 or fields[0] != b'piplock-plan-1' or fields[-2:] != [
            b'end', b'']:
        raise ValueError('not a plan of this version')
    fields = [os.fsdecode(f) for f in fields[1:-2]]
    cwd, capture, debug = fields[0], fields[1] == '1', fields[2] == '1'
    argc = int(fields[3])
    argv = fields[4:4 + argc]
    env = {}
    for entry in fields[4 + argc:]:
        name, _, value = entry.partition('=')
        env[name] = value
    return argv, env, cwd, capture, debug


def run_child(plan_fd, lock, capture):
    """The child: waits for the plan, and prepares to run it in this
    interpreter, or runs it in a fresh one where this one could not run it
    faithfully."""
    try:
        plan = read_plan(plan_fd)
    except (OSError, ValueError) as err:
        # Node waits for a status: the action must fail, not pass unrun.
        os.write(2, ('piplock: error: the launcher cannot read the plan from '
                     "'%s': %s (rebuild piplock: npm run build)\n" %
                     (os.path.realpath(__file__), err)).encode())
        os._exit(1)  # pylint: disable=protected-access
    if plan is None:
        os._exit(0)  # pylint: disable=protected-access
    argv, env, cwd, captured, debug = plan
    try:
        os.chdir(cwd)
        reset_signals()
        why = why_fresh(argv, env, cwd)
        if debug:
            os.write(2, b'piplock: debug: the launcher runs the action in %s\n'
                     % (b'a fresh interpreter: ' + why.encode()
                        if why else b'its own interpreter'))
        if captured:
            os.dup2(capture, 1)
            os.dup2(capture, 2)
        os.close(capture)
        if why:
            fresh_interpreter(argv, env, lock)
        apply_environment(env)
    except OSError as err:
        os.write(2, ('piplock: error: cannot start the action: %s\n' %
                     err).encode(errors='backslashreplace'))
        os._exit(127)  # pylint: disable=protected-access
    try:
        return prepare_main(argv)
    except OSError:
        # The script went away meanwhile: a fresh interpreter says so.
        return fresh_interpreter(argv, env, lock)


def reset_signals():
    """The signal state of a process that Node starts: nothing blocked,
    nothing ignored but what Python ignores itself."""
    # pylint: disable=import-outside-toplevel
    import _signal

    _signal.pthread_sigmask(_signal.SIG_SETMASK, ())
    keep = (_signal.SIGPIPE, getattr(_signal, 'SIGXFSZ', None))
    for sig in _signal.valid_signals():
        if sig in keep or sig >= getattr(_signal, 'SIGRTMIN', 65):
            continue
        try:
            if _signal.getsignal(sig) == _signal.SIG_IGN:
                _signal.signal(
                    sig, _signal.default_int_handler
                    if sig == _signal.SIGINT else _signal.SIG_DFL)
        except (OSError, ValueError):
            pass


def why_fresh(argv, env, cwd):
    """Why `python ARGV` in ENV and CWD would not start as this interpreter
    did, so that running it here would not be faithful; '' if it would."""
    if not argv or (argv[0] == '-m' and len(argv) < 2):
        return 'no script or module'
    if argv[0] != '-m':
        if argv[0].startswith('-'):
            return 'interpreter option %s' % argv[0]
        if not is_plain_script(argv[0]):
            return 'not a source file: %s' % argv[0]
    started = os.environ
    for name in sorted(set(started) | set(env)):
        if (name.startswith(_STARTUP_PREFIXES) or name in _STARTUP_NAMES
            ) and started.get(name) != env.get(name):
            return '%s is read at start-up' % name
    # A relative PYTHONPATH entry is made absolute from the start-up
    # directory: elsewhere, a fresh start would make it another path.
    if started.get('PYTHONPATH') and cwd != _START_CWD:
        return 'PYTHONPATH in another directory'
    return ''


def is_plain_script(path):
    """A source file, which Python runs as __main__ itself; a directory, a
    zip or a .pyc file goes through importers and runs in a fresh start."""
    try:
        with open(path, 'rb') as f:
            head = f.read(4)
    except OSError:
        return False  # the fresh interpreter says why, in its own words
    # pylint: disable=import-outside-toplevel,protected-access
    import _frozen_importlib_external

    return not (path.endswith('.pyc') or head[:2] == b'PK' or
                head == _frozen_importlib_external.MAGIC_NUMBER)


def fresh_interpreter(argv, env, lock):
    """Runs the plan in a new interpreter, which keeps the lock file open, so
    that the lock stays with the action whoever else is killed."""
    # pylint: disable=import-outside-toplevel
    import _signal

    os.set_inheritable(lock, True)
    for sig in (_signal.SIGPIPE, getattr(_signal, 'SIGXFSZ', None)):
        if sig is not None:
            _signal.signal(sig, _signal.SIG_DFL)
    os.execve(sys.executable, [sys.executable] + argv, env)


def apply_environment(env):
    environ = os.environ
    for name in [n for n in environ if n not in env]:
        del environ[name]
    for name, value in env.items():
        if environ.get(name) != value:
            environ[name] = value


def make_stdio():
    """sys.stdin, stdout and stderr as a fresh interpreter makes them for the
    descriptors it has now (pylifecycle.c, create_stdio)."""
    # pylint: disable=import-outside-toplevel
    import io

    old = [sys.stdin, sys.stdout, sys.stderr]
    known = next((s for s in old[1:] + old[:1] if s is not None), None)
    encoding = known.encoding if known else 'utf-8'
    errors = sys.stdout.errors if sys.stdout else 'strict'
    # -u and PYTHONUNBUFFERED leave no flag but this.
    buffered = not (known.write_through if known else
                    os.environ.get('PYTHONUNBUFFERED'))
    streams = []
    for fd, name, mode in ((0, '<stdin>', 'r'), (1, '<stdout>', 'w'),
                           (2, '<stderr>', 'w')):
        try:
            os.fstat(fd)
        except OSError:
            streams.append(None)
            continue
        unbuffered = not buffered and mode == 'w'
        buf = io.open(fd, mode + 'b', 0 if unbuffered else -1, closefd=False)
        raw = buf if unbuffered else buf.raw
        raw.name = name
        stream = io.TextIOWrapper(
            buf, encoding,
            'backslashreplace' if fd == 2 else
            (sys.stdin.errors if fd == 0 and sys.stdin else errors),
            '\n', buffered and (raw.isatty() or fd == 2), not buffered)
        stream.mode = mode
        streams.append(stream)
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams


class MainModule(tuple):
    """What the top level runs as the action's main module: (source, path,
    namespace) for a script, (None, name, runpy) for `-m`."""


def prepare_main(argv):
    """Makes this interpreter look as `python ARGV` would just before its
    main module runs."""
    # -P and PYTHONSAFEPATH (3.11) leave out sys.path[0] altogether.
    safe_path = getattr(sys.flags, 'safe_path', False)
    launcher_dir = sys.path[0] if not safe_path else None
    if launcher_dir is not None:
        del sys.path[0]
        sys.path_importer_cache.pop(launcher_dir, None)
    sys.argv = list(argv)
    sys.orig_argv = [sys.executable] + list(argv)
    make_stdio()
    if argv[0] == '-m':
        if launcher_dir is not None:
            sys.path.insert(0, os.getcwd())
        # pylint: disable=import-outside-toplevel
        import runpy

        del sys.argv[1]
        return MainModule((None, argv[1], runpy))
    path = argv[0]
    if launcher_dir is not None:
        sys.path.insert(0, os.path.dirname(os.path.realpath(path)))
    # Since 3.9 the script's path is made absolute, not normalized.
    if sys.version_info >= (3, 9) and not os.path.isabs(path):
        path = os.path.join(os.getcwd(), path)
    module = type(sys)('__main__')
    namespace = module.__dict__
    values = {
        '__annotations__': {},
        '__builtins__': __builtins__,
        '__file__': path,
        '__cached__': None,
        '__loader__': type(__loader__)('__main__', path),
    }
    for key in _MAIN_KEYS:
        if key in values:
            namespace[key] = values[key]
    sys.modules['__main__'] = module
    with open(path, 'rb') as f:
        return MainModule((f.read(), path, namespace))


def flush_io():
    """What the interpreter does after a script, before it reports how it
    ended: flush stderr, then stdout, ignoring errors."""
    for stream in (sys.stderr, sys.stdout):
        try:
            stream.flush()
        except Exception:  # pylint: disable=broad-except
            pass


def uncaught(exc):
    """What the interpreter does with an exception that ends the main module:
    the traceback from the main module's frame on, status 1; for
    KeyboardInterrupt, the end of the process by SIGINT."""
    tb = exc.__traceback__.tb_next  # past this file's top level
    exc = exc.with_traceback(tb)
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = exc
    hook = getattr(sys, 'excepthook', None)
    if hook is None:
        sys.stderr.write('sys.excepthook is missing\n')
    else:
        try:
            hook(type(exc), exc, tb)
        except BaseException as err:  # pylint: disable=broad-except
            sys.stderr.write('Error in sys.excepthook:\n')
            sys.__excepthook__(type(err), err, err.__traceback__)
            sys.stderr.write('\nOriginal exception was:\n')
            sys.__excepthook__(type(exc), exc, tb)
    if isinstance(exc, KeyboardInterrupt):
        exit_by_sigint()
    raise SystemExit(1)


def exit_by_sigint():
    """A fresh interpreter finalizes and then kills itself with SIGINT."""
    # pylint: disable=import-outside-toplevel,protected-access
    import _signal

    threading = sys.modules.get('threading')
    if threading is not None:
        threading._shutdown()
    atexit = sys.modules.get('atexit')
    if atexit is not None:
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # pylint: disable=broad-except
            pass
    _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
    os.kill(os.getpid(), _signal.SIGINT)
    os._exit(130)


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


# The directory this interpreter started in, which its sys.path was made from.
_START_CWD = os.getcwd() if os.name != 'nt' else None

if __name__ == '__main__':
    _MAIN = main()
    if not isinstance(_MAIN, MainModule):
        sys.exit(_MAIN)
    # The child: the action's main module runs here, at the top level, so
    # that it starts one frame from the bottom of the stack, as in a fresh
    # interpreter; and this interpreter ends as that one would. Nothing here
    # keeps its namespace alive once it has run: the interpreter's end
    # clears it, closing the files it left open.
    _SCRIPT = _MAIN[0] is not None
    try:
        if _SCRIPT:
            exec(compile(_MAIN[0], _MAIN[1], 'exec', dont_inherit=True),
                 _MAIN[2])
        else:
            _MAIN[2]._run_module_as_main(_MAIN[1], alter_argv=True)
    except SystemExit:
        del _MAIN
        if _SCRIPT:
            flush_io()
        raise
    except BaseException as _ERROR:  # pylint: disable=broad-except
        del _MAIN
        if _SCRIPT:
            flush_io()
        uncaught(_ERROR)
    else:
        del _MAIN
        if _SCRIPT:
            flush_io()
