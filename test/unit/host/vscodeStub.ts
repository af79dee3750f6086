/**
 * A minimal `vscode` module for unit tests of host code that imports it at run time:
 * import this file before such code. Only what those tests reach is here:
 * `Uri` (file paths only), `ViewColumn`, and `window.withProgress`, which runs the task at once, with a token that is never cancelled. Tests
 * that need more add it to `vscodeStub.window` (its top-level names are copied when a module
 * imports `vscode`, so add those here).
 */
import Module = require('node:module');

/** The stub itself: a test may add what its code under test reaches (assign before that code runs). */
export const vscodeStub: Record<string, unknown> & { window: Record<string, unknown> } = {
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2, Three: 3 },
  /** A file URI, as far as path joining goes. */
  Uri: class Uri {
    constructor(readonly fsPath: string) {}
    static file(p: string): Uri {
      return new Uri(p);
    }
    static joinPath(base: Uri, ...parts: string[]): Uri {
      return new Uri([base.fsPath, ...parts].join('/'));
    }
    toString(): string {
      return `file://${this.fsPath}`;
    }
  },
  window: {
    withProgress: <R>(_options: unknown, task: (progress: { report(value: unknown): void }, token: unknown) => Promise<R>): Promise<R> =>
      task({ report: () => undefined }, { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) }),
  },
};

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };
const load = loader._load;
loader._load = function (request, parent, isMain) {
  return request === 'vscode' ? vscodeStub : load.call(this, request, parent, isMain);
};
