"""Writes the wheel of the test package e2epkg, with the standard library only.

    make_wheel.py OUT_DIR MODULES FUNCTIONS

e2epkg has MODULES modules of FUNCTIONS functions each; its __init__ imports
them all, and total() calls into every one. A wheel is a zip file with the
package and a .dist-info directory whose RECORD lists every file's hash.
"""
import base64
import hashlib
import os
import sys
import zipfile


def module_text(index, functions):
    lines = [f'"""Module {index} of e2epkg."""', f'VALUE = {index}', '']
    for j in range(functions):
        lines += [f'def f{j}(x):', f'    """Function {j} of module {index}."""',
                  f'    return x * {j} + {index}', '']
    lines.append(f'TABLE = {list(range(functions))!r}')
    return '\n'.join(lines) + '\n'


def main(out_dir, modules, functions):
    name, version = 'e2epkg', '1.0'
    files = {}
    for i in range(modules):
        files[f'{name}/m{i:04d}.py'] = module_text(i, functions)
    # total() = sum over modules of (VALUE + f1(1)) = sum of (i + 1 + i).
    expected = sum(2 * i + 1 for i in range(modules)) if functions > 1 else None
    imports = '\n'.join(f'from . import m{i:04d}' for i in range(modules))
    files[f'{name}/__init__.py'] = (
        f'"""A package with {modules} modules."""\n{imports}\n\n'
        f'EXPECTED_TOTAL = {expected}\n\n'
        'def total():\n'
        f'    mods = [globals()["m%04d" % i] for i in range({modules})]\n'
        '    return sum(m.VALUE + m.f1(1) for m in mods)\n')
    info = f'{name}-{version}.dist-info'
    files[f'{info}/METADATA'] = (
        f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n')
    files[f'{info}/WHEEL'] = ('Wheel-Version: 1.0\nGenerator: piplock-e2e\n'
                              'Root-Is-Purelib: true\nTag: py3-none-any\n')
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(
            hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append(f'{path},sha256={digest},{len(data)}')
    record.append(f'{info}/RECORD,,')
    files[f'{info}/RECORD'] = '\n'.join(record) + '\n'

    os.makedirs(out_dir, exist_ok=True)
    wheel = os.path.join(out_dir, f'{name}-{version}-py3-none-any.whl')
    with zipfile.ZipFile(wheel, 'w', zipfile.ZIP_DEFLATED) as z:
        for path, text in files.items():
            z.writestr(path, text)
    print(wheel)


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
