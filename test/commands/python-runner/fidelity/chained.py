try:
    {}['missing']
except KeyError as e:
    raise RuntimeError('while handling') from e
