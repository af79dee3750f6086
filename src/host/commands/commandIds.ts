/** The IDs of the MSIF commands (contributed in package.json, category "MSIF"). */
export const CommandIds = {
  traceToPretraining: 'msif.traceToPretraining',
  compareCases: 'msif.compareCases',
  showMisclassified: 'msif.showMisclassified',
  validateInfluence: 'msif.validateInfluence',
  restartWorker: 'msif.restartWorker',
  showLog: 'msif.showLog',
  selectConfig: 'msif.selectConfig',
  installTensorflowBackend: 'msif.installTensorflowBackend',
  cleansePretraining: 'msif.cleansePretraining',
  writeFilteredPretraining: 'msif.writeFilteredPretraining',
  compareTaskSimilarity: 'msif.compareTaskSimilarity',
} as const;

export type CommandId = (typeof CommandIds)[keyof typeof CommandIds];

/** Context keys set by the extension (for `when` clauses). */
export const ContextKeys = {
  hasConfig: 'msif.hasConfig',
  multipleConfigs: 'msif.multipleConfigs',
  hasTrace: 'msif.hasTrace',
} as const;

/** The tree view's id. */
export const INFLUENCE_VIEW_ID = 'msif.influentialExamples';
