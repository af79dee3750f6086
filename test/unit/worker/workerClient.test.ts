/**
 * The worker bundle driven through WorkerClient over real IPC: handshake, errors,
 * cancellation and the worker dying under a pending call. Needs `npm run build` first
 * (the `test` script does it).
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isCancelled, MsifError } from '../../../src/common/errors';
import { BACKEND_NAMES, PROTOCOL_VERSION } from '../../../src/protocol/engineProtocol';
import { WorkerClient } from '../../../src/worker/workerClient';
import { createTinyWorkspace } from './tinyWorkspace';
import type { TinyWorkspace } from './tinyWorkspace';

const WORKER = path.resolve(__dirname, '../../../dist/worker.js');

/** Whether a process with this id exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A failed job's error as the client rebuilds it: an MsifError, not a cancellation. */
function jobFailure(pattern: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof MsifError, `expected an MsifError, got ${String(e)}`);
    assert.notEqual(e.code, 'cancelled', 'expected a failure, not a cancellation');
    assert.match(e.message, pattern);
    return true;
  };
}

describe('WorkerClient with dist/worker.js', () => {
  let workspace: TinyWorkspace;

  before(async () => {
    assert.ok(existsSync(WORKER), `${WORKER} is missing: run npm run build first`);
    workspace = await createTinyWorkspace();
  });

  after(async () => {
    await workspace.dispose();
  });

  test('the handshake reports the protocol version, the backend and the pid', async () => {
    const client = await WorkerClient.start({ workerPath: WORKER });
    try {
      assert.equal(client.info.protocolVersion, PROTOCOL_VERSION);
      assert.ok((BACKEND_NAMES as readonly string[]).includes(client.info.backend), client.info.backend);
      assert.match(client.info.backendReason, new RegExp(client.info.backend));
      assert.notEqual(client.info.pid, process.pid);
      assert.ok(alive(client.info.pid));
    } finally {
      await client.dispose();
    }
    assert.ok(!alive(client.info.pid), 'the worker exits on dispose');
  });

  test('a failing backend choice fails the handshake with a one-line error', async () => {
    const saved = process.env['MSIF_BACKEND'];
    process.env['MSIF_BACKEND'] = 'abacus'; // inherited by the worker
    try {
      await assert.rejects(
        WorkerClient.start({ workerPath: WORKER }),
        (e: unknown) => e instanceof MsifError && e.code === 'usage' && /MSIF_BACKEND is 'abacus'/.test(e.message) && !e.message.includes('\n'),
      );
    } finally {
      if (saved === undefined) delete process.env['MSIF_BACKEND'];
      else process.env['MSIF_BACKEND'] = saved;
    }
  });

  test('a trace on a missing config answers with the MsifError naming the file', async () => {
    const client = await WorkerClient.start({ workerPath: WORKER });
    try {
      const missing = path.join(workspace.dir, 'missing.json');
      await assert.rejects(client.trace(missing, { test: '0' }), jobFailure(/missing\.json/));
    } finally {
      await client.dispose();
    }
  });

  test('killing the worker rejects the pending call with "worker exited"', async () => {
    let exitError: Error | undefined;
    const client = await WorkerClient.start({ workerPath: WORKER, onExit: (e) => (exitError = e) });
    const pending = client.trace(workspace.config, { test: '0' });
    process.kill(client.info.pid);
    await assert.rejects(pending, /MSIF worker exited \(signal SIGTERM\)/);
    assert.match(String(exitError), /worker exited/);
    await assert.rejects(client.train(workspace.config), /worker exited/, 'later calls fail at once');
    await client.dispose();
  });

  test('cancelling a running trace reaches the job; the worker then takes the next request', async () => {
    const client = await WorkerClient.start({ workerPath: WORKER });
    try {
      const controller = new AbortController();
      let progressCount = 0;
      const trace = client.trace(workspace.config, { test: '0' }, {
        signal: controller.signal,
        // The first progress proves the job is running; cancel it there.
        onProgress: () => {
          progressCount++;
          controller.abort();
        },
      });
      await assert.rejects(trace, (e: unknown) => isCancelled(e));
      assert.ok(progressCount >= 1, 'progress arrived before the cancel');
      const missing = path.join(workspace.dir, 'missing.json');
      await assert.rejects(client.trace(missing, { test: '0' }), jobFailure(/missing\.json/));
    } finally {
      await client.dispose();
    }
  });

  test('an already aborted signal cancels without running the job', async () => {
    const client = await WorkerClient.start({ workerPath: WORKER });
    try {
      await assert.rejects(client.trace(workspace.config, { test: '0' }, { signal: AbortSignal.abort() }), (e: unknown) =>
        isCancelled(e),
      );
    } finally {
      await client.dispose();
    }
  });
});
