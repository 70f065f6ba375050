#!/usr/bin/env python3
"""The pip lock of Pigweed's python_runner.py (commit 6c03473f8), on its own:
a baseline and an interop peer for piplock.

Follows the algorithm of that change: open the lock file with
O_RDWR | O_CREAT, try flock with LOCK_NB (exclusive for pip, shared for
anything else), sleep 50 ms x attempt between tries, give up after the
timeout (30 minutes). Then run the command and exit with its status. The fd
is closed on exec, so the command does not inherit the lock.

usage: reference-lock.py --lockfile PATH [--mode auto|shared|exclusive]
                      [--timeout SECONDS] -- COMMAND [ARGS...]
"""

import argparse
import fcntl
import os
import subprocess
import sys
import time


def _is_pip(command):
    name = os.path.basename(command[0]).lower()
    if name.endswith('.exe'):
        name = name[:-4]
    if name.startswith('pip') or name == 'pip_install_python_deps.py':
        return True
    return name.startswith('python') and command[1:3] == ['-m', 'pip']


def acquire(path, exclusive, timeout):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
    op = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    start = time.monotonic()
    attempt = 1
    while True:
        try:
            fcntl.flock(fd, op)
            return fd
        except BlockingIOError:
            pass
        if time.monotonic() - start >= timeout:
            os.close(fd)
            return None
        time.sleep(attempt * 0.05)
        attempt += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--lockfile', required=True)
    parser.add_argument('--mode', choices=('auto', 'shared', 'exclusive'),
                        default='auto')
    parser.add_argument('--timeout', type=float, default=30 * 60)
    parser.add_argument('command', nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        parser.error('no command given')
    exclusive = (args.mode == 'exclusive'
                 or (args.mode == 'auto' and _is_pip(command)))
    fd = acquire(args.lockfile, exclusive, args.timeout)
    if fd is None:
        print(f'reference-lock: timed out waiting for lock {args.lockfile}',
              file=sys.stderr)
        return 1
    result = subprocess.run(command, check=False)
    os.close(fd)
    return result.returncode if result.returncode >= 0 else 128 - result.returncode


if __name__ == '__main__':
    sys.exit(main())
