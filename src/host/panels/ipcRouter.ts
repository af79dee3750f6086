/**
 * The host's side of the webview IPC (`protocol/webviewProtocol.ts`): dispatches the
 * webview's commands and requests to handlers after checking their parameters, and
 * builds the messages the host posts. Pure: the panel passes `postMessage`'s input in
 * and posts what comes out.
 */
import { IPC_RESPONSE_METHOD, isIpcMessage, MAX_EXAMPLES_PER_REQUEST, PANEL_VIEW_TYPES } from '../../protocol/webviewProtocol';
import type {
  DatasetRole,
  ExampleRef,
  IpcCommand,
  IpcMessage,
  IpcNotification,
  IpcParams,
  IpcRequest,
  IpcResponseParams,
  IpcResult,
  PanelKind,
  WebviewReadyParams,
} from '../../protocol/webviewProtocol';

/** Checks and narrows untrusted parameters; throws {@link IpcParamsError} when invalid. */
export type ParamsValidator<P> = (params: unknown) => P;

export class IpcParamsError extends Error {}

type Entry =
  | { readonly kind: 'command'; readonly validate: ParamsValidator<unknown>; readonly handle: (p: unknown) => unknown }
  | { readonly kind: 'request'; readonly validate: ParamsValidator<unknown>; readonly handle: (p: unknown) => unknown };

export interface DispatchResult {
  /** The response to post back (requests only). */
  readonly response?: IpcMessage<IpcResponseParams>;
  /** Why the message was not handled (unknown method, bad parameters), for the log. */
  readonly problem?: string;
}

export class IpcRouter {
  private readonly entries = new Map<string, Entry>();
  private nextId = 1;

  onCommand<T extends IpcCommand<unknown>>(type: T, validate: ParamsValidator<IpcParams<T>>, handle: (params: IpcParams<T>) => void | Promise<void>): void {
    this.entries.set(type.method, { kind: 'command', validate, handle: handle as (p: unknown) => unknown });
  }

  onRequest<T extends IpcRequest<unknown, unknown>>(
    type: T,
    validate: ParamsValidator<IpcParams<T>>,
    handle: (params: IpcParams<T>) => IpcResult<T> | Promise<IpcResult<T>>,
  ): void {
    this.entries.set(type.method, { kind: 'request', validate, handle: handle as (p: unknown) => unknown });
  }

  /** A host → webview notification message. */
  notification<T extends IpcNotification<unknown>>(type: T, params: IpcParams<T>): IpcMessage<IpcParams<T>> {
    return { id: `h:${this.nextId++}`, method: type.method, params };
  }

  /**
   * Handles one message from the webview. Commands run their handler (errors are
   * reported as `problem`); requests also yield the response to post, which carries
   * the handler's error message when it fails.
   */
  async dispatch(raw: unknown): Promise<DispatchResult> {
    if (!isIpcMessage(raw)) return { problem: 'ignored a malformed webview message' };
    const entry = this.entries.get(raw.method);
    const respond = (params: IpcResponseParams): IpcMessage<IpcResponseParams> => ({
      id: `h:${this.nextId++}`,
      method: IPC_RESPONSE_METHOD,
      params,
      completionId: raw.id,
    });
    if (!entry) {
      // Answered in case the sender waits (a webview ignores answers it did not ask for).
      const problem = `unknown webview message ${raw.method}`;
      return { problem, response: respond({ ok: false, error: problem }) };
    }
    let params: unknown;
    try {
      params = entry.validate(raw.params);
    } catch (e) {
      const problem = `${raw.method}: ${e instanceof Error ? e.message : String(e)}`;
      return entry.kind === 'request' ? { problem, response: respond({ ok: false, error: problem }) } : { problem };
    }
    try {
      const result = await entry.handle(params);
      return entry.kind === 'request' ? { response: respond({ ok: true, result }) } : {};
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      return entry.kind === 'request' ? { response: respond({ ok: false, error }), problem: `${raw.method} failed: ${error}` } : { problem: `${raw.method} failed: ${error}` };
    }
  }
}

// ---------------------------------------------------------------------------------------
// Validators for the messages the panels handle.

function object(params: unknown): Record<string, unknown> {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new IpcParamsError('expected an object');
  return params as Record<string, unknown>;
}

function index(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new IpcParamsError(`${field} must be a non-negative integer`);
  return value;
}

function role(value: unknown): DatasetRole {
  if (value !== 'pretrain' && value !== 'test') throw new IpcParamsError('role must be "pretrain" or "test"');
  return value;
}

export const validateNothing: ParamsValidator<void> = () => undefined;

export const validateReady: ParamsValidator<WebviewReadyParams> = (params) => {
  const o = object(params);
  const kinds = Object.keys(PANEL_VIEW_TYPES) as PanelKind[];
  if (typeof o['protocolVersion'] !== 'number') throw new IpcParamsError('protocolVersion must be a number');
  if (!kinds.includes(o['kind'] as PanelKind)) throw new IpcParamsError('kind must be a panel kind');
  const revision = o['revision'];
  if (revision !== undefined && typeof revision !== 'number') throw new IpcParamsError('revision must be a number');
  return { protocolVersion: o['protocolVersion'], kind: o['kind'] as PanelKind, ...(revision !== undefined ? { revision } : {}) };
};

export const validateExampleRef: ParamsValidator<ExampleRef> = (params) => {
  const o = object(params);
  return { role: role(o['role']), index: index(o['index'], 'index') };
};

export const validateGetExamples: ParamsValidator<{ role: DatasetRole; indices: number[] }> = (params) => {
  const o = object(params);
  const indices = o['indices'];
  if (!Array.isArray(indices)) throw new IpcParamsError('indices must be an array');
  if (indices.length > MAX_EXAMPLES_PER_REQUEST) throw new IpcParamsError(`at most ${MAX_EXAMPLES_PER_REQUEST} indices per request`);
  return { role: role(o['role']), indices: indices.map((i, k) => index(i, `indices[${k}]`)) };
};

export const validateTestIndex: ParamsValidator<{ index: number }> = (params) => ({ index: index(object(params)['index'], 'index') });

export const validateLog: ParamsValidator<{ level: 'info' | 'warn' | 'error'; message: string }> = (params) => {
  const o = object(params);
  const level = o['level'];
  if (level !== 'info' && level !== 'warn' && level !== 'error') throw new IpcParamsError('level must be info, warn or error');
  if (typeof o['message'] !== 'string') throw new IpcParamsError('message must be a string');
  return { level, message: o['message'].slice(0, 4000) };
};
