/**
 * One MSIF webview panel: owns the `WebviewPanel`, answers the webview's handshake with
 * the panel's model, routes its commands and requests, and posts model, busy and error
 * notifications once the webview is ready (never before).
 */
import * as vscode from 'vscode';
import {
  WriteFilteredCommand,
  CompareCasesCommand,
  DidChangeBusyNotification,
  DidChangeModelNotification,
  DidFailNotification,
  GetExamplesRequest,
  LogCommand,
  OpenExampleCommand,
  TraceAllMisclassifiedCommand,
  TraceTestPointCommand,
  WEBVIEW_PROTOCOL_VERSION,
  WebviewReadyRequest,
} from '../../protocol/webviewProtocol';
import type { BusyParams, DatasetRole, ExampleView, IpcNotification, PanelKind, PanelModel } from '../../protocol/webviewProtocol';
import { Disposable, Emitter } from '../lifecycle';
import {
  IpcRouter,
  validateExampleRef,
  validateGetExamples,
  validateLog,
  validateNothing,
  validateReady,
  validateTestIndex,
} from './ipcRouter';
import { webviewHtml, webviewOptions } from './webviewHtml';
import { CommandIds } from '../commands/commandIds';

/**
 * How long a visible webview may take to say ready, one entry per try: after each but the
 * last its page is loaded again; after the last the panel asks to be replaced by a new one
 * ({@link MsifPanel.onDidStayUnloaded}). VS Code in a browser (code-server, vscode.dev)
 * can load a webview restored after a window reload before its service worker controls the
 * page: its script requests go to the network and fail, and the panel would show
 * "Loading…" for good. Loading the page again ("Developer: Reload Webviews" does the same)
 * then goes through the service worker — except, rarely, for a restored webview whose
 * frame is never created, where setting its html does nothing: a new panel does load.
 */
export const READY_TIMEOUTS_MS: readonly number[] = [10_000, 20_000, 30_000];

/** What a replacement panel takes over from the one it replaces. */
export interface CarriedPanelState {
  readonly busy?: BusyParams;
  readonly error?: string;
  /** How many panels this one's chain has replaced already. */
  readonly replacements: number;
}

/** What a panel asks of the rest of the host. */
export interface PanelServices {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  examples(configPath: string, role: DatasetRole, indices: readonly number[]): Promise<ExampleView[]>;
  openExample(configPath: string, role: DatasetRole, index: number, beside: vscode.ViewColumn | undefined): Promise<void>;
  traceTestPoint(configPath: string, index: number): Promise<void>;
  traceAllMisclassified(configPath: string): Promise<void>;
  compareCases(configPath: string, selection: string): Promise<void>;
}

