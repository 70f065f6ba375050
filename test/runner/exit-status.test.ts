import * as assert from 'node:assert/strict';
import { exitStatus } from '../../src/runner/child';

describe("the runner's exit status from its command's end", function () {
  it("is the command's exit code", function () {
    assert.equal(exitStatus(0, null), 0);
    assert.equal(exitStatus(3, null), 3);
    assert.equal(exitStatus(255, null), 255);
  });

  it('is 128 + N for a command killed by signal N, as a shell reports it', function () {
    assert.equal(exitStatus(null, 'SIGINT'), 130);
    assert.equal(exitStatus(null, 'SIGKILL'), 137);
    assert.equal(exitStatus(null, 'SIGTERM'), 143);
  });

  it('prefers the exit code when both are given', function () {
    assert.equal(exitStatus(0, 'SIGKILL'), 0);
  });

  it('is 1 when there is neither, or the signal has no number here', function () {
    assert.equal(exitStatus(null, null), 1);
    assert.equal(exitStatus(null, 'SIGNOSUCH' as NodeJS.Signals), 1);
  });
});
