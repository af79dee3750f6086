/**
 * Dataset examples for display (panels, hovers): views of records by index, lines of
 * records, and class names from the captions. JSON Lines datasets only; other formats
 * give id-only views. Free of the `vscode` module.
 */
import type { JsonlRecord } from '../../common/jsonl';
import type { DatasetSpec, WorkspaceConfig } from '../../common/workspaceConfig';
import type { DatasetRole, ExampleView } from '../../protocol/webviewProtocol';
import { LruCache } from '../cache/lruCache';
import { collectLabelNames, exampleViewFromRecord } from './exampleView';
import { JsonlIndexCache } from './jsonlIndex';
import type { JsonlIndex } from './jsonlIndex';

/** Class names are collected from at most this many records. */
export const LABEL_NAME_SAMPLE = 2000;

/** The JSON Lines file of a dataset, or undefined for IDX/NumPy datasets. */
export function jsonlPath(spec: DatasetSpec): string | undefined {
  return spec.format === 'jsonl' ? spec.path : undefined;
}

/** The dataset of a role in a config. */
export function datasetOf(config: WorkspaceConfig, role: DatasetRole): DatasetSpec {
  return role === 'pretrain' ? config.pretrain.train : config.finetune.test;
}

export class ExampleService {
  private readonly indexes = new JsonlIndexCache();
  private readonly names = new LruCache<string, Promise<Map<number, string>>>(16);

  /** The index of a JSON Lines file. */
  index(file: string): Promise<JsonlIndex> {
    return this.indexes.get(file);
  }

  /** Class names by label for a dataset file (empty for other formats or on error). */
  async labelNames(spec: DatasetSpec): Promise<Map<number, string>> {
    const file = jsonlPath(spec);
    if (!file) return new Map();
    try {
      const index = await this.index(file);
      const key = `${file}\0${index.size}\0${index.mtimeMs}`;
      let names = this.names.get(key);
      if (!names) {
        const count = Math.min(index.count, LABEL_NAME_SAMPLE);
        names = index.read(Array.from({ length: count }, (_, i) => i)).then((records) => collectLabelNames(records.values()));
        this.names.set(key, names);
        names.catch(() => this.names.delete(key));
      }
      return await names;
    } catch {
      return new Map();
    }
  }

  /** Views of the examples at `indices` of a config's dataset, in the order asked. */
  async examples(config: WorkspaceConfig, role: DatasetRole, indices: readonly number[]): Promise<ExampleView[]> {
    const spec = datasetOf(config, role);
    const file = jsonlPath(spec);
    if (!file) return indices.map((index) => ({ role, index, id: String(index) }));
    const index = await this.index(file);
    const [records, names] = await Promise.all([index.read(indices), this.labelNames(spec)]);
    const out: ExampleView[] = [];
    for (const i of indices) {
      const record: JsonlRecord | undefined = records.get(i);
      if (record) out.push(exampleViewFromRecord(role, i, index.lineOf(i), record, names));
    }
    return out;
  }

  /** The 1-based line of an example in its JSON Lines file. */
  async lineOf(config: WorkspaceConfig, role: DatasetRole, index: number): Promise<{ file: string; line: number } | undefined> {
    const file = jsonlPath(datasetOf(config, role));
    if (!file) return undefined;
    const line = (await this.index(file)).lineOf(index);
    return line === undefined ? undefined : { file, line };
  }
}
