"""Writes what the action saw, for the test to check:

    record.py OUT [ARG...]

OUT gets the other arguments, the Python that ran, and PIPLOCK_HELD, which
piplock sets for a command that runs under its lock.
"""
import json
import os
import sys

with open(sys.argv[1], 'w') as f:
    json.dump({'args': sys.argv[2:], 'python': sys.executable,
               'held': os.environ.get('PIPLOCK_HELD')}, f)
