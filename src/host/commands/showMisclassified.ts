/**
 * "MSIF: Show misclassified test points": lists the finetuned model's misclassified test
 * points (image or text, true and predicted label) in a panel; a row traces its point.
 */
import { parseCommandArgs } from '../commandArgs';
import type { Ctx } from '../ctx';
import { CANCELLED } from '../progress/withJobProgress';

export function showMisclassified(ctx: Ctx) {
  return async (arg?: unknown): Promise<number | undefined> => {
    const args = parseCommandArgs(arg);
    try {
      const entry = await ctx.pickConfig(args.config);
      if (!entry) return undefined;
      const panel = ctx.panels.showMisclassifiedLoading(entry, 'Finding the misclassified test points…');
      let result;
      try {
        result = await ctx.traces.misclassified(entry);
      } catch (e) {
        panel.setBusy(false);
        panel.showError(e instanceof Error ? e.message : String(e));
        throw e;
      }
      if (result === CANCELLED) {
        panel.setBusy(false);
        panel.showError('Cancelled. Run "MSIF: Show misclassified test points" again to list them.');
        return undefined;
      }
      await ctx.panels.showMisclassified(entry, result.points, result.testCount);
      return result.points.length;
    } catch (e) {
      ctx.showError(e, 'Show misclassified test points');
      if (args.rethrow) throw e;
      return undefined;
    }
  };
}
