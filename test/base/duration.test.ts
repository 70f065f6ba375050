import * as assert from 'node:assert/strict';
import { formatDuration, notADuration, parseDuration } from '../../src/base/duration';

describe('durations on the command line (--timeout, --notice-after)', function () {
  // [text, milliseconds]
  const ACCEPTED: Array<[string, number]> = [
    ['90', 90_000],
    ['0', 0],
    ['.5', 500],
    ['1.5', 1500],
    ['90s', 90_000],
    ['500ms', 500],
    ['1.5ms', 1.5],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    [' 3 s ', 3000],
    ['10 m', 600_000],
  ];
  for (const [text, ms] of ACCEPTED) {
    it(`reads ${JSON.stringify(text)} as ${ms} ms`, function () {
      assert.equal(parseDuration(text), ms);
    });
  }

  // A bare number is seconds; anything else that is not <number><unit> is refused, not guessed at.
  const REFUSED = [
    '',
    ' ',
    'soon',
    '-5',
    '+5',
    '1e3',
    '1.',
    'ms',
    '5 m s',
    '1M',
    '1S',
    '5min',
    '0x10',
    'Infinity',
    '1,5',
  ];
  for (const text of REFUSED) {
    it(`refuses ${JSON.stringify(text)}`, function () {
      assert.equal(parseDuration(text), undefined);
    });
  }

  it('says what a duration looks like, quoting the refused value as the reference runner quotes values', function () {
    assert.equal(notADuration('soon'), "'soon' is not a duration: use seconds, or a number with ms, s, m or h");
    assert.equal(notADuration("it's"), `"it's" is not a duration: use seconds, or a number with ms, s, m or h`);
    assert.equal(notADuration('a\nb'), '"a\\nb" is not a duration: use seconds, or a number with ms, s, m or h');
  });
});

describe('durations in messages', function () {
  // [milliseconds, text]: ms below a second, seconds with one decimal below a minute, then minutes and whole seconds.
  const TABLE: Array<[number, string]> = [
    [0, '0 ms'],
    [0.4, '0 ms'],
    [349.6, '350 ms'],
    [999.4, '999 ms'],
    [999.6, '1.0 s'],
    [1000, '1.0 s'],
    [2500, '2.5 s'],
    [59_900, '59.9 s'],
    [59_960, '1 min'],
    [60_000, '1 min'],
    [61_000, '1 min 1 s'],
    [89_999, '1 min 30 s'],
    [119_700, '2 min'],
    [185_000, '3 min 5 s'],
    [3_600_000, '60 min'],
  ];
  for (const [ms, text] of TABLE) {
    it(`writes ${ms} ms as ${JSON.stringify(text)}`, function () {
      assert.equal(formatDuration(ms), text);
    });
  }
});
