import os
print(os.environ.get('FIDELITY_SETTING'), os.environ.get('FIDELITY_OTHER'))
print(os.getenv('HOME') is not None)
