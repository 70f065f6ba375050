import sys
print(sorted(sys.modules))
print(sorted(sys.path_importer_cache) == sorted(set(sys.path_importer_cache)))
print(any('piplock' in m for m in sys.modules))
