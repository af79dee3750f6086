/** The webview's handle on VS Code (acquired once per page), typed by @types/vscode-webview. */
import type { WebviewApi } from 'vscode-webview';
import type { PanelState } from '../src/protocol/webviewProtocol';

export const vscodeApi: WebviewApi<PanelState> = acquireVsCodeApi<PanelState>();
