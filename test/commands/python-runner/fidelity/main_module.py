"""The docstring of the action."""
import sys
print(__name__, __file__, __spec__, __package__, __doc__)
print(type(__loader__).__name__, __loader__.name, __loader__.path)
print(sorted(k for k in globals()))
print(sys.modules['__main__'] is sys.modules[__name__], sys.modules['__main__'].__dict__ is globals())
