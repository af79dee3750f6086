/**
 * "MSIF: Compare task similarity" (paper §4.3–4.4): traces two workspaces (msif.json
 * files) in the worker and shows their influence-score distributions side by side,
 * normalised per test point: log-density histograms on common bins, mean and median
 * |score|, quantiles, and the paper's reading (more similar tasks, larger magnitudes;
 * larger finetuning sets, smaller ones). With fewer than two configs in the workspace it
 * offers a file dialog.
 * Automation: `executeCommand('msif.compareTaskSimilarity', {config, other, test?, case?, rethrow?})`
 * resolves to the report.
 */
import * as vscode from 'vscode';
import type { SimilarityReport } from '../../protocol/similarityReport';
import { isLoaded } from '../configRegistry';
import type { LoadedConfig } from '../configRegistry';
import type { Ctx } from '../ctx';
import { CANCELLED } from '../progress/withJobProgress';
import { similarityCached } from './cleanseRuns';
import { parseSimilarityArgs } from './similarityArgs';

const TITLE = 'MSIF: Compare task similarity';

/** Asks for one workspace config: one of the workspace's, or any msif.json by file dialog. */
async function pickWorkspace(ctx: Ctx, which: 'A' | 'B', exclude?: string): Promise<LoadedConfig | undefined> {
  await ctx.registry.whenReady();
  const loaded = ctx.registry.all().filter(isLoaded).filter((e) => e.path !== exclude);
  const browse = '$(folder-opened) Choose an msif.json file…';
  const items: (vscode.QuickPickItem & { path?: string })[] = [
    ...loaded.map((e) => ({ label: e.label, detail: `embedding ${e.config.finetune.embedding} · ${e.path}`, path: e.path })),
    { label: browse, detail: loaded.length === 0 ? 'The workspace has no other msif.json.' : undefined },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: `${TITLE} (${which === 'A' ? '1' : '2'}/2)`,
    placeHolder: which === 'A' ? 'Workspace A: the first msif.json' : 'Workspace B: the msif.json to compare with',
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  let file = picked.path;
  if (file === undefined) {
    const uris = await vscode.window.showOpenDialog({ title: `MSIF: Workspace ${which} (msif.json)`, canSelectMany: false, filters: { 'MSIF workspace': ['json'] }, openLabel: `Use as workspace ${which}` });
    file = uris?.[0]?.fsPath;
    if (file === undefined) return undefined;
  }
  return ctx.pickConfig(file);
}

/** Asks which test points to sum: all (default) or the misclassified ones. */
async function pickTest(): Promise<string | undefined> {
  const items: (vscode.QuickPickItem & { test: string })[] = [
    { label: 'All test points', description: 'recommended', detail: 'Each workspace\'s scores summed over its whole test set, then divided by its size.', test: 'all' },
    { label: 'Misclassified test points', detail: 'Summed over each workspace\'s misclassified test points, divided by their number.', test: 'misclassified' },
  ];
  return (await vscode.window.showQuickPick(items, { title: TITLE, placeHolder: 'Which test points?', ignoreFocusOut: true }))?.test;
}

export function compareTaskSimilarity(ctx: Ctx) {
  return async (arg?: unknown): Promise<SimilarityReport | undefined> => {
    const args = parseSimilarityArgs(arg);
    try {
      const a = args.config !== undefined ? await ctx.pickConfig(args.config) : await pickWorkspace(ctx, 'A');
      if (!a) return undefined;
      const b = args.other !== undefined ? await ctx.pickConfig(args.other) : await pickWorkspace(ctx, 'B', a.path);
      if (!b) return undefined;
      if (a.path === b.path) {
        void vscode.window.showWarningMessage('MSIF: pick two different msif.json files to compare.');
        return undefined;
      }
      const test = args.test ?? (args.config !== undefined && args.other !== undefined ? 'all' : await pickTest());
      if (test === undefined) return undefined;
      const result = await similarityCached(ctx, a, b, { test, ...(args.case ? { case: args.case } : {}) }, `MSIF: Tracing ${a.label} and ${b.label}`);
      if (result === CANCELLED) return undefined;
      ctx.panels.showSimilarity(a, b, result.report);
      return result.report;
    } catch (e) {
      ctx.showError(e, 'Compare task similarity');
      if (args.rethrow) throw e;
      return undefined;
    }
  };
}
