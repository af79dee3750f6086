/**
 * "MSIF: Write filtered pretraining data" (from the cleanse panel): writes the
 * pretraining set without the removed examples to a new JSON Lines file the user picks.
 * The worker copies JSON Lines lines byte for byte and refuses every file of the
 * workspace; the user's files are never touched otherwise.
 * Automation: `executeCommand('msif.writeFilteredPretraining', {config, exclude, out?, rethrow?})`
 * resolves to the written path.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { CANCELLED, withJobProgress } from '../progress/withJobProgress';
import { parseWriteFilteredArgs } from './cleanseArgs';

export function writeFilteredPretraining(ctx: Ctx) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const args = parseWriteFilteredArgs(arg);
    if (!args) {
      void vscode.window.showErrorMessage('MSIF: run "Cleanse pretraining data" first; its panel writes the filtered dataset.');
      return undefined;
    }
    try {
      const entry = await ctx.pickConfig(args.config);
      if (!entry) return undefined;
      let out = args.out;
      if (out === undefined) {
        const spec = entry.config.pretrain.train;
        const source = spec.format === 'jsonl' ? spec.path : spec.x;
        const base = path.basename(source).replace(/(\.jsonl)?(\.gz)?$/, '');
        const target = await vscode.window.showSaveDialog({
          title: `MSIF: Write the pretraining set without the ${args.exclude.length} removed examples`,
          defaultUri: vscode.Uri.file(path.join(path.dirname(source), `${base}.cleansed.jsonl`)),
          filters: { 'JSON Lines': ['jsonl'] },
          saveLabel: 'Write filtered dataset',
        });
        if (!target) return undefined;
        out = target.fsPath;
      }
      const file = out;
      // The save dialog asked before replacing a file; the worker still refuses the workspace's files.
      const written = await withJobProgress('MSIF: Writing the filtered pretraining set', (call) =>
        ctx.engine.writeFiltered(entry.path, { exclude: args.exclude, out: file, overwrite: args.out === undefined }, call),
      );
      if (written === CANCELLED) return undefined;
      ctx.log.info(`wrote ${written.written} pretraining examples (${written.excluded} left out, ${written.mode}) to ${file}`);
      void vscode.window.showInformationMessage(`MSIF: wrote ${written.written} pretraining examples to ${path.basename(file)} (${written.excluded} left out).`, 'Open').then((choice) => {
        if (choice === 'Open') void vscode.window.showTextDocument(vscode.Uri.file(file));
      });
      return file;
    } catch (e) {
      ctx.showError(e, 'Write filtered pretraining data');
      if (args.rethrow) throw e;
      return undefined;
    }
  };
}
