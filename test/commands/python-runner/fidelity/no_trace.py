import os, sys
names = [k for k in dir(__import__('builtins')) if 'piplock' in k.lower()]
print(names)
print([p for p in sys.path if 'gn' == os.path.basename(p)])
print(sorted(k for k in os.environ if 'PIPLOCK' in k and k != 'PIPLOCK_HELD'))
print('PIPLOCK_HELD' in os.environ)
