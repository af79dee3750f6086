import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IpcRouter, validateExampleRef, validateGetExamples, validateLog, validateReady } from '../../../src/host/panels/ipcRouter';
import {
  DidChangeModelNotification,
  GetExamplesRequest,
  IPC_RESPONSE_METHOD,
  isIpc,
  isIpcMessage,
  MAX_EXAMPLES_PER_REQUEST,
  OpenExampleCommand,
  WebviewReadyRequest,
} from '../../../src/protocol/webviewProtocol';
import type { IpcMessage } from '../../../src/protocol/webviewProtocol';

describe('IpcRouter', () => {
  test('a request is answered with its handler result, carrying the request id as completionId', async () => {
    const r = new IpcRouter();
    r.onRequest(WebviewReadyRequest, validateReady, (p) => ({ protocolVersion: p.protocolVersion + 1 }));
    const { response, problem } = await r.dispatch({ id: 'w:1', method: WebviewReadyRequest.method, params: { protocolVersion: 1, kind: 'trace' } });
    assert.equal(problem, undefined);
    assert.equal(response?.method, IPC_RESPONSE_METHOD);
    assert.equal(response?.completionId, 'w:1');
    assert.deepEqual(response?.params, { ok: true, result: { protocolVersion: 2 } });
  });

  test('a command runs its handler and is not answered', async () => {
    const r = new IpcRouter();
    const seen: unknown[] = [];
    r.onCommand(OpenExampleCommand, validateExampleRef, (p) => {
      seen.push(p);
    });
    const out = await r.dispatch({ id: 'w:2', method: OpenExampleCommand.method, params: { role: 'pretrain', index: 4, extra: 1 } });
    assert.deepEqual(out, {});
    assert.deepEqual(seen, [{ role: 'pretrain', index: 4 }]);
  });

  test('invalid parameters never reach the handler; requests get an error answer', async () => {
    const r = new IpcRouter();
    let called = false;
    r.onRequest(GetExamplesRequest, validateGetExamples, () => {
      called = true;
      return { examples: [] };
    });
    const bad = [
      { role: 'pretrain', indices: [1, -1] },
      { role: 'train', indices: [1] },
      { role: 'test', indices: 'x' },
      { role: 'test', indices: Array.from({ length: MAX_EXAMPLES_PER_REQUEST + 1 }, (_, i) => i) },
      null,
    ];
    for (const params of bad) {
      const { response, problem } = await r.dispatch({ id: 'w:3', method: GetExamplesRequest.method, params });
      assert.ok(problem);
      assert.equal((response?.params as { ok: boolean }).ok, false);
    }
    assert.equal(called, false);
  });

  test('a failing request handler answers with its message', async () => {
    const r = new IpcRouter();
    r.onRequest(GetExamplesRequest, validateGetExamples, async () => {
      throw new Error('cannot read d.jsonl');
    });
    const { response, problem } = await r.dispatch({ id: 'w:4', method: GetExamplesRequest.method, params: { role: 'test', indices: [0] } });
    assert.deepEqual(response?.params, { ok: false, error: 'cannot read d.jsonl' });
    assert.match(problem ?? '', /cannot read/);
  });

  test('malformed and unknown messages', async () => {
    const r = new IpcRouter();
    assert.ok((await r.dispatch('hello')).problem);
    assert.ok((await r.dispatch({ id: 1, method: 'x', params: {} })).problem);
    const unknown = await r.dispatch({ id: 'w:5', method: 'core/nope', params: {} });
    assert.match(unknown.problem ?? '', /unknown/);
    assert.equal((unknown.response?.params as { ok: boolean }).ok, false);
  });

  test('notifications get fresh host ids and the notification method', () => {
    const r = new IpcRouter();
    const a = r.notification(DidChangeModelNotification, { model: undefined as never });
    const b = r.notification(DidChangeModelNotification, { model: undefined as never });
    assert.equal(a.method, 'core/model/didChange');
    assert.notEqual(a.id, b.id);
    assert.ok(a.id.startsWith('h:'));
    assert.ok(isIpcMessage(a));
    assert.ok(isIpc(a as IpcMessage, DidChangeModelNotification));
  });

  test('validateLog truncates long messages and checks the level', () => {
    assert.equal(validateLog({ level: 'warn', message: 'x'.repeat(5000) }).message.length, 4000);
    assert.throws(() => validateLog({ level: 'debug', message: '' }));
  });
});
