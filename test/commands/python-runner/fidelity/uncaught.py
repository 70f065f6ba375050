def inner():
    raise ValueError('bad value')
print('before')
inner()
