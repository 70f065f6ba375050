import atexit
def fail():
    raise RuntimeError('in an atexit handler')
atexit.register(fail)
print('main done')
