import sys
print('to stdout')
sys.exit('a message for stderr')
