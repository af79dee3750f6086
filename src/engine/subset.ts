/**
 * A view of an example source without some of its examples (leave-one-out retraining,
 * data cleansing): the training objective over Z \ {z_i} is the mean over this view.
 */
import { MsifError } from '../common/errors';
import type { ExampleSource, HostBatch } from './data';

/**
 * The examples of `source` except those at `excluded` (dataset indices), in dataset order.
 * Positions in the view are 0 … count−1; batches report the original dataset indices.
 */
export function withoutExamples(source: ExampleSource, excluded: Iterable<number>): ExampleSource {
  const drop = new Set<number>();
  for (const i of excluded) {
    if (!Number.isInteger(i) || i < 0 || i >= source.count) {
      throw new MsifError('usage', `cannot exclude example ${i}: the dataset has ${source.count} examples`, { expected: `an index in 0…${source.count - 1}` });
    }
    drop.add(i);
  }
  const kept: number[] = [];
  for (let i = 0; i < source.count; i++) if (!drop.has(i)) kept.push(i);
  return {
    count: kept.length,
    exampleShape: source.exampleShape,
    labelShape: source.labelShape,
    batches(batchSize: number, indices?: readonly number[]): AsyncIterable<HostBatch> {
      const original = indices === undefined ? kept : indices.map((p) => {
        const o = kept[p];
        if (o === undefined) throw new MsifError('usage', `position ${p} is outside the ${kept.length} kept examples`);
        return o;
      });
      return source.batches(batchSize, original);
    },
  };
}
