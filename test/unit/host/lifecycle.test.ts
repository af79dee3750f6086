import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Disposable, disposeAll, Emitter, toDisposable } from '../../../src/host/lifecycle';

class Owner extends Disposable {
  register(fn: () => void): void {
    this._register(toDisposable(fn));
  }
  push(fn: () => void): void {
    this._disposables.push(toDisposable(fn));
  }
}

describe('Disposable', () => {
  test('disposes what it owns once, in reverse order', () => {
    const order: number[] = [];
    const o = new Owner();
    o.register(() => order.push(1));
    o.push(() => order.push(2));
    o.register(() => order.push(3));
    o.dispose();
    o.dispose();
    assert.deepEqual(order, [3, 2, 1]);
  });
  test('registering on a disposed owner disposes at once', () => {
    const o = new Owner();
    o.dispose();
    let disposed = false;
    o.register(() => (disposed = true));
    assert.equal(disposed, true);
  });
  test('disposeAll disposes everything even when one throws, then rethrows', () => {
    const seen: string[] = [];
    assert.throws(
      () =>
        disposeAll([
          toDisposable(() => seen.push('a')),
          toDisposable(() => {
            throw new Error('b');
          }),
          toDisposable(() => seen.push('c')),
        ]),
      /b/,
    );
    assert.deepEqual(seen, ['c', 'a']);
  });
});

test('Emitter delivers to subscribers until they unsubscribe', () => {
  const e = new Emitter<number>();
  const got: number[] = [];
  const sub = e.event((v) => got.push(v));
  e.fire(1);
  sub.dispose();
  e.fire(2);
  assert.deepEqual(got, [1]);
});
