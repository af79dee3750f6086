/**
 * The webview bundle (`dist/webview/main.js`) of every MSIF panel; the root element's
 * `data-panel` says which one this page is.
 */
import './styles.css';
import { LogCommand } from '../src/protocol/webviewProtocol';
import type { ComparePanelModel, MisclassifiedPanelModel, PanelKind, PanelModel, TracePanelModel, ValidatePanelModel } from '../src/protocol/webviewProtocol';
import { PanelApp } from './app';
import type { PanelContext } from './app';
import { registerComponents } from './components/toolkit';
import { HostConnection } from './ipc';
import { comparePanel } from './panels/comparePanel';
import { misclassifiedPanel } from './panels/misclassifiedPanel';
import { tracePanel } from './panels/tracePanel';
import { validatePanel } from './panels/validatePanel';
import { cleansePanel } from './panels/cleansePanel';
import { similarityPanel } from './panels/similarityPanel';
import { vscodeApi } from './vscodeApi';

function view(model: PanelModel, ctx: PanelContext): HTMLElement {
  switch (model.kind) {
    case 'trace':
      return tracePanel(model as TracePanelModel, ctx);
    case 'misclassified':
      return misclassifiedPanel(model as MisclassifiedPanelModel, ctx);
    case 'compare':
      return comparePanel(model as ComparePanelModel, ctx);
    case 'validate':
      return validatePanel(model as ValidatePanelModel, ctx);
    case 'cleanse':
      return cleansePanel(model, ctx);
    case 'similarity':
      return similarityPanel(model, ctx);
  }
}

const root = document.getElementById('root');
const kind = root?.dataset['panel'] as PanelKind | undefined;
const host = new HostConnection(vscodeApi);
window.addEventListener('error', (e) => host.command(LogCommand, { level: 'error', message: `${e.message} (${e.filename}:${e.lineno})` }));
window.addEventListener('unhandledrejection', (e) => host.command(LogCommand, { level: 'error', message: `unhandled rejection: ${String(e.reason)}` }));
if (root && kind) {
  registerComponents();
  void new PanelApp(root, kind, vscodeApi, host, view).start();
}
