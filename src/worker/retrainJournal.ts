/**
 * The leave-one-out check's journal on disk (src/engine/validate/leaveOneOut.ts,
 * `RetrainJournal`): one file per finished retraining run under
 * `<cache dir>/validate-<key>/`, where the key is a SHA-256 of everything the runs depend
 * on (ihvpCacheKey's inputs: model and dataset file contents, case, test points, backend;
 * here with the influence settings, the retraining options and the seed). A stopped
 * `msif validate` or `npm run bench:paper` then resumes at the run it stopped in, and a
 * repeated one reads every run back.
 *
 * Same place and switch as the solve cache (./ihvpCache.ts): `MSIF_CACHE_DIR`,
 * `MSIF_CACHE=off`. Entries are written atomically; a damaged one is run again.
 */
import * as path from 'node:path';
import type { RetrainJournal } from '../engine/validate/leaveOneOut';
import type { RetrainRun, StageRun } from '../engine/validate/retrainStages';
import { base64ToF64, diskEntry, f64ToBase64 } from './ihvpCache';
import type { CacheEvent } from './ihvpCache';

const FORMAT = 'msif-retrain-2';

/** The journal in `dir` (a directory of its own per key); `onEvent` hears reads and writes. */
export function diskRetrainJournal(dir: string, onEvent?: (event: CacheEvent, detail: string) => void): RetrainJournal {
  const entry = (key: string) => {
    if (!/^[a-z0-9-]+$/.test(key)) throw new Error(`retrain journal: bad run key ${key}`);
    return diskEntry(path.join(dir, `${key}.json`), encodeRun, decodeRun, onEvent);
  };
  return {
    load: (key) => entry(key).load(),
    store: (key, run) => entry(key).store(run),
  };
}

function encodeRun(r: RetrainRun): string {
  return JSON.stringify({
    format: FORMAT,
    testLoss: r.testLoss,
    testLossChange: r.testLossChange,
    pretrain: r.pretrain,
    finetune: r.finetune,
    end: { pretrain: f64ToBase64(r.end.pretrain), finetune: f64ToBase64(r.end.finetune) },
  });
}

function decodeRun(text: string): RetrainRun | undefined {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const end = o['end'] as { pretrain?: unknown; finetune?: unknown } | undefined;
    if (o['format'] !== FORMAT || typeof o['testLoss'] !== 'number' || typeof o['testLossChange'] !== 'number' || typeof end?.pretrain !== 'string' || typeof end.finetune !== 'string') return undefined;
    const pretrain = stageRun(o['pretrain']);
    const finetune = stageRun(o['finetune']);
    if (!pretrain || !finetune) return undefined;
    return { testLoss: o['testLoss'], testLossChange: o['testLossChange'], pretrain, finetune, end: { pretrain: base64ToF64(end.pretrain), finetune: base64ToF64(end.finetune) } };
  } catch {
    return undefined;
  }
}

function stageRun(v: unknown): StageRun | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Record<string, unknown>;
  const numbers = ['iterations', 'evaluations', 'initialGradientNorm', 'maxGradientNorm', 'gradientNorm', 'objective'] as const;
  if (!numbers.every((k) => typeof s[k] === 'number') || typeof s['converged'] !== 'boolean' || typeof s['stop'] !== 'string') return undefined;
  return s as unknown as StageRun;
}
