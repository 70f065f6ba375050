import * as assert from 'node:assert/strict';
import { isPipCommand, modeForCommand } from '../../src/lock/pip';

// [command line, runs pip?]
const TABLE: Array<[string[], boolean]> = [
  [['python', '-m', 'pip', 'install', 'x'], true],
  [['python3', '-m', 'pip', '--version'], true],
  [['python3.11', '-m', 'pip', 'install', '-r', 'req.txt'], true],
  [['/usr/bin/python3', '-m', 'pip', 'list'], true],
  [['C:\\Python311\\python.exe', '-m', 'pip', 'install', 'x'], true],
  [['PYTHON.EXE', '-m', 'pip'], true],
  [['py', '-3', '-m', 'pip', 'install', 'x'], true],
  [['py', '-3.11', '-m', 'pip'], true],
  [['pythonw', '-m', 'pip'], true],
  [['python3', '-u', '-B', '-m', 'pip', 'install'], true],
  [['python3', '-X', 'utf8', '-m', 'pip'], true],
  [['python3', '-W', 'ignore', '-m', 'pip'], true],
  [['python3', '-mpip', 'install'], true],
  // Short options combined, or with their value attached, as Python reads them.
  [['python3', '-Im', 'pip'], true],
  [['python3', '-I', '-m', 'pip'], true],
  [['python3', '-Esm', 'pip'], true],
  [['python3', '-Esmpip'], true],
  [['python3', '-X', 'dev', '-m', 'pip'], true],
  [['python3', '-Xdev', '-m', 'pip'], true],
  [['python3', '-Wignore', '-m', 'pip'], true],
  [['python3', '-I', '--check-hash-based-pycs', 'always', '-m', 'pip'], true],
  // Free-threaded, debug and other ABI-flagged CPython executables, and Debian's debug builds.
  [['python3.13t', '-m', 'pip', 'install', 'x'], true],
  [['python3.13td', '-m', 'pip'], true],
  [['python3.11d', '-m', 'pip'], true],
  [['python3.7m', '-m', 'pip'], true],
  [['python3-dbg', '-m', 'pip'], true],
  [['python3.11-dbg', '-m', 'pip'], true],
  [['C:\\Python313\\python3.13t.exe', '-m', 'pip'], true],
  // pip's launcher script run by an interpreter.
  [['python', 'venv/bin/pip', 'install', 'x'], true],
  [['python3', '/venv/bin/pip3.12', 'install'], true],
  [['python3.13t', '-m', 'pytest'], false],
  [['python3-config', '-m', 'pip'], false],
  [['python', 'venv/bin/pipx'], false],
  [['pip'], true],
  [['pip3', 'install', 'x'], true],
  [['pip3.11', 'install', 'x'], true],
  [['/venv/bin/pip', 'install', 'x'], true],
  [['C:\\venv\\Scripts\\pip.exe', 'install', 'x'], true],
  [['C:\\venv\\Scripts\\pip3.exe'], true],
  [['python3', 'pw_build/py/pw_build/pip_install_python_deps.py', '--gn-packages', 'x'], true],
  [['python', 'C:\\src\\pip_install_python_deps.py'], true],
  [['./pip_install_python_deps.py'], true],
  [['python3', '-m', 'pytest'], false],
  [['python3', '-m', 'pip_tools'], false],
  [['python3', '-m', 'pipx', 'install'], false],
  [['python3', '-c', 'import pip'], false],
  [['python3', '-c', 'pass', '-m', 'pip'], false],
  [['python3', '-Ic', 'pass', '-m', 'pip'], false],
  [['python3', '-Ec', '-m', 'pip'], false],
  // -X takes '-m' as its value: Python then runs a script named pip, as `python venv/bin/pip` does.
  [['python3', '-X', '-m', 'pip'], true],
  [['python3', '-Esm', 'pipx'], false],
  [['python3', '--', '-m', 'pip'], false],
  [['python3', '-', '-m', 'pip'], false],
  [['python3', 'script.py', '-m', 'pip'], false],
  [['python3', 'pip.py'], false],
  [['python3'], false],
  [['pipx', 'install', 'x'], false],
  [['pipenv', 'install'], false],
  [['node', '-m', 'pip'], false],
  [['gn', 'gen', 'out'], false],
  [['ninja', '-C', 'out'], false],
  [['sh', '-c', 'python3 -m pip install x'], false],
  [[], false],
];

describe('pip classification', function () {
  for (const [argv, pip] of TABLE) {
    it(`${JSON.stringify(argv)} ${pip ? 'is pip: exclusive' : 'is not pip: shared'}`, function () {
      assert.equal(isPipCommand(argv), pip);
      assert.equal(modeForCommand(argv), pip ? 'exclusive' : 'shared');
    });
  }
});
