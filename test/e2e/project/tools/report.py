"""Run as a module: writes where it ran and what it was given, after using the package."""
import json
import os
import sys

import e2epkg

with open(sys.argv[1], 'w') as f:
    json.dump({'cwd': os.getcwd(), 'greeting': os.environ.get('E2E_GREETING'),
               'total': e2epkg.total()}, f)
