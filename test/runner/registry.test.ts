/**
 * The registry of holders and waiters (`<lockfile>.d/<pid>.json`) where
 * Windows differs from POSIX: open() has no O_NOFOLLOW there, and another
 * program's open handle on a file blocks a rename onto it.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Registration, readRegistry } from '../../src/runner/registry';
import { IS_WINDOWS, NODE, ROOT } from '../support/paths';
import { eventually, exited, tmpDir } from '../support/procs';
import { spawn } from 'node:child_process';

describe('registry on Windows', function () {
  before(function () {
    // POSIX: O_NOFOLLOW refuses a symlink (test/bad-input), and an open file never blocks a rename.
    if (!IS_WINDOWS) this.skip();
  });

  it('an entry behind a symlink is not read: the name is looked at before it is opened', function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const dir = `${lockfile}.d`;
    fs.mkdirSync(dir);
    const target = path.join(tmpDir(), 'elsewhere.json');
    fs.writeFileSync(
      target,
      JSON.stringify({ pid: process.pid, mode: 'shared', state: 'holding', command: ['x'], since: Date.now() }),
    );
    try {
      fs.symlinkSync(target, path.join(dir, `${process.pid}.json`), 'file');
    } catch (err) {
      // A symlink needs a privilege or developer mode; appveyor's account has it.
      console.log(`      pending: cannot make a symlink here (${(err as NodeJS.ErrnoException).code})`);
      this.skip();
    }
    let isLink = false;
    try {
      isLink = fs.lstatSync(path.join(dir, `${process.pid}.json`)).isSymbolicLink();
    } catch {
      // Wine's symlink to a Windows path is a Unix link that its own lstat cannot follow
    }
    if (!isLink) {
      console.log('      pending: this system makes no reparse point for a symlink (Wine)');
      this.skip();
    }
    assert.deepEqual(readRegistry(lockfile), [], 'the entry behind the symlink is ignored');
  });

  it('a rename onto an entry that another program holds open for a moment (an antivirus scanner) is retried', async function () {
    const lockfile = path.join(tmpDir(), 'pip.lock');
    const dir = `${lockfile}.d`;
    fs.mkdirSync(dir);
    const entry = path.join(dir, `${process.pid}.json`);
    fs.writeFileSync(entry, '{}');
    const opened = path.join(dir, 'opened');
    // Open without FILE_SHARE_DELETE (only READ | WRITE), for 400 ms: no rename may replace the file meanwhile.
    const code = `
      const koffi = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'koffi'))});
      const k = koffi.load('kernel32.dll');
      const open = k.func('__stdcall', 'CreateFileW', 'void *', ['str16', 'uint32_t', 'uint32_t', 'void *', 'uint32_t', 'uint32_t', 'void *']);
      const close = k.func('__stdcall', 'CloseHandle', 'int32_t', ['void *']);
      const h = open(${JSON.stringify(entry)}, 0x80000000, 0x3, null, 3, 0, null);
      require('fs').writeFileSync(${JSON.stringify(opened)}, '');
      setTimeout(() => close(h), 400);`;
    const holder = spawn(NODE, ['-e', code], { stdio: 'ignore' });
    try {
      assert.ok(await eventually(() => fs.existsSync(opened), 20_000), 'the other program has the entry open');
      const failures: string[] = [];
      new Registration(lockfile, 'shared', ['x'], (m) => failures.push(m)).set('waiting');
      assert.deepEqual(failures, [], 'the entry was written');
      assert.equal(JSON.parse(fs.readFileSync(entry, 'utf8')).state, 'waiting');
    } finally {
      await exited(holder);
    }
  });
});