export class MsifPanel extends Disposable {
  private ready = false;
  private model: PanelModel | undefined;
  private busy: BusyParams | undefined;
  private error: string | undefined;
  /** Pending check that the visible webview said ready (see {@link READY_TIMEOUTS_MS}). */
  private readyTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly router = new IpcRouter();
  private readonly disposedEmitter = this._register(new Emitter<void>());
  readonly onDidDispose = this.disposedEmitter.event;
  private readonly stayedUnloadedEmitter = this._register(new Emitter<void>());
  /** The visible webview never said ready, however often its page was loaded: replace the panel. */
  readonly onDidStayUnloaded = this.stayedUnloadedEmitter.event;
  /** How many panels before this one were replaced because their webview never loaded. */
  readonly replacements: number;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly kind: PanelKind,
    readonly configPath: string,
    private readonly services: PanelServices,
    model?: PanelModel,
    carried?: CarriedPanelState,
  ) {
    super();
    this.model = model;
    this.busy = carried?.busy;
    this.error = carried?.error;
    this.replacements = carried?.replacements ?? 0;
    this._register(panel);
    panel.webview.options = webviewOptions(services.extensionUri);
    if (model) panel.title = model.title;
    panel.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m), this, this._disposables);
    panel.onDidChangeViewState(
      () => {
        // A hidden webview is torn down (no retainContextWhenHidden); it says ready again when shown.
        if (!panel.visible) this.ready = false;
        this.watchReady(0);
      },
      this,
      this._disposables,
    );
    panel.onDidDispose(() => this.dispose(), this, this._disposables);
    this.registerHandlers();
    panel.webview.html = webviewHtml(panel.webview, services.extensionUri, kind, panel.title);
    this.watchReady(0);
  }

  /**
   * If the webview, visible, has not said ready within READY_TIMEOUTS_MS[attempt]: loads
   * its page again, or after the last try fires onDidStayUnloaded.
   */
  private watchReady(attempt: number): void {
    clearTimeout(this.readyTimer);
    this.readyTimer = undefined;
    const timeout = READY_TIMEOUTS_MS[attempt];
    if (this.isDisposed || this.ready || !this.panel.visible || timeout === undefined) return;
    this.readyTimer = setTimeout(() => {
      this.readyTimer = undefined;
      if (this.isDisposed || this.ready || !this.panel.visible) return;
      const last = attempt === READY_TIMEOUTS_MS.length - 1;
      this.services.log.warn(`${this.kind} panel "${this.panel.title}": the webview did not load in ${timeout / 1000} s; ${last ? 'replacing the panel' : 'loading it again'}`);
      if (last) {
        this.stayedUnloadedEmitter.fire();
        return;
      }
      this.panel.webview.html = webviewHtml(this.panel.webview, this.services.extensionUri, this.kind, this.panel.title);
      this.watchReady(attempt + 1);
    }, timeout);
  }

  /** What a panel replacing this one takes over (see onDidStayUnloaded). */
  carriedState(): CarriedPanelState {
    return {
      ...(this.busy ? { busy: this.busy } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
      replacements: this.replacements + 1,
    };
  }

  get currentModel(): PanelModel | undefined {
    return this.model;
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  setModel(model: PanelModel): void {
    this.model = model;
    this.error = undefined;
    this.panel.title = model.title;
    this.post(DidChangeModelNotification, { model });
  }

  setBusy(busy: boolean, message?: string): void {
    this.busy = { busy, ...(message !== undefined ? { message } : {}) };
    this.post(DidChangeBusyNotification, this.busy);
  }

  showError(message: string): void {
    this.error = message;
    this.post(DidFailNotification, { message });
  }

  override dispose(): void {
    if (this.isDisposed) return;
    clearTimeout(this.readyTimer);
    this.disposedEmitter.fire();
    super.dispose();
  }

  private post<P>(type: IpcNotification<P>, params: P): void {
    if (!this.ready || this.isDisposed) return;
    void this.panel.webview.postMessage(this.router.notification(type, params));
  }

  private registerHandlers(): void {
    const r = this.router;
    r.onRequest(WebviewReadyRequest, validateReady, (params) => {
      this.ready = true;
      clearTimeout(this.readyTimer);
      this.readyTimer = undefined;
      if (params.protocolVersion !== WEBVIEW_PROTOCOL_VERSION) {
        this.services.log.warn(`webview protocol ${params.protocolVersion}, host ${WEBVIEW_PROTOCOL_VERSION}`);
      }
      const sendModel = this.model !== undefined && params.revision !== this.model.revision;
      return {
        protocolVersion: WEBVIEW_PROTOCOL_VERSION,
        ...(sendModel && this.model ? { model: this.model } : {}),
        ...(this.busy ? { busy: this.busy } : {}),
        ...(this.error !== undefined ? { error: this.error } : {}),
      };
    });
    r.onCommand(OpenExampleCommand, validateExampleRef, ({ role, index }) =>
      this.services.openExample(this.configPath, role, index, this.panel.viewColumn),
    );
    r.onRequest(GetExamplesRequest, validateGetExamples, async ({ role, indices }) => ({
      examples: await this.services.examples(this.configPath, role, indices),
    }));
    r.onCommand(LogCommand, validateLog, ({ level, message }) => {
      this.services.log[level](`webview (${this.kind}): ${message}`);
    });
    r.onCommand(TraceTestPointCommand, validateTestIndex, ({ index }) => this.services.traceTestPoint(this.configPath, index));
    r.onCommand(TraceAllMisclassifiedCommand, validateNothing, () => this.services.traceAllMisclassified(this.configPath));
    r.onCommand(CompareCasesCommand, validateNothing, () => {
      const selection = this.model?.kind === 'trace' ? this.model.selection : undefined;
      return selection === undefined ? undefined : this.services.compareCases(this.configPath, selection);
    });
    // The cleanse panel's "Write filtered dataset…": the removed examples come from the host's model, not the webview.
    r.onCommand(WriteFilteredCommand, validateNothing, async () => {
      if (this.model?.kind !== 'cleanse') return;
      await vscode.commands.executeCommand(CommandIds.writeFilteredPretraining, { config: this.configPath, exclude: this.model.removed.map((e) => e.index) });
    });
  }

  private async onMessage(message: unknown): Promise<void> {
    const { response, problem } = await this.router.dispatch(message);
    if (problem) this.services.log.warn(`webview (${this.kind}): ${problem}`);
    if (response && !this.isDisposed) void this.panel.webview.postMessage(response);
  }
}
