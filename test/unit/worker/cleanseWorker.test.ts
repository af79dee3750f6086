/**
 * Data cleansing, writing the filtered set and the similarity comparison through the
 * worker bundle (WorkerClient over real IPC, as the extension runs them): progress that
 * rises to the end, cancellation mid-run, a worker that goes on answering, and errors.
 * Needs `npm run build` first.
 */
import * as assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isCancelled, MsifError } from '../../../src/common/errors';
import type { JobProgress } from '../../../src/protocol/progress';
import { initBackend } from '../../../src/worker/backend';
import { runTrain } from '../../../src/worker/jobs';
import { WorkerClient } from '../../../src/worker/workerClient';
import { makeCleanseWorkspace } from '../../fixtures/cleanseWorkspace';

const WORKER = path.resolve(__dirname, '../../../dist/worker.js');

describe('cleanse and similarity jobs in dist/worker.js', () => {
  let tmp: string;
  let config: string;
  let other: string;
  let client: WorkerClient;

  before(async () => {
    assert.ok(existsSync(WORKER), `${WORKER} is missing: run npm run build first`);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-cleanse-worker-'));
    await initBackend('wasm');
    // Small and quick: 120 pretraining examples, 40 epochs per stage.
    config = (await makeCleanseWorkspace(path.join(tmp, 'a'), { seed: 3, pretrainCount: 120, finetuneCount: 80, testCount: 60, epochs: 40 })).msifPath;
    other = (await makeCleanseWorkspace(path.join(tmp, 'b'), { seed: 4, pretrainCount: 120, finetuneCount: 40, testCount: 60, epochs: 40 })).msifPath;
    await runTrain(config);
    await runTrain(other);
    const saved = process.env['MSIF_BACKEND'];
    process.env['MSIF_BACKEND'] = 'wasm';
    try {
      client = await WorkerClient.start({ workerPath: WORKER });
    } finally {
      if (saved === undefined) delete process.env['MSIF_BACKEND'];
      else process.env['MSIF_BACKEND'] = saved;
    }
  });

  after(async () => {
    await client?.dispose();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  test('cleanse reports progress from the baseline to the last random arm', async () => {
    const progress: JobProgress[] = [];
    const r = await client.cleanse(config, { percent: 10, randomTrials: 2 }, { onProgress: (p) => progress.push(p) });
    assert.equal(r.kind, 'cleanse');
    assert.equal(r.removedCount, 12);
    assert.equal(r.arms.random.length, 2);
    assert.deepEqual(r.settings.initialization, 'saved-weights');
    assert.ok(progress.length >= 3, `${progress.length} progress reports`);
    const fractions = progress.map((p) => p.fraction ?? 0);
    assert.ok(fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= (fractions[i - 1] as number) - 1e-9)), `fractions rise: ${fractions.join(' ')}`);
    // Four arms share 90% after the 10% of scoring: the last random arm runs from 77.5% (progress is throttled, so the last report may come before 100%).
    assert.ok((fractions.at(-1) as number) > 0.775, `last fraction ${fractions.at(-1)}`);
    assert.ok(progress.some((p) => /^score/.test(p.phase)));
    assert.ok(progress.some((p) => /random removal 2\/2/.test(p.message)));
  });

  test('by test, without random arms: no held-out split, the summary says the numbers are optimistic', async () => {
    const r = await client.cleanse(config, { percent: 10, by: 'test', randomTrials: 0 });
    assert.equal(r.by, 'test');
    assert.equal(r.heldout, undefined);
    assert.equal(r.finetuneTrainCount, 80);
    assert.equal(r.scoring.count, 60);
    assert.deepEqual(r.arms.random, []);
    assert.deepEqual(r.randomSummary, { accuracyChange: null, lossChange: null });
    // Scored on the test set: the measured scoring-set change is the test loss change.
    assert.equal(r.arms.cleansed.scoringLossChange, r.arms.cleansed.change.loss);
    assert.match(r.summary, /optimistic/);
    assert.doesNotMatch(r.summary, /at random/);
  });

  test('a cancelled cleanse rejects as cancelled, and the worker answers the next job', async () => {
    const controller = new AbortController();
    const job = client.cleanse(config, { percent: 10, randomTrials: 5 }, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'retrain') controller.abort();
      },
    });
    await assert.rejects(job, (e: unknown) => isCancelled(e));
    const written = await client.writeFiltered(config, { exclude: [0, 5], out: path.join(tmp, 'f.jsonl') });
    assert.deepEqual(written, { out: path.join(tmp, 'f.jsonl'), written: 118, excluded: 2, mode: 'lines' });
  });

  test('writeFiltered refuses a workspace file with a usage error naming it', async () => {
    const target = path.join(tmp, 'a', 'data', 'pretrain.jsonl');
    const before = await fs.readFile(target);
    await assert.rejects(
      client.writeFiltered(config, { exclude: [1], out: target, overwrite: true }),
      (e: unknown) => e instanceof MsifError && e.code === 'usage' && /refusing to write the filtered dataset over .*pretrain\.jsonl/.test(e.message),
    );
    assert.deepEqual(await fs.readFile(target), before);
  });

  test('similarity traces both workspaces', async () => {
    const progress: JobProgress[] = [];
    const r = await client.similarity(config, other, { test: 'all' }, { onProgress: (p) => progress.push(p) });
    assert.equal(r.a.config, config);
    assert.equal(r.b.config, other);
    assert.equal(r.a.finetuneTrainCount, 80);
    assert.equal(r.b.finetuneTrainCount, 40);
    assert.equal(r.a.testCount, 60);
    assert.ok(progress.some((p) => p.phase.startsWith('A ')) && progress.some((p) => p.phase.startsWith('B ')));
  });
});
