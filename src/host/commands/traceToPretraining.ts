/**
 * "MSIF: Trace to pretraining data": traces the chosen test points back to the
 * pretraining examples and shows the result (panel, tree, CodeLens). Without a test
 * selection it asks (the record under the cursor, misclassified points, sets).
 * Automation: `executeCommand('msif.traceToPretraining', {config, test: '3', case?})`
 * resolves to the trace report (undefined when cancelled or failed).
 */
import * as path from 'node:path';
import type { TraceReport } from '../../protocol/report';
import { parseCommandArgs } from '../commandArgs';
import type { Ctx } from '../ctx';
import { pickTestSelection } from '../pickers';
import { CANCELLED } from '../progress/withJobProgress';
import { caseName } from '../views/influenceTree';
import { isSingleSelection } from '../traceSettings';

export function traceToPretraining(ctx: Ctx) {
  return async (arg?: unknown): Promise<TraceReport | undefined> => {
    const args = parseCommandArgs(arg);
    try {
      // Run on a file: an msif.json is the config; a dataset file implies its config.
      let configPath = args.config;
      if (configPath === undefined && args.file !== undefined) {
        if (path.basename(args.file) === 'msif.json') configPath = args.file;
        else configPath = ctx.registry.usesOf(args.file)[0]?.configPath;
      }
      const entry = await ctx.pickConfig(configPath);
      if (!entry) return undefined;
      const test = args.test ?? (await pickTestSelection(entry, ctx.traces, ctx.examples, 'MSIF: Trace to pretraining data'));
      if (test === undefined) return undefined;
      const kase = args.case ?? entry.config.finetune.embedding;
      const what = isSingleSelection(test) ? `test point ${test}` : test === 'all' ? 'all test points' : 'the misclassified test points';
      const result = await ctx.traces.trace(entry, { test, case: kase }, `MSIF: Tracing ${what} (${caseName(kase)})`);
      if (result === CANCELLED) return undefined;
      await ctx.panels.showTrace(entry, result.entry);
      return result.report;
    } catch (e) {
      ctx.showError(e, 'Trace to pretraining data');
      if (args.rethrow) throw e;
      return undefined;
    }
  };
}
