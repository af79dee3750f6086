/**
 * PanelManager and MsifPanel when a webview never says ready: the page is loaded again
 * after each of READY_TIMEOUTS_MS but the last, then the panel is replaced by a new one in
 * the same column with the same content (at most MAX_PANEL_REPLACEMENTS times, then a
 * warning). VS Code's webview-panel API is faked here; the real one runs in the e2e tier
 * (test/e2e/lifecycle.e2e.test.ts, the reload check).
 */
import { vscodeStub } from './vscodeStub';
import * as assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { MAX_PANEL_REPLACEMENTS, PanelManager } from '../../../src/host/panels/panelManager';
import type { PanelManagerDeps } from '../../../src/host/panels/panelManager';
import { READY_TIMEOUTS_MS } from '../../../src/host/panels/msifPanel';
import type { LoadedConfig } from '../../../src/host/configRegistry';
import { PANEL_VIEW_TYPES, WEBVIEW_PROTOCOL_VERSION, WebviewReadyRequest } from '../../../src/protocol/webviewProtocol';

type Listener = (value: unknown) => unknown;

type FakeUri = { readonly fsPath: string; toString(): string };
const Uri = vscodeStub['Uri'] as { file(p: string): FakeUri };

function listeners(): { add: (l: Listener, thisArg?: unknown, store?: { dispose(): unknown }[]) => { dispose(): void }; fire: (v?: unknown) => void } {
  let all: Listener[] = [];
  return {
    add(l, thisArg, store) {
      const bound = (v: unknown) => l.call(thisArg, v);
      all.push(bound);
      const d = { dispose: () => void (all = all.filter((x) => x !== bound)) };
      store?.push(d);
      return d;
    },
    fire: (v) => [...all].forEach((l) => l(v)),
  };
}

/** A webview panel that records what the host does to it. */
class FakePanel {
  htmlLoads = 0;
  disposed = false;
  visible = true;
  active = true;
  readonly posted: unknown[] = [];
  private readonly messages = listeners();
  private readonly disposeListeners = listeners();
  private readonly viewState = listeners();
  readonly webview = {
    options: {},
    cspSource: 'vscode-webview-resource:',
    asWebviewUri: (u: FakeUri) => u.toString(),
    onDidReceiveMessage: this.messages.add,
    postMessage: async (m: unknown) => {
      this.posted.push(m);
      return true;
    },
    set html(_: string) {
      panelOf.get(this)!.htmlLoads++;
    },
  };
  constructor(
    readonly viewType: string,
    public title: string,
    readonly viewColumn: number,
  ) {
    panelOf.set(this.webview, this);
  }
  onDidDispose = this.disposeListeners.add;
  onDidChangeViewState = this.viewState.add;
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.visible = false;
    this.disposeListeners.fire();
  }
  /** The user shows the panel's tab again. */
  show(): void {
    this.visible = true;
    this.viewState.fire({ webviewPanel: this });
  }
  /** The webview's handshake, as webview/main.ts sends it. */
  sayReady(kind: string): void {
    this.messages.fire({ id: 'w:1', method: WebviewReadyRequest.method, params: { protocolVersion: WEBVIEW_PROTOCOL_VERSION, kind } });
  }
}
const panelOf = new WeakMap<object, FakePanel>();

let created: FakePanel[];
let warnings: string[];
let logLines: string[];
let serializers: Map<string, { deserializeWebviewPanel(panel: unknown, state: unknown): Promise<void> }>;

beforeEach(() => {
  created = [];
  warnings = [];
  logLines = [];
  serializers = new Map();
  Object.assign(vscodeStub.window, {
    registerWebviewPanelSerializer: (viewType: string, s: { deserializeWebviewPanel(panel: unknown, state: unknown): Promise<void> }) => {
      serializers.set(viewType, s);
      return { dispose: () => undefined };
    },
    createWebviewPanel: (viewType: string, title: string, show: { viewColumn: number }) => {
      const p = new FakePanel(viewType, title, show.viewColumn === -2 ? 2 : show.viewColumn);
      created.push(p);
      return p;
    },
    showWarningMessage: async (message: string) => {
      warnings.push(message);
      return undefined;
    },
  });
  mock.timers.enable({ apis: ['setTimeout'] });
});

afterEach(() => {
  mock.timers.reset();
});

