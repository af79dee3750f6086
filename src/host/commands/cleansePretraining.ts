/**
 * "MSIF: Cleanse pretraining data" (paper §4.2): removes the top p% harmful pretraining
 * examples, retrains both stages from the saved weights in the worker, and shows the test
 * accuracy and loss of every arm (nothing removed, cleansed, random removals) in a panel.
 * Nothing of the workspace is written; the panel offers to write the filtered dataset.
 * Automation: `executeCommand('msif.cleansePretraining', {config, percent, by?,
 * heldoutFraction?, case?, randomTrials?, seed?, rethrow?})` resolves to the report
 * (undefined when cancelled or failed).
 */
import * as vscode from 'vscode';
import type { CleanseReport, CleanseScoring } from '../../protocol/cleanseReport';
import type { Ctx } from '../ctx';
import { CANCELLED } from '../progress/withJobProgress';
import { parseCleanseArgs, PERCENT_CHOICES, percentProblem } from './cleanseArgs';
import { cleanseCached } from './cleanseRuns';

const TITLE = 'MSIF: Cleanse pretraining data';

/** Asks for the percentage to remove: a few choices, or any number in (0, 100). */
async function pickPercent(): Promise<number | undefined> {
  const other = '$(edit) Other percentage…';
  const items: (vscode.QuickPickItem & { percent?: number })[] = [
    ...PERCENT_CHOICES.map((p) => ({ label: `${p}%`, description: p === 10 ? 'the paper removes 10%' : undefined, percent: p })),
    { label: other },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: TITLE, placeHolder: 'Remove the top how many percent of harmful pretraining examples?', ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.percent !== undefined) return picked.percent;
  const text = await vscode.window.showInputBox({ title: TITLE, prompt: 'Percentage of the pretraining set to remove (0 < P < 100)', validateInput: percentProblem, ignoreFocusOut: true });
  return text === undefined ? undefined : Number(text.trim());
}

/** Asks which points score harmfulness: a held-out split (default) or the test set. */
async function pickScoring(): Promise<CleanseScoring | undefined> {
  const items: (vscode.QuickPickItem & { by: CleanseScoring })[] = [
    {
      label: 'Held-out split of the finetuning set',
      description: 'recommended',
      detail: 'A seeded 20% of the finetuning training set scores the examples and is left out of finetuning in every arm: the test set plays no part in the choice.',
      by: 'heldout',
    },
    {
      label: 'The test set',
      detail: 'The test set scores the examples (as "Trace" with all test points): the cleansed arm\'s test numbers are then optimistic.',
      by: 'test',
    },
  ];
  return (await vscode.window.showQuickPick(items, { title: TITLE, placeHolder: 'Which points decide what is harmful?', ignoreFocusOut: true }))?.by;
}

export function cleansePretraining(ctx: Ctx) {
  return async (arg?: unknown): Promise<CleanseReport | undefined> => {
    const args = parseCleanseArgs(arg);
    try {
      const entry = await ctx.pickConfig(args.config);
      if (!entry) return undefined;
      const percent = args.percent ?? (await pickPercent());
      if (percent === undefined) return undefined;
      const by = args.by ?? (await pickScoring());
      if (by === undefined) return undefined;
      const options = {
        percent,
        by,
        ...(args.heldoutFraction !== undefined ? { heldoutFraction: args.heldoutFraction } : {}),
        ...(args.case !== undefined ? { case: args.case } : {}),
        ...(args.randomTrials !== undefined ? { randomTrials: args.randomTrials } : {}),
        ...(args.seed !== undefined ? { seed: args.seed } : {}),
      };
      const result = await cleanseCached(ctx, entry, options, `MSIF: Cleansing ${percent}% of the pretraining data (retraining every arm)`);
      if (result === CANCELLED) return undefined;
      await ctx.panels.showCleanse(entry, result.report);
      return result.report;
    } catch (e) {
      ctx.showError(e, 'Cleanse pretraining data');
      if (args.rethrow) throw e;
      return undefined;
    }
  };
}
