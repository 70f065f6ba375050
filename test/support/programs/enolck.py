#!/usr/bin/env python3
"""Runs a command in which flock(2) fails with ENOLCK, as on a file system
without lock support (no such file system can be mounted here: flock works on
every local and FUSE file system this machine has). A seccomp filter makes the
kernel answer every flock call with ENOLCK; nothing else changes.

usage: enolck.py COMMAND [ARGS...]   (Linux x86-64 only)
"""
import ctypes
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
AUDIT_ARCH_X86_64 = 0xC000003E
NR_FLOCK = 73
ENOLCK = 37

def insn(code, jt, jf, k):
    return struct.pack('HBBI', code, jt, jf, k)

prog = b''.join([
    insn(0x20, 0, 0, 4),                   # A = arch
    insn(0x15, 0, 3, AUDIT_ARCH_X86_64),   # not x86-64: allow
    insn(0x20, 0, 0, 0),                   # A = syscall number
    insn(0x15, 0, 1, NR_FLOCK),
    insn(0x06, 0, 0, 0x00050000 | ENOLCK), # flock: fail with ENOLCK
    insn(0x06, 0, 0, 0x7FFF0000),          # anything else: allow
])
buf = ctypes.create_string_buffer(prog)
fprog = struct.pack('HxxxxxxQ', len(prog) // 8, ctypes.addressof(buf))
fbuf = ctypes.create_string_buffer(fprog)
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
        libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fbuf), 0, 0) != 0:
    sys.stderr.write('enolck.py: seccomp: %s\n' % os.strerror(ctypes.get_errno()))
    sys.exit(125)
os.execvp(sys.argv[1], sys.argv[1:])
