"""Imports the test package, uses every module of it, and writes OUT.

    use_pkg.py OUT [INPUT...]

Each INPUT must exist. Fails, as any action would, when the package is
missing or half installed.
"""
import json
import os
import sys

import e2epkg

out = sys.argv[1]
inputs = sys.argv[2:]
for path in inputs:
    with open(path) as f:
        f.read()
total = e2epkg.total()
if total != e2epkg.EXPECTED_TOTAL:
    sys.exit(f'e2epkg.total() is {total}, expected {e2epkg.EXPECTED_TOTAL}')
with open(out, 'w') as f:
    json.dump({'total': total, 'inputs': inputs, 'python': sys.executable,
               'cwd': os.getcwd()}, f)
