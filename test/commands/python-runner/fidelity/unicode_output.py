import sys
print('ünïcødé ✓ 日本語')
print('stderr ✓', file=sys.stderr)
print(sys.getfilesystemencoding(), sys.stdout.encoding)
