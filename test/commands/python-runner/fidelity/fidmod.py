import sys
print('module', __name__, __spec__.name, __package__ == '', sys.argv[0].endswith('fidmod.py'), sys.argv[1:])
print(sys.path[0] == __import__('os').getcwd())
