import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RestartPolicy } from '../../../src/host/restartPolicy';

describe('RestartPolicy', () => {
  test('asks after maxCrashes within the window, not before', () => {
    const p = new RestartPolicy(5, 180_000);
    for (let i = 0; i < 4; i++) p.recordCrash(i * 1000);
    assert.equal(p.mustAsk(5000), false);
    p.recordCrash(5000);
    assert.equal(p.mustAsk(5000), true);
    assert.equal(p.recentCrashes(5000), 5);
  });
  test('crashes older than the window are forgotten', () => {
    const p = new RestartPolicy(2, 1000);
    p.recordCrash(0);
    p.recordCrash(500);
    assert.equal(p.mustAsk(900), true);
    assert.equal(p.mustAsk(1200), false); // the crash at 0 left the window
  });
  test('reset forgets every crash', () => {
    const p = new RestartPolicy(1, 1000);
    p.recordCrash(0);
    p.reset();
    assert.equal(p.mustAsk(1), false);
  });
});
