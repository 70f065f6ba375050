"""GN's stamp tool, run with the Python that runs the build's actions:

    stamp.py OUT

Creates OUT, or updates its time, as `touch` does; Windows has no touch.
"""
import os
import sys

with open(sys.argv[1], 'a'):
    pass
os.utime(sys.argv[1])
