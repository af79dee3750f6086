import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withoutExamples } from '../../../src/engine/subset';
import { MsifError } from '../../../src/common/errors';
import { InMemorySource } from './inMemorySource';

const source = new InMemorySource(Float32Array.from([0, 1, 2, 3, 4, 5]), Float32Array.from([10, 11, 12, 13, 14, 15]), [1]);

async function collect(s: ReturnType<typeof withoutExamples>, bs: number, idx?: number[]): Promise<{ indices: number[]; x: number[]; y: number[] }> {
  const out = { indices: [] as number[], x: [] as number[], y: [] as number[] };
  for await (const b of s.batches(bs, idx)) {
    out.indices.push(...b.indices);
    out.x.push(...b.x);
    out.y.push(...b.y);
  }
  return out;
}

test('withoutExamples drops the excluded examples and keeps dataset order and original indices', async () => {
  const view = withoutExamples(source, [1, 4]);
  assert.equal(view.count, 4);
  assert.deepEqual(await collect(view, 3), { indices: [0, 2, 3, 5], x: [0, 2, 3, 5], y: [10, 12, 13, 15] });
  // Positions index the view, not the dataset.
  assert.deepEqual((await collect(view, 2, [3, 0])).indices, [5, 0]);
});

test('withoutExamples rejects indices outside the dataset', () => {
  assert.throws(() => withoutExamples(source, [6]), MsifError);
  assert.throws(() => withoutExamples(source, [-1]), MsifError);
  assert.throws(() => withoutExamples(source, [1.5]), MsifError);
});
