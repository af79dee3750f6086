/**
 * "MSIF: Compare Case 1 and Case 2": traces the same test points with the embedding
 * fixed (Case 1) and updated (Case 2) during finetuning, and shows both score vectors
 * side by side (scatter, Spearman's rank correlation, top-K overlap).
 */
import type { TraceReport } from '../../protocol/report';
import { parseCommandArgs } from '../commandArgs';
import type { Ctx } from '../ctx';
import { pickTestSelection } from '../pickers';
import { CANCELLED } from '../progress/withJobProgress';
import type { ComparePanelModel } from '../../protocol/webviewProtocol';

export interface CompareResult {
  readonly fixed: TraceReport;
  readonly updated: TraceReport;
  readonly spearman: number;
  readonly overlap: ComparePanelModel['overlap'];
}

export function compareCases(ctx: Ctx) {
  return async (arg?: unknown): Promise<CompareResult | undefined> => {
    const args = parseCommandArgs(arg);
    try {
      const entry = await ctx.pickConfig(args.config);
      if (!entry) return undefined;
      const test = args.test ?? (await pickTestSelection(entry, ctx.traces, ctx.examples, 'MSIF: Compare Case 1 and Case 2'));
      if (test === undefined) return undefined;
      const fixed = await ctx.traces.trace(entry, { test, case: 'fixed' }, `MSIF: Case 1 (embedding fixed), test ${test}`);
      if (fixed === CANCELLED) return undefined;
      const updated = await ctx.traces.trace(entry, { test, case: 'updated' }, `MSIF: Case 2 (embedding updated), test ${test}`);
      if (updated === CANCELLED) return undefined;
      const panel = await ctx.panels.showCompare(entry, test, fixed.report, updated.report, ctx.settings.current.topK);
      const model = panel.currentModel;
      if (model?.kind !== 'compare') return undefined;
      return { fixed: fixed.report, updated: updated.report, spearman: model.spearman, overlap: model.overlap };
    } catch (e) {
      ctx.showError(e, 'Compare Case 1 and Case 2');
      if (args.rethrow) throw e;
      return undefined;
    }
  };
}
