/** "MSIF: Restart worker": stops the engine worker, forgets its crashes and starts a new one. */
import * as vscode from 'vscode';
import type { InitializeResult } from '../../protocol/engineProtocol';
import type { Ctx } from '../ctx';

export function restartWorker(ctx: Ctx) {
  return async (): Promise<InitializeResult | undefined> => {
    try {
      const info = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'MSIF: Restarting the worker…' },
        () => ctx.engine.restart(),
      );
      void vscode.window.showInformationMessage(`MSIF: worker restarted (backend ${info.backend}).`);
      return info;
    } catch (e) {
      ctx.showError(e, 'Restart worker');
      return undefined;
    }
  };
}
