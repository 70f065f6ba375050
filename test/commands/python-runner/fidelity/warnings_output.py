import warnings
warnings.warn('a user warning')
warnings.warn('deprecated', DeprecationWarning)
print('after the warnings')
