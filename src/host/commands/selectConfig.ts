/** "MSIF: Select workspace config (msif.json)": chooses the msif.json the commands use (remembered per workspace). */
import * as vscode from 'vscode';
import { parseCommandArgs } from '../commandArgs';
import type { Ctx } from '../ctx';

export function selectConfig(ctx: Ctx) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const args = parseCommandArgs(arg);
    try {
      const entry = await ctx.pickConfig(args.config, args.config === undefined);
      if (!entry) return undefined;
      await ctx.configs.remember(entry.path);
      ctx.log.info(`selected ${entry.label}`);
      void vscode.window.setStatusBarMessage(`MSIF: using ${entry.label}`, 4000);
      return entry.path;
    } catch (e) {
      ctx.showError(e, 'Select workspace config');
      return undefined;
    }
  };
}
