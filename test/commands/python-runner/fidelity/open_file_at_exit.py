# A file left open: the interpreter's end flushes and closes it.
f = open('left-open.out', 'w')
f.write('written at the end\n')
print('not closed')
