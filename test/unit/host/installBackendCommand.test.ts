/**
 * "MSIF: Install TensorFlow backend" as the user meets it, against a minimal `vscode`
 * (defined here: it records notifications) and a real npm, offline: npm's registry is a
 * closed local port, so the install fails at the registry, the way it does where the
 * registry is blocked, within a second and without the network. And without npm, the
 * command says so and does nothing.
 */
import Module = require('node:module');
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Ctx } from '../../../src/host/ctx';
import { findNpm } from '../../../src/host/backendInstall';

interface Shown {
  readonly kind: 'error' | 'info';
  readonly message: string;
}
const shown: Shown[] = [];
const progress: { title?: string; messages: string[]; cancellable?: boolean } = { messages: [] };

const stub = {
  ProgressLocation: { Notification: 15 },
  window: {
    showErrorMessage: async (message: string) => (shown.push({ kind: 'error', message }), undefined),
    showInformationMessage: async (message: string) => (shown.push({ kind: 'info', message }), undefined),
    showQuickPick: async () => {
      throw new Error('the test passes the package; no pick expected');
    },
    withProgress: <R>(options: { title?: string; cancellable?: boolean }, task: (p: { report(v: { message?: string }): void }, token: unknown) => Promise<R>): Promise<R> => {
      progress.title = options.title;
      progress.cancellable = options.cancellable;
      return task({ report: (v) => v.message && progress.messages.push(v.message) }, { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) });
    },
  },
  workspace: { getConfiguration: () => ({ get: () => undefined }) },
};
type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };
const load = loader._load;
loader._load = function (request, parent, isMain) {
  return request === 'vscode' ? stub : load.call(this, request, parent, isMain);
};
// After the stub: the command imports `vscode`.
const { installBackend } = require('../../../src/host/commands/installBackend') as typeof import('../../../src/host/commands/installBackend');

let storage: string;
const logged: string[] = [];

function fakeCtx(): Ctx {
  const log = { info: (m: string) => logged.push(m), error: (m: string) => logged.push(m), show: () => undefined };
  return {
    settings: { current: {} },
    extension: { globalStorageUri: { fsPath: storage } },
    log,
    showError: (e: unknown) => shown.push({ kind: 'error', message: String(e) }),
    engine: { restart: async () => ({ backend: 'cpu', backendReason: 'test' }) },
  } as unknown as Ctx;
}

/** Sets environment variables for the duration of `fn`. */
async function withEnv<R>(vars: Record<string, string>, fn: () => Promise<R>): Promise<R> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('MSIF: Install TensorFlow backend', () => {
  before(() => {
    storage = fs.mkdtempSync(path.join(os.tmpdir(), 'msif-storage-'));
  });
  after(() => fs.rmSync(storage, { recursive: true, force: true }));

  test('without npm it says so, plainly, and installs nothing', async () => {
    shown.length = 0;
    const result = await withEnv({ PATH: path.join(storage, 'no-such-dir') }, () => installBackend(fakeCtx())('cpu'));
    assert.equal(result, 'no-npm');
    assert.equal(shown.length, 1);
    assert.equal(shown[0]?.kind, 'error');
    assert.match(shown[0]?.message ?? '', /needs npm, and there is none on PATH; VS Code does not ship one\. Install Node\.js/);
    assert.equal(fs.existsSync(path.join(storage, 'backends')), false);
  });

  test('a registry that cannot be reached: one message naming the host, and how to go on', { skip: findNpm(process.env) ? false : 'no npm on PATH' }, async () => {
    shown.length = 0;
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await withEnv(
      {
        npm_config_registry: `http://127.0.0.1:${port}/`,
        npm_config_fetch_retries: '0',
        npm_config_cache: path.join(storage, 'npm-cache'),
        npm_config_update_notifier: 'false',
      },
      () => installBackend(fakeCtx())('cpu'),
    );
    assert.equal(result, 'blocked');
    assert.equal(progress.title, 'MSIF: Installing @tensorflow/tfjs-node@4.22.0');
    assert.equal(progress.cancellable, true);
    const errors = shown.filter((s) => s.kind === 'error');
    assert.equal(errors.length, 1, JSON.stringify(shown));
    const message = errors[0]?.message ?? '';
    assert.match(message, /^MSIF: @tensorflow\/tfjs-node was not installed: npm could not reach the package registry at 127\.0\.0\.1 \(ECONNREFUSED/);
    assert.ok(message.includes(`npm install --prefix "${path.join(storage, 'backends')}" @tensorflow/tfjs-node@4.22.0`), message);
    assert.match(message, /other backends \(native, wasm or cpu\)/);
    // npm's output went to the log, line by line.
    assert.ok(logged.some((l) => l.startsWith('[npm] ') && l.includes('ECONNREFUSED')), logged.join('\n'));
  });
});
