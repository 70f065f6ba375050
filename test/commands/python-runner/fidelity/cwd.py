import os, sys
print(os.getcwd())
print(sys.path[0])
print(os.path.exists('marker.txt'))
