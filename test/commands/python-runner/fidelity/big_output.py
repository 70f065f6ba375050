import sys
for i in range(20000):
    print('line %05d of a large output' % i)
    if i % 997 == 0:
        print('err line', i, file=sys.stderr)
