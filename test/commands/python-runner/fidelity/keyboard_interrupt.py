import atexit
atexit.register(print, 'atexit ran')
print('interrupted')
raise KeyboardInterrupt
