import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InFlight, LruCache } from '../../../src/host/cache/lruCache';

describe('LruCache', () => {
  test('evicts the least recently used entry beyond capacity', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    assert.equal(c.get('a'), 1); // a is now the most recent
    c.set('c', 3);
    assert.equal(c.has('b'), false);
    assert.deepEqual(c.keys(), ['a', 'c']);
  });

  test('peek does not refresh recency; set replaces and refreshes', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    assert.equal(c.peek('a'), 1);
    c.set('c', 3);
    assert.equal(c.has('a'), false);
    c.set('b', 20);
    c.set('d', 4);
    assert.deepEqual(c.keys(), ['b', 'd']);
    assert.equal(c.get('b'), 20);
  });

  test('stores undefined-valued entries distinctly from missing ones', () => {
    const c = new LruCache<string, number | undefined>(3);
    c.set('u', undefined);
    assert.equal(c.has('u'), true);
    assert.equal(c.get('u'), undefined);
    assert.equal(c.size, 1);
  });

  test('rejects a non-positive capacity', () => {
    assert.throws(() => new LruCache(0), RangeError);
    assert.throws(() => new LruCache(1.5), RangeError);
  });
});

describe('InFlight', () => {
  test('joins concurrent computations of the same key and forgets them when settled', async () => {
    const f = new InFlight<string, number>();
    let runs = 0;
    let release!: (v: number) => void;
    const compute = (): Promise<number> => {
      runs++;
      return new Promise((r) => (release = r));
    };
    const a = f.run('k', compute);
    const b = f.run('k', compute);
    assert.equal(a, b);
    assert.equal(runs, 1);
    release(7);
    assert.deepEqual(await Promise.all([a, b]), [7, 7]);
    assert.equal(f.size, 0);
    await f.run('k', async () => 8);
    assert.equal(runs, 1);
  });

  test('a failed computation is not kept', async () => {
    const f = new InFlight<string, number>();
    await assert.rejects(f.run('k', async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await f.run('k', async () => 3), 3);
  });
});
