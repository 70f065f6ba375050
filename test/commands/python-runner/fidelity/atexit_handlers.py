import atexit, sys
atexit.register(print, 'first registered, runs last')
atexit.register(lambda: sys.stderr.write('second registered, runs first\n'))
print('main done')
