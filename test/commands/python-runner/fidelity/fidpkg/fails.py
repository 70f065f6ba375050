raise LookupError('from a module run with -m')
