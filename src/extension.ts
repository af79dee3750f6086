/**
 * The MSIF extension's entry: builds the context, registers the commands, and reports
 * an activation failure to the user (VS Code would only log it).
 */
import * as vscode from 'vscode';
import { registerCommands } from './host/commands/registerCommands';
import { Ctx } from './host/ctx';

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): void {
  try {
    ctx = new Ctx(context);
    for (const d of registerCommands(ctx)) context.subscriptions.push(d);
    context.subscriptions.push(ctx);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    void vscode.window.showErrorMessage(`MSIF could not start: ${message}`);
    throw e;
  }
}

/** Stops the worker and waits for it to exit. */
export async function deactivate(): Promise<void> {
  const current = ctx;
  ctx = undefined;
  if (!current) return;
  current.dispose();
  await current.engine.whenStopped();
}
