/**
 * The HTML shell of every MSIF webview: a strict Content Security Policy (scripts only
 * with this load's nonce, styles and fonts only from the extension, images from the
 * extension or data URIs), the bundle `dist/webview/main.js` and its stylesheet, and a
 * root element carrying the panel's `data-testid`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { PanelKind } from '../../protocol/webviewProtocol';

/** A fresh nonce for one page load. */
export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/** Where the webview may load files from. */
export function localResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return { enableScripts: true, localResourceRoots: localResourceRoots(extensionUri), enableFindWidget: true };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, kind: PanelKind, title: string): string {
  const nonce = makeNonce();
  const script = vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'main.js');
  const style = vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'main.css');
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    // The nonce: the toolkit (FAST) feature-tests :focus-visible with a <style> element
    // that carries the nonce of <meta property="csp-nonce">.
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const built = existsSync(script.fsPath);
  const body = built
    ? `<main id="root" data-testid="${kind}-panel" data-panel="${kind}" aria-busy="true"><p class="placeholder">Loading…</p></main>
    <script type="module" nonce="${nonce}" src="${webview.asWebviewUri(script)}"></script>`
    : `<main id="root" data-testid="${kind}-panel" data-panel="${kind}">
      <div data-testid="panel-error" role="alert">The MSIF webview bundle (dist/webview/main.js) is missing: run <code>npm run build</code>.</div>
    </main>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta property="csp-nonce" content="${nonce}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  ${existsSync(style.fsPath) ? `<link rel="stylesheet" href="${webview.asWebviewUri(style)}">` : ''}
  <title>${escapeHtml(title)}</title>
</head>
<body data-panel="${kind}">
  ${body}
</body>
</html>`;
}
