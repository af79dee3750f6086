/**
 * The leave-one-out check through the worker process (dist/worker.js over IPC), as the
 * extension runs it: progress through every phase up to the retraining runs, the report
 * back, and cancellation reaching the L-BFGS loop. Needs `npm run build` first.
 */
import * as assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isCancelled } from '../../src/common/errors';
import type { JobProgress } from '../../src/protocol/progress';
import { initBackend } from '../../src/worker/backend';
import { WorkerClient } from '../../src/worker/workerClient';
import { buildTinyWorkspace } from '../fixtures/tinyWorkspaces';

const WORKER = path.resolve(__dirname, '../../dist/worker.js');

describe('validate in the worker', () => {
  let root: string;
  let config: string;
  let client: WorkerClient;

  before(async () => {
    assert.ok(existsSync(WORKER), `${WORKER} is missing: run npm run build first`);
    await initBackend('wasm');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-validate-worker-'));
    config = (await buildTinyWorkspace(root, { kind: 'mlp', case: 'fixed', seed: 1 })).msifPath;
    client = await WorkerClient.start({ workerPath: WORKER, backend: 'wasm' });
  });

  after(async () => {
    await client.dispose();
    await fs.rm(root, { recursive: true, force: true });
  });

  test('reports progress through scoring, the baseline and every retraining run, then the report', async () => {
    const seen: JobProgress[] = [];
    const report = await client.validate(config, { sample: 4, test: '0', retrain: { objective: 'plain', gradientTolerance: 1e-7 } }, { onProgress: (p) => seen.push(p) });
    assert.equal(report.rows.length, 4);
    const phases = new Set(seen.map((p) => p.phase));
    assert.ok(phases.has('retrain'), [...phases].join(', '));
    const fractions = seen.map((p) => p.fraction ?? 0);
    assert.ok(fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= (fractions[i - 1] as number) - 1e-12)), 'fractions rise within [0, 1]');
    assert.ok(seen.some((p) => /^run 6\/6, without example \d+ \(random\)/.test(p.message)), 'the last run reports itself');
  });

  test('a cancel during retraining stops the job with a cancellation', async () => {
    const controller = new AbortController();
    let retrainProgress = 0;
    const job = client.validate(config, { sample: 8, test: '0', retrain: { objective: 'plain', gradientTolerance: 1e-12, maxIterations: 100000 } }, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'retrain' && ++retrainProgress === 3) controller.abort();
      },
    });
    const started = Date.now();
    await assert.rejects(job, (e: unknown) => isCancelled(e));
    assert.ok(retrainProgress >= 3);
    assert.ok(Date.now() - started < 60_000);
    // The worker is still usable.
    const again = await client.validate(config, { sample: 2, test: '0', retrain: { objective: 'plain', gradientTolerance: 1e-7 } });
    assert.equal(again.rows.length, 2);
  });
});
