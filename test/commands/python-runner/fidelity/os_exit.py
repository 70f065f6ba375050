import os
print('buffered, never flushed')
os._exit(7)
