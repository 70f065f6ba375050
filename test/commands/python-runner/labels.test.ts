import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  formatLabel,
  makeGnPaths,
  parseLabel,
  resolveGnPath,
  toolchainName,
} from '../../../src/commands/python-runner/labels';
import type { GnPaths } from '../../../src/commands/python-runner/labels';

// Label arithmetic is pure, so both path flavours are checked on any host.
for (const api of [path.posix, path.win32]) {
  const flavour = api === path.win32 ? 'win32' : 'posix';
  const root = api === path.win32 ? 'C:\\src\\proj' : '/src/proj';
  const j = (...p: string[]) => api.join(root, ...p);
  const inTool: GnPaths = { root, build: j('out'), cwd: j('pkg', 'mod'), toolchain: '//build/tc:host_clang', api };
  const inDefault: GnPaths = { ...inTool, toolchain: '' };
  const cases: [GnPaths, string][] = [
    [inTool, 'host_clang'],
    [inDefault, ''],
  ];

  describe(`python-runner labels (${flavour} paths)`, () => {
    // [label, name, directory relative to root, relativeDir as written in messages]
    const table: [string, string, string[], string][] = [
      ['//', '', [], '.'],
      ['//a/b:c', 'c', ['a', 'b'], 'a/b'],
      ['//a/b', 'b', ['a', 'b'], 'a/b'],
      [':t', 't', ['pkg', 'mod'], 'pkg/mod'],
      ['t', 't', ['pkg', 'mod', 't'], 'pkg/mod/t'],
      ['sub/dir:t', 't', ['pkg', 'mod', 'sub', 'dir'], 'pkg/mod/sub/dir'],
      ['..:t', 't', ['pkg'], 'pkg'],
      ['../..:t', 't', [], '.'],
      ['//a/../b:t', 't', ['b'], 'b'],
    ];
    for (const [text, name, dirParts, rel] of table) {
      it(`parses '${text}' in the default and in another toolchain`, () => {
        for (const [paths, tc] of cases) {
          const label = parseLabel(paths, text);
          assert.equal(label.name, name);
          assert.equal(label.dir, j(...dirParts));
          assert.equal(label.relativeDir, rel);
          assert.equal(toolchainName(label), tc);
          assert.equal(label.outDir, j('out', tc, 'obj', ...dirParts));
          assert.equal(label.genDir, j('out', tc, 'gen', ...dirParts));
        }
      });
    }

    it('takes an explicit (toolchain) over the current one', () => {
      const label = parseLabel(inDefault, '//a:b(//build/tc:arm)');
      assert.equal(toolchainName(label), 'arm');
      assert.equal(label.outDir, j('out', 'arm', 'obj', 'a'));
      assert.equal(formatLabel(label), '//a:b(//build/tc:arm)');
    });

    it('writes labels back as python_runner.py does, toolchain of the toolchain included', () => {
      assert.equal(formatLabel(parseLabel(inDefault, ':x')), '//pkg/mod:x');
      assert.equal(formatLabel(parseLabel(inTool, ':x')), '//pkg/mod:x(//build/tc:host_clang)');
      assert.equal(formatLabel(parseLabel(inTool, '//:x(//t:other)')), '//.:x(//t:other(//build/tc:host_clang))');
    });

    it('refuses labels outside the source root and a ")" without "("', () => {
      assert.throws(() => parseLabel(inDefault, '//../elsewhere:x'), /outside the GN root/);
      assert.throws(() => parseLabel(inDefault, '../../..:x'), /outside the GN root/);
      assert.throws(() => parseLabel(inDefault, '//a:b)'), /Malformed label/);
    });

    it('resolves GN paths: "//" from the root, anything else from the BUILD file directory', () => {
      assert.equal(resolveGnPath(inTool, '//'), root);
      assert.equal(resolveGnPath(inTool, '//x/y'), j('x', 'y'));
      assert.equal(resolveGnPath(inTool, '//x/../z'), j('z'));
      assert.equal(resolveGnPath(inTool, ''), j('pkg', 'mod'));
      assert.equal(resolveGnPath(inTool, 'q'), j('pkg', 'mod', 'q'));
      assert.equal(resolveGnPath(inTool, '..'), j('pkg'));
    });
  });
}

describe('python-runner GN paths from the command line', () => {
  it('makes --gn-root and --current-path absolute from the build directory; the default toolchain counts as none', () => {
    const p = makeGnPaths('../..', '/w/proj/out/debug', '../../lib', '//tc:default', '//tc:default', path.posix);
    assert.deepEqual(
      { root: p.root, build: p.build, cwd: p.cwd, toolchain: p.toolchain },
      { root: '/w/proj', build: '/w/proj/out/debug', cwd: '/w/proj/lib', toolchain: '' },
    );
    assert.equal(makeGnPaths('..', '/w/out', '..', '//tc:default', '//tc:arm', path.posix).toolchain, '//tc:arm');
  });
});