function manager(): PanelManager {
  const log = (level: string) => (m: string) => void logLines.push(`${level} ${m}`);
  const deps = {
    extensionUri: Uri.file('/ext'),
    log: { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug'), trace: log('trace') },
    openExample: async () => undefined,
    traceTestPoint: async () => undefined,
    traceAllMisclassified: async () => undefined,
    compareCases: async () => undefined,
    exampleService: {},
    configAt: async () => undefined,
  } as unknown as PanelManagerDeps;
  return new PanelManager(deps);
}

const entry = { path: '/ws/msif.json', label: 'msif.json' } as unknown as LoadedConfig;

/** Advances the fake clock through every ready timeout of one panel. */
function exhaustReadyTimeouts(): void {
  for (const ms of READY_TIMEOUTS_MS) mock.timers.tick(ms);
}

test('a webview that says ready in time is neither loaded again nor replaced', () => {
  const m = manager();
  m.showMisclassifiedLoading(entry, 'listing…');
  const [p] = created as [FakePanel];
  assert.equal(p.htmlLoads, 1);
  p.sayReady('misclassified');
  exhaustReadyTimeouts();
  assert.equal(p.htmlLoads, 1);
  assert.equal(created.length, 1);
  assert.equal(p.disposed, false);
  m.dispose();
});

test('a webview that never says ready is loaded again, then replaced by a new panel with the same content in the same column', async () => {
  const m = manager();
  const stuckPanel = m.showMisclassifiedLoading(entry, 'listing the test points…');
  const [p] = created as [FakePanel];
  for (let i = 0; i < READY_TIMEOUTS_MS.length - 1; i++) {
    mock.timers.tick(READY_TIMEOUTS_MS[i]!);
    assert.equal(p.htmlLoads, 2 + i, `page loads after try ${i + 1}`);
  }
  assert.equal(created.length, 1, 'no new panel before the last timeout');
  mock.timers.tick(READY_TIMEOUTS_MS.at(-1)!);
  assert.equal(created.length, 2, 'a new panel after the last timeout');
  const fresh = created[1]!;
  assert.equal(p.disposed, true, 'the stuck panel is closed');
  assert.equal(fresh.viewType, PANEL_VIEW_TYPES.misclassified);
  assert.equal(fresh.title, p.title);
  assert.equal(fresh.viewColumn, p.viewColumn);
  const replacement = m.find('misclassified', entry.path);
  assert.ok(replacement && replacement !== stuckPanel && replacement.panel === (fresh as unknown), 'the manager holds the new panel under the same key');
  assert.ok(logLines.some((l) => /replaced by a new panel/.test(l)), logLines.join('\n'));

  // The new panel answers the handshake with what the old one held (here: busy, no model).
  fresh.sayReady('misclassified');
  await new Promise((r) => setImmediate(r));
  const answer = fresh.posted[0] as { params?: { result?: { busy?: { busy: boolean; message?: string } } } };
  assert.deepEqual(answer.params?.result?.busy, { busy: true, message: 'listing the test points…' });
  exhaustReadyTimeouts();
  assert.equal(created.length, 2, 'a ready replacement stays');
  m.dispose();
});

test(`after ${MAX_PANEL_REPLACEMENTS} replacements that never load, MSIF warns and stops replacing`, () => {
  const m = manager();
  m.showMisclassifiedLoading(entry, 'listing…');
  for (let i = 0; i <= MAX_PANEL_REPLACEMENTS; i++) exhaustReadyTimeouts();
  assert.equal(created.length, 1 + MAX_PANEL_REPLACEMENTS);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /did not load/);
  exhaustReadyTimeouts();
  assert.equal(created.length, 1 + MAX_PANEL_REPLACEMENTS, 'no more panels');
  assert.equal(created.at(-1)!.disposed, false, 'the last panel stays open');
  m.dispose();
});

test('a hidden webview is not timed: the clock starts again when it is shown', () => {
  const m = manager();
  m.showMisclassifiedLoading(entry, 'listing…');
  const [p] = created as [FakePanel];
  p.visible = false;
  // The timer already running sees the panel hidden and does nothing.
  exhaustReadyTimeouts();
  assert.equal(p.htmlLoads, 1);
  assert.equal(created.length, 1);
  p.show();
  mock.timers.tick(READY_TIMEOUTS_MS[0]!);
  assert.equal(p.htmlLoads, 2, 'timed again once shown');
  m.dispose();
});

test('a panel revived by its serializer is replaced too when its webview never loads', async () => {
  const m = manager();
  const revived = new FakePanel(PANEL_VIEW_TYPES.misclassified, 'MSIF: misclassified', 1);
  await serializers.get(PANEL_VIEW_TYPES.misclassified)!.deserializeWebviewPanel(revived, { configPath: entry.path });
  exhaustReadyTimeouts();
  assert.equal(revived.disposed, true);
  assert.equal(created.length, 1);
  assert.equal(created[0]!.viewColumn, 1);
  created[0]!.sayReady('misclassified');
  await new Promise((r) => setImmediate(r));
  const answer = created[0]!.posted[0] as { params?: { result?: { error?: string } } };
  assert.match(answer.params?.result?.error ?? '', /nothing to show after the reload/, 'the revived panel\'s message is carried over');
  m.dispose();
});
