/**
 * EngineClient: lazy start, restarts after the worker dies (bounded, then asking), and
 * pending calls settling with a clear error. First against a fake worker (every path,
 * fast), then against the real dist/worker.js (needs `npm run build`).
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isCancelled, MsifError } from '../../../src/common/errors';
import { EngineClient, WorkerStoppedError } from '../../../src/host/engineClient';
import type { EngineClientOptions, EngineWorker } from '../../../src/host/engineClient';
import { RestartPolicy } from '../../../src/host/restartPolicy';
import type { EvaluateResult } from '../../../src/protocol/jobTypes';
import type { TraceReport } from '../../../src/protocol/report';
import type { WorkerClientOptions } from '../../../src/worker/workerClient';
import { createTinyWorkspace, QUICK_INFLUENCE } from '../worker/tinyWorkspace';
import type { TinyWorkspace } from '../worker/tinyWorkspace';
import { fakeReport, point } from './fakeReport';

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** What {@link FakeWorker.evaluate} answers: test point 1 is misclassified. */
const EVALUATION: EvaluateResult = { test: [point(0, 1, 1), point(1, 0, 2), point(2, 2, 2)], misclassified: [1], backend: 'cpu' };

/** A fake worker process: `crash()` makes it exit; `trace` waits for `answer()`; `evaluate` answers at once. */
class FakeWorker implements EngineWorker {
  static count = 0;
  readonly info = { protocolVersion: 1, backend: 'cpu', backendReason: 'fake', pid: ++FakeWorker.count };
  disposed = false;
  readonly evaluated: string[] = [];
  private waiting: { resolve: (r: TraceReport) => void; reject: (e: Error) => void }[] = [];

  constructor(private readonly options: WorkerClientOptions) {}

