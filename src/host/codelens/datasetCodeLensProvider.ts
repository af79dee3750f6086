/**
 * CodeLens on the workspace's dataset files and msif.json:
 * - test dataset records: "Trace to pretraining data";
 * - pretraining dataset records, once a trace has finished: "Influence <score> · rank r/m";
 * - msif.json, line 0: "Trace misclassified" and "Compare cases".
 * Record positions come from `common/lineRanges` (cached per document version); only the
 * records near the visible ranges get lenses, and influence titles are made in
 * `resolveCodeLens`, so a 100,000-line file stays cheap.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { recordRanges } from '../../common/lineRanges';
import type { RecordRange } from '../../common/lineRanges';
import { LruCache } from '../cache/lruCache';
import type { ConfigRegistry } from '../configRegistry';
import { Disposable } from '../lifecycle';
import type { TraceStore } from '../traceStore';
import {
  COMPARE_CASES_LENS_TITLE,
  influenceLensTitle,
  recordsForLenses,
  TRACE_LENS_TITLE,
  TRACE_MISCLASSIFIED_LENS_TITLE,
  windowsMovedFar,
} from './lensPlan';
import type { LineWindow } from './lensPlan';

export interface LensCommands {
  readonly trace: string;
  readonly compare: string;
}

/** An influence lens waiting for its title. */
class InfluenceLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly configPath: string,
    readonly index: number,
    readonly traceKey: string,
  ) {
    super(range);
  }
}

/** Visible-range changes refresh lenses after this quiet time. */
const SCROLL_DEBOUNCE_MS = 150;

export class DatasetCodeLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly ranges = new LruCache<string, { readonly version: number; readonly ranges: RecordRange[] }>(8);
  /** The windows the lenses of each document were last made for. */
  private readonly madeFor = new Map<string, LineWindow[]>();
  private scrollTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly registry: ConfigRegistry,
    private readonly store: TraceStore,
    private readonly commands: LensCommands,
  ) {
    super();
    this._register(store.onDidChange(() => this.changed.fire()));
    this._register(registry.onDidChange(() => this.changed.fire()));
    vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.onScroll(e), this, this._disposables);
    vscode.workspace.onDidCloseTextDocument(
      (d) => {
        this.ranges.delete(d.uri.toString());
        this.madeFor.delete(d.uri.toString());
      },
      this,
      this._disposables,
    );
    this._register({ dispose: () => clearTimeout(this.scrollTimer) });
  }

  provideCodeLenses(document: vscode.TextDocument, token: vscode.CancellationToken): vscode.CodeLens[] {
    const file = path.resolve(document.uri.fsPath);
    if (path.basename(file) === 'msif.json' && this.registry.get(file)) return this.configLenses(file);
    const uses = this.registry.usesOf(file).filter((u) => u.role === 'test' || u.role === 'pretrain');
    if (uses.length === 0 || token.isCancellationRequested) return [];
    const ranges = this.rangesOf(document);
    const windows = this.windowsOf(document);
    this.madeFor.set(document.uri.toString(), windows);
    const records = recordsForLenses(ranges, windows);
    const lenses: vscode.CodeLens[] = [];
    for (const use of uses) {
      if (use.role === 'test') {
        for (const r of records) {
          lenses.push(
            new vscode.CodeLens(lineRange(r.line), {
              title: TRACE_LENS_TITLE,
              command: this.commands.trace,
              arguments: [{ config: use.configPath, test: String(r.index) }],
              tooltip: `Trace test point ${r.index} back to the pretraining examples that influence it`,
            }),
          );
        }
      } else {
        const trace = this.store.latest(use.configPath);
        if (!trace || trace.report.scores.length !== ranges.length) continue;
        for (const r of records) lenses.push(new InfluenceLens(lineRange(r.line), use.configPath, r.index, trace.key));
      }
    }
    return lenses;
  }

  resolveCodeLens(lens: vscode.CodeLens): vscode.CodeLens {
    if (!(lens instanceof InfluenceLens)) return lens;
    const trace = this.store.latest(lens.configPath);
    const score = trace?.report.scores[lens.index];
    if (!trace || trace.key !== lens.traceKey || score === undefined) {
      lens.command = { title: 'Influence: out of date', command: '' };
      return lens;
    }
    const rank = this.store.ranksOf(trace.report)[lens.index] as number;
    const tests = trace.report.test.length === 1 ? `test point ${trace.report.test[0]?.id}` : `${trace.report.test.length} test points`;
    lens.command = {
      title: influenceLensTitle(score, rank, trace.report.scores.length),
      command: '',
      tooltip: `I(z, x_t) for ${tests} (${trace.case}): ${score > 0 ? 'harmful' : score < 0 ? 'helpful' : 'neutral'}`,
    };
    return lens;
  }

  private configLenses(configPath: string): vscode.CodeLens[] {
    const top = lineRange(1);
    return [
      new vscode.CodeLens(top, { title: TRACE_MISCLASSIFIED_LENS_TITLE, command: this.commands.trace, arguments: [{ config: configPath, test: 'misclassified' }] }),
      new vscode.CodeLens(top, { title: COMPARE_CASES_LENS_TITLE, command: this.commands.compare, arguments: [{ config: configPath }] }),
    ];
  }

  private rangesOf(document: vscode.TextDocument): RecordRange[] {
    const key = document.uri.toString();
    const cached = this.ranges.get(key);
    if (cached && cached.version === document.version) return cached.ranges;
    const ranges = recordRanges(document.getText());
    this.ranges.set(key, { version: document.version, ranges });
    return ranges;
  }

  private windowsOf(document: vscode.TextDocument): LineWindow[] {
    return vscode.window.visibleTextEditors
      .filter((e) => e.document === document)
      .flatMap((e) => e.visibleRanges.map((r) => ({ start: r.start.line, end: r.end.line })));
  }

  private onScroll(e: vscode.TextEditorVisibleRangesChangeEvent): void {
    const key = e.textEditor.document.uri.toString();
    const previous = this.madeFor.get(key);
    if (!previous) return; // not a document with lenses
    const next = e.visibleRanges.map((r) => ({ start: r.start.line, end: r.end.line }));
    if (!windowsMovedFar(previous, next)) return;
    clearTimeout(this.scrollTimer);
    this.scrollTimer = setTimeout(() => this.changed.fire(), SCROLL_DEBOUNCE_MS);
  }
}

/** The range of 1-based `line`. */
function lineRange(line: number): vscode.Range {
  return new vscode.Range(line - 1, 0, line - 1, 0);
}
