import sys
print(sys.argv)
print(sys.orig_argv[1:])
print(sys.executable == sys.orig_argv[0])
