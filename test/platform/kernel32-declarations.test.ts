import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/paths';

// Win32 BOOL is a 32-bit int whose "true" is any non-zero value, and koffi reads a C `bool` result from its low byte
// only: a BOOL declared as `bool` would read 2 or 256 as false. No Win32 call returns such a value under Wine or in a
// test, so this reads the declarations themselves, on every lane.
describe('kernel32 declarations', function () {
  it('declare no Win32 function with a C bool result or argument (BOOL is int32)', function () {
    const dir = path.join(ROOT, 'platform');
    const sources = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
    assert.ok(sources.includes('kernel32.ts'), 'the declarations are in platform/kernel32.ts');
    for (const file of sources) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      // a declaration such as raw('bool', ...), fn('bool', ...), func('__stdcall', 'X', 'bool', [...]) or ['bool', ...]
      const hits = text.split('\n').filter((line) => /\b(raw|fn|func)\(.*['"]bool['"]|\[[^\]]*['"]bool['"]/.test(line));
      assert.deepEqual(hits, [], `${file} declares a C bool`);
    }
  });
});
