import sys
print('package main', __name__, __spec__.name, __package__, sys.argv[1:])
raise SystemExit(5)
