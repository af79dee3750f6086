/**
 * The shell every panel shares: the handshake, the persisted state (`getState` /
 * `setState`), the busy banner and the error state (`data-testid="panel-error"`); the
 * panel-specific content comes from a {@link PanelView}.
 */
import {
  DidChangeBusyNotification,
  DidChangeModelNotification,
  DidFailNotification,
  LogCommand,
  WEBVIEW_PROTOCOL_VERSION,
  WebviewReadyRequest,
} from '../src/protocol/webviewProtocol';
import type { BusyParams, ExampleView, PanelKind, PanelModel, PanelState } from '../src/protocol/webviewProtocol';
import { progressRing } from './components/toolkit';
import { ExampleCache } from './exampleCache';
import type { HostConnection } from './ipc';
import { clear, h } from './render/dom';
import type { WebviewApi } from 'vscode-webview';

/** View state a panel keeps across reloads (rows shown, toggles). */
export type UiState = Record<string, number | boolean | string>;

export interface PanelContext {
  readonly host: HostConnection;
  readonly examples: ExampleCache;
  readonly ui: UiState;
  /** Records a view-state change (persisted). */
  setUi(key: string, value: number | boolean | string): void;
}

/** Renders one kind of model into `root`. */
export type PanelView<M extends PanelModel = PanelModel> = (model: M, ctx: PanelContext) => HTMLElement;

export class PanelApp {
  private model: PanelModel | undefined;
  private ui: UiState;
  private examples: ExampleCache;
  private readonly busyBox: HTMLElement;
  private readonly content: HTMLElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly kind: PanelKind,
    private readonly api: WebviewApi<PanelState>,
    private readonly host: HostConnection,
    private readonly view: PanelView,
  ) {
    const saved = api.getState();
    this.ui = { ...(saved?.ui ?? {}) };
    this.examples = new ExampleCache(host);
    clear(root);
    this.busyBox = h('div', { class: 'busy', role: 'status', hidden: true });
    this.content = h('div', { class: 'content' });
    root.append(this.busyBox, this.content);
    host.onNotification(DidChangeModelNotification, ({ model }) => this.setModel(model, true));
    host.onNotification(DidChangeBusyNotification, (busy) => this.setBusy(busy));
    host.onNotification(DidFailNotification, ({ message }) => this.showError(message));
    if (saved?.model && saved.model.kind === kind) {
      this.examples.add(savedExamples(saved));
      this.setModel(saved.model, false);
    } else {
      this.showIdle('Waiting for MSIF…');
    }
  }

  /** Says ready to the host and applies its answer. */
  async start(): Promise<void> {
    try {
      const answer = await this.host.request(WebviewReadyRequest, {
        protocolVersion: WEBVIEW_PROTOCOL_VERSION,
        kind: this.kind,
        ...(this.model ? { revision: this.model.revision } : {}),
      });
      if (answer.model) this.setModel(answer.model, true);
      if (answer.busy) this.setBusy(answer.busy);
      if (answer.error !== undefined) this.showError(answer.error);
      else if (!this.model && !answer.busy?.busy) this.showIdle('Nothing to show yet: run an MSIF command.');
    } catch (e) {
      this.showError(`The extension did not answer: ${(e as Error).message}`);
    }
  }

  setModel(model: PanelModel, fresh: boolean): void {
    if (model.kind !== this.kind) return;
    if (fresh && this.model && this.model.revision !== model.revision) this.ui = {};
    this.model = model;
    if (fresh) this.examples = new ExampleCache(this.host, model.examples);
    else this.examples.add(model.examples);
    this.root.removeAttribute('aria-busy');
    this.render();
    this.save();
  }

  setBusy(busy: BusyParams): void {
    clear(this.busyBox);
    this.busyBox.hidden = !busy.busy;
    this.root.setAttribute('aria-busy', String(busy.busy));
    if (busy.busy) this.busyBox.append(progressRing(), h('span', {}, busy.message ?? 'Working…'));
  }

  showError(message: string): void {
    clear(this.content);
    this.content.append(h('div', { class: 'panel-error', role: 'alert', 'data-testid': 'panel-error' }, message));
  }

  private showIdle(message: string): void {
    clear(this.content);
    this.content.append(h('div', { class: 'panel-idle', 'data-testid': 'panel-error', 'data-state': 'idle' }, message));
  }

  private render(): void {
    if (!this.model) return;
    clear(this.content);
    try {
      this.content.append(
        this.view(this.model, {
          host: this.host,
          examples: this.examples,
          ui: this.ui,
          setUi: (key, value) => {
            this.ui[key] = value;
            this.save();
          },
        }),
      );
    } catch (e) {
      const message = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
      this.host.command(LogCommand, { level: 'error', message: `render failed: ${message}` });
      this.showError(`This panel could not be drawn: ${(e as Error).message}`);
    }
  }

  private save(): void {
    if (!this.model) return;
    // The model already holds the initial examples; keep the fetched ones too.
    const model = { ...this.model, examples: this.examples.all() } as PanelModel;
    this.api.setState({ kind: this.kind, model, configPath: this.model.configPath, ui: this.ui });
  }
}

function savedExamples(state: PanelState): ExampleView[] {
  return state.model?.examples ?? [];
}
