import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { GnPaths } from '../../../src/commands/python-runner/labels';
import { parseBuildStatements, targetInfo } from '../../../src/commands/python-runner/ninja';
import { makeNinjaTree, type NinjaTree } from './fixtures';

describe('python-runner target lookup in .ninja files', () => {
  let tree: NinjaTree;
  let paths: GnPaths;
  before(() => {
    tree = makeNinjaTree();
    paths = { root: tree.root, build: tree.build, cwd: path.join(tree.root, 'app'), toolchain: '' };
  });
  after(() => tree.cleanup());

  it('finds the link output of an executable, choosing .elf over .map', () => {
    const t = targetInfo(paths, '//app:firmware');
    assert.equal(t.generated, true);
    assert.equal(t.artifact, 'obj/app/bin/firmware.elf');
  });

  it('lists the object files of an executable, with and without per-source variables', () => {
    assert.deepEqual(targetInfo(paths, ':firmware').objectFiles, [
      'obj/app/firmware.main.cc.o',
      'obj/app/firmware.util.c.o',
    ]);
  });

  it('reads a file with CRLF line ends as one with LF', () => {
    assert.equal(targetInfo(paths, ':crlf').artifact, 'obj/app/bin/firmware.elf');
  });

  for (const [name, kind] of [
    ['drivers', 'phony (newer GN)'],
    ['drivers_old', '.stamp (older GN)'],
  ] as const) {
    it(`gives a source set marked done by ${kind} objects and no artifact`, () => {
      const t = targetInfo(paths, `//app:${name}`);
      assert.equal(t.generated, true);
      assert.equal(t.artifact, undefined);
      assert.deepEqual(t.objectFiles, [`obj/app/${name}.uart.c.o`, `obj/app/${name}.spi.c.o`]);
    });
  }

  it('takes an empty .ninja file as generated with nothing in it', () => {
    assert.deepEqual(
      { ...targetInfo(paths, ':empty'), label: undefined },
      { label: undefined, generated: true, artifact: undefined, objectFiles: [] },
    );
  });

  it('finds an action in toolchain.ninja through its stamp, or a group through its phony, when there is one output', () => {
    assert.equal(targetInfo(paths, ':gen').artifact, 'gen/app/gen.h');
    assert.equal(targetInfo(paths, '//app:alias').artifact, './gen/app/./alias.txt');
    assert.equal(targetInfo(paths, '//:root_action').artifact, 'gen/root.txt');
    for (const name of ['pair', 'all', 'nothing', 'no_such_target']) {
      const t = targetInfo(paths, `:${name}`);
      assert.equal(t.generated, true, name);
      assert.equal(t.artifact, undefined, name);
    }
  });

  it('looks in the directory of the current toolchain, or of an explicit one', () => {
    const arm = { ...paths, toolchain: '//build:arm' };
    assert.equal(targetInfo(arm, ':firmware').artifact, 'arm/obj/app/bin/firmware.elf');
    assert.equal(targetInfo(arm, ':gen').artifact, 'arm/gen/app/gen.h');
    assert.equal(targetInfo(paths, ':gen(//build:arm)').artifact, 'arm/gen/app/gen.h');
    assert.equal(
      targetInfo(arm, ':gen(//build:default)').generated,
      false,
      'an explicit default toolchain is looked up by its name, as python_runner.py does',
    );
  });

  it('says "not generated" for a target or a toolchain GN wrote nothing for', () => {
    assert.equal(targetInfo({ ...paths, build: path.join(tree.root, 'nowhere') }, ':x').generated, false);
    const t = targetInfo(paths, '//app:drivers(//not/a:toolchain)');
    assert.equal(t.generated, false);
    assert.equal(t.artifact, undefined);
  });

  it('refuses a target with two link steps, and a link step whose main output is ambiguous', () => {
    assert.throws(() => targetInfo(paths, ':twolinks'), /^ExpressionError: Multiple artifacts for \/\/app:twolinks!$/);
    assert.throws(
      () => targetInfo(paths, ':ambiguous'),
      /Expected 1, but found 2 artifacts, after filtering for extensions '', '.elf'/,
    );
  });

  it('parses build statements: phony ones skipped, variables only when indented, the last ": " ending the outputs', () => {
    const lines = [
      'build a.o: cc a.c\n',
      '  x = 1=2\n',
      'y = 3\n',
      'build p: phony a.o\n',
      '  z = 4\n',
      'build b.o: cc b$:c:d.c\n',
      'build c.o:\n',
    ];
    const got = parseBuildStatements(lines).map((s) => [s.output, Object.fromEntries(s.variables)]);
    assert.deepEqual(got, [
      ['a.o', { x: '1=2' }],
      ['b.o', {}],
      ['c.o', {}],
    ]);
  });
});