  trace(): Promise<TraceReport> {
    if (this.disposed) return Promise.reject(new MsifError('internal', 'MSIF worker was disposed'));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  async evaluate(configPath: string): Promise<EvaluateResult> {
    if (this.disposed) throw new MsifError('internal', 'MSIF worker was disposed');
    this.evaluated.push(configPath);
    return EVALUATION;
  }

  answer(): void {
    for (const w of this.waiting.splice(0)) w.resolve(fakeReport([1, -1], []));
  }

  crash(code = 134): void {
    const error = new MsifError('internal', `MSIF worker exited (code ${code})`);
    this.options.onExit?.(error); // as WorkerClient: onExit runs before pending calls reject
    for (const w of this.waiting.splice(0)) w.reject(error);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.crash(0);
  }
}

function fakeClient(overrides: Partial<EngineClientOptions> = {}) {
  const workers: FakeWorker[] = [];
  let now = 0;
  const client = new EngineClient({
    workerPath: '/fake/worker.js',
    launch: () => ({ backend: 'cpu' }),
    log: quietLog,
    onWorkerLog: () => undefined,
    confirmRestart: async () => false,
    policy: new RestartPolicy(3, 60_000),
    now: () => now,
    startWorker: async (options) => {
      const w = new FakeWorker(options);
      workers.push(w);
      return w;
    },
    ...overrides,
  });
  return { client, workers, advance: (ms: number) => (now += ms) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('EngineClient with a fake worker', () => {
  test('starts lazily, once, for concurrent requests', async () => {
    const { client, workers } = fakeClient();
    assert.equal(workers.length, 0);
    const a = client.trace('/c', { test: '1' });
    const b = client.trace('/c', { test: '2' });
    await tick();
    assert.equal(workers.length, 1);
    workers[0]!.answer();
    await Promise.all([a, b]);
    client.dispose();
  });

  test('a crash fails the pending request with a clear message; the next request starts a new worker', async () => {
    const { client, workers } = fakeClient();
    const pending = client.trace('/c', { test: '1' });
    await tick();
    workers[0]!.crash();
    await assert.rejects(pending, (e: unknown) => e instanceof WorkerStoppedError && /stopped unexpectedly.*code 134.*restarted/.test(e.message));
    const next = client.trace('/c', { test: '1' });
    await tick();
    assert.equal(workers.length, 2);
    workers[1]!.answer();
    assert.equal((await next).scores.length, 2);
    client.dispose();
  });

  test('after maxCrashes within the window it asks; declining fails, accepting restarts', async () => {
    let asked = 0;
    let accept = false;
    const { client, workers, advance } = fakeClient({
      confirmRestart: async () => {
        asked++;
        return accept;
      },
    });
    for (let i = 0; i < 3; i++) {
      const p = client.trace('/c', { test: '1' });
      await tick();
      workers[i]!.crash();
      await assert.rejects(p, WorkerStoppedError);
      advance(1000);
    }
    await assert.rejects(client.trace('/c', { test: '1' }), /stopped 3 times.*Restart worker/);
    assert.equal(asked, 1);
    assert.equal(workers.length, 3);
    accept = true;
    const p = client.trace('/c', { test: '1' });
    await tick();
    assert.equal(asked, 2);
    assert.equal(workers.length, 4);
    workers[3]!.answer();
    await p;
    // The crashes were forgotten: the next crash does not ask.
    const q = client.trace('/c', { test: '1' });
    await tick();
    workers[3]!.crash();
    await assert.rejects(q);
    const r = client.trace('/c', { test: '1' });
    await tick();
    workers[4]!.answer();
    await r;
    assert.equal(asked, 2);
    client.dispose();
  });

  test('crashes outside the window do not count', async () => {
    const { client, workers, advance } = fakeClient();
    for (let i = 0; i < 5; i++) {
      const p = client.trace('/c', { test: '1' });
      await tick();
      workers[i]!.crash();
      await assert.rejects(p);
      advance(30_000); // 3 crashes span 60 s: never 3 within the window
    }
    client.dispose();
  });

  test('restart stops the worker (pending calls say so) and starts a new one', async () => {
    const { client, workers } = fakeClient();
    const pending = client.trace('/c', { test: '1' });
    await tick();
    const info = await client.restart();
    await assert.rejects(pending, (e: unknown) => e instanceof WorkerStoppedError && /was stopped while running/.test(e.message));
    assert.equal(workers[0]!.disposed, true);
    assert.equal(info.pid, workers[1]!.info.pid);
    client.dispose();
    await client.whenStopped();
    assert.equal(workers[1]!.disposed, true);
  });

  test('invalidate (settings changed) gives the next request a new worker', async () => {
    let backend: 'cpu' | 'wasm' = 'cpu';
    const seen: string[] = [];
    const { client, workers } = fakeClient({
      launch: () => ({ backend }),
      startWorker: async (options) => {
        seen.push(options.backend ?? 'auto');
        const w = new FakeWorker(options);
        workers.push(w);
        return w;
      },
    });
    const a = client.trace('/c', { test: '1' });
    await tick();
    workers[0]!.answer();
    await a;
    backend = 'wasm';
    client.invalidate();
    const b = client.trace('/c', { test: '1' });
    await tick();
    await tick();
    workers[1]!.answer();
    await b;
    assert.deepEqual(seen, ['cpu', 'wasm']);
    assert.equal(workers[0]!.disposed, true);
    client.dispose();
  });

  test('a start that fails is reported with the binary and counts as a crash; a refused backend is passed through', async () => {
    let fail: Error | undefined = new Error('spawn /nope ENOENT');
    const { client } = fakeClient({
      launch: () => ({ backend: 'cpu', execPath: '/nope' }),
      startWorker: async (options) => {
        if (fail) throw fail;
        return new FakeWorker(options);
      },
    });
    await assert.rejects(client.trace('/c', { test: '1' }), /Could not start the MSIF worker with \/nope: spawn \/nope ENOENT/);
    fail = new MsifError('usage', 'backend tensorflow is not available');
    await assert.rejects(client.trace('/c', { test: '1' }), (e: unknown) => e instanceof MsifError && e.code === 'usage');
    client.dispose();
  });

  test("evaluateTestPoints runs the worker's evaluation job and returns its test points", async () => {
    const { client, workers } = fakeClient();
    assert.deepEqual(await client.evaluateTestPoints('/c'), EVALUATION.test);
    assert.deepEqual(workers[0]!.evaluated, ['/c']);
    client.dispose();
    await assert.rejects(client.evaluateTestPoints('/c'), /shutting down/);
  });
});

const WORKER = path.resolve(__dirname, '../../../dist/worker.js');

describe('EngineClient with dist/worker.js', () => {
  let slow: TinyWorkspace;
  let quick: TinyWorkspace;
  before(async () => {
    assert.ok(existsSync(WORKER), `${WORKER} is missing: run npm run build first`);
    slow = await createTinyWorkspace();
    quick = await createTinyWorkspace(QUICK_INFLUENCE);
  });
  after(async () => {
    await slow.dispose();
    await quick.dispose();
  });

  test('the worker killed under a trace: the trace fails clearly, the next one works; cancel is a cancellation', async () => {
    const logs: string[] = [];
    const client = new EngineClient({
      workerPath: WORKER,
      launch: () => ({ backend: 'cpu' }),
      log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
      onWorkerLog: () => undefined,
      confirmRestart: async () => false,
    });
    try {
      let pid = 0;
      const pending = client.trace(slow.config, { test: '0' }, {
        onProgress: () => {
          if (pid === 0 && client.info) {
            pid = client.info.pid;
            process.kill(pid, 'SIGKILL');
          }
        },
      });
      await assert.rejects(pending, (e: unknown) => e instanceof WorkerStoppedError && /SIGKILL/.test(e.message));
      assert.ok(pid > 0);
      const report = await client.trace(quick.config, { test: '1', top: 3 });
      assert.equal(report.scores.length, 4000);
      assert.notEqual(client.info?.pid, pid);
      assert.ok(logs.some((l) => /SIGKILL.*restarted on the next request/.test(l)), logs.join('\n'));

      const controller = new AbortController();
      const cancelled = client.trace(slow.config, { test: '0' }, { signal: controller.signal, onProgress: () => controller.abort() });
      await assert.rejects(cancelled, (e: unknown) => isCancelled(e));
      // Still usable after a cancellation.
      assert.equal((await client.trace(quick.config, { test: '2', top: 3 })).test[0]?.index, 2);
      // The evaluation job: every test point, in dataset order.
      const points = await client.evaluateTestPoints(quick.config);
      assert.ok(points.length > 0);
      assert.deepEqual(points.map((t) => t.index), points.map((_, i) => i));
    } finally {
      client.dispose();
      await client.whenStopped();
    }
  });
});
