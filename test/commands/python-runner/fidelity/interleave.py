import sys
# Buffering: stdout is block-buffered on a pipe or file, stderr line-buffered.
for i in range(5):
    print('out', i)
    print('err', i, file=sys.stderr)
    sys.stderr.write('partial ')
print('end')
