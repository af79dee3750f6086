/**
 * The webview's side of the IPC (`src/protocol/webviewProtocol.ts`): sends commands and
 * requests to the host (requests resolve with the host's response) and dispatches the
 * host's notifications.
 */
import { IPC_RESPONSE_METHOD, isIpcMessage } from '../src/protocol/webviewProtocol';
import type {
  IpcCommand,
  IpcMessage,
  IpcNotification,
  IpcParams,
  IpcRequest,
  IpcResponseParams,
  IpcResult,
} from '../src/protocol/webviewProtocol';
import type { WebviewApi } from 'vscode-webview';

/** Requests fail after this long without an answer. */
const REQUEST_TIMEOUT_MS = 60_000;

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class HostConnection {
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly handlers = new Map<string, (params: unknown) => void>();

  constructor(private readonly api: WebviewApi<unknown>) {
    window.addEventListener('message', (event: MessageEvent<unknown>) => this.receive(event.data));
  }

  command<T extends IpcCommand<unknown>>(type: T, params: IpcParams<T>): void {
    this.api.postMessage(this.message(type.method, params));
  }

  request<T extends IpcRequest<unknown, unknown>>(type: T, params: IpcParams<T>): Promise<IpcResult<T>> {
    const message = this.message(type.method, params);
    return new Promise<IpcResult<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(message.id);
        reject(new Error(`${type.method}: no answer from the extension`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(message.id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.api.postMessage(message);
    });
  }

  onNotification<T extends IpcNotification<unknown>>(type: T, handler: (params: IpcParams<T>) => void): void {
    this.handlers.set(type.method, handler as (params: unknown) => void);
  }

  private message(method: string, params: unknown): IpcMessage {
    // postMessage drops a field whose value is undefined, and the host requires `params`.
    return { id: `w:${this.nextId++}`, method, params: params === undefined ? null : params };
  }

  private receive(data: unknown): void {
    if (!isIpcMessage(data)) return;
    if (data.method === IPC_RESPONSE_METHOD && data.completionId !== undefined) {
      const pending = this.pending.get(data.completionId);
      if (!pending) return;
      this.pending.delete(data.completionId);
      clearTimeout(pending.timer);
      const response = data.params as IpcResponseParams;
      if (response.ok) pending.resolve(response.result);
      else pending.reject(new Error(response.error));
      return;
    }
    this.handlers.get(data.method)?.(data.params);
  }
}
