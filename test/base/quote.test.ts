import * as assert from 'node:assert/strict';
import { quoteCommand, quoteValue } from '../../src/base/quote';

describe('a command line in a message reads as a POSIX shell would take it', function () {
  it('leaves plain words as they are', function () {
    assert.equal(
      quoteCommand(['python3', '-m', 'pip', 'install', '-r', 'req.txt']),
      'python3 -m pip install -r req.txt',
    );
    assert.equal(
      quoteCommand(['/usr/bin/env', 'A=b,c', 'x@y', '50%', 'a+b:c', 'C:\\venv\\python.exe']),
      '/usr/bin/env A=b,c x@y 50% a+b:c C:\\venv\\python.exe',
    );
  });

  it('single-quotes words with spaces or shell characters', function () {
    assert.equal(quoteCommand(['echo', 'a b', '$HOME', '*', 'a;b', '~', 'é']), "echo 'a b' '$HOME' '*' 'a;b' '~' 'é'");
  });

  it('spells an empty argument as two quotes, so that it is not lost', function () {
    assert.equal(quoteCommand(['printf', '%s', '']), "printf %s ''");
  });

  it("closes the quotes around a single quote and puts it in double quotes: it's -> 'it'\"'\"'s'", function () {
    assert.equal(quoteCommand(["it's"]), `'it'"'"'s'`);
  });

  it('gives nothing for no arguments', function () {
    assert.equal(quoteCommand([]), '');
  });
});

describe("a value in a message is quoted as Python's repr quotes a str", function () {
  it('in single quotes when it has none and no control characters', function () {
    assert.equal(quoteValue('x'), "'x'");
    assert.equal(quoteValue('a b "c"'), `'a b "c"'`);
    assert.equal(quoteValue('ünïcødé'), "'ünïcødé'");
    assert.equal(quoteValue(''), "''");
  });

  it('in double quotes when it has a single quote', function () {
    assert.equal(quoteValue("it's"), `"it's"`);
  });

  it('with control characters escaped, so that the message stays on one line', function () {
    assert.equal(quoteValue('a\nb'), '"a\\nb"');
    assert.equal(quoteValue('a\tb'), '"a\\tb"');
    assert.equal(quoteValue('a\r\nb'), '"a\\r\\nb"');
  });
});
