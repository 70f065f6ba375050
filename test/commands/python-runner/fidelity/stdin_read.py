import sys
data = sys.stdin.read()
print('read %d characters from stdin' % len(data))
