/**
 * The one entry point for datasets: picks the loader for a workspace's {@link DatasetSpec}.
 */
import { openArrayDataset } from './arrayDataset';
import { throwIfAborted } from './dataset';
import { parseIdx } from './idxDataset';
import { openJsonlDataset } from './jsonlDataset';
import { parseNpy } from './npyDataset';
import type { DatasetSpec } from '../../common/workspaceConfig';
import type { Dataset, DatasetExpectation, DatasetOptions } from './dataset';

/**
 * Opens and validates the dataset `spec` for a model described by `expect`: a JSON Lines
 * file (contract §3), or IDX / NumPy input and label files. Every example is checked on
 * open; examples are read from disk again one batch at a time.
 *
 * @throws MsifError (`dataset`) naming the file, the line (JSON Lines) or row (IDX, NumPy),
 *   the field and what was expected: missing file, malformed record, input shape other than
 *   `expect.inputShape`, label that does not fit `expect.loss`, NaN or ±Infinity, empty
 *   dataset. CancelledError when `opts.signal` fires.
 */
export async function openDataset(spec: DatasetSpec, expect: DatasetExpectation, opts: DatasetOptions = {}): Promise<Dataset> {
  throwIfAborted(opts.signal, `loading ${expect.role}`);
  switch (spec.format) {
    case 'jsonl':
      return openJsonlDataset(spec.path, expect, opts);
    case 'idx':
      return openArrayDataset(spec, parseIdx, expect, opts);
    case 'npy':
      return openArrayDataset(spec, parseNpy, expect, opts);
  }
}
