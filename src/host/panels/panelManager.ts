/**
 * Creates, reuses and revives the MSIF webview panels: one trace panel per (config, test
 * selection, case), one misclassified panel per config, one comparison per (config,
 * selection). Panel serializers bring them back after a window reload from the state
 * their webviews kept.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestPointSummary, TraceReport } from '../../protocol/report';
import { PANEL_VIEW_TYPES } from '../../protocol/webviewProtocol';
import type { DatasetRole, ExampleView, PanelKind, PanelModel, PanelState } from '../../protocol/webviewProtocol';
import type { LoadedConfig } from '../configRegistry';
import type { ExampleService } from '../data/exampleService';
import { Disposable } from '../lifecycle';
import type { TraceEntry } from '../traceStore';
import { MsifPanel } from './msifPanel';
import type { PanelServices } from './msifPanel';
import { comparePanelModel, isMisclassified, misclassifiedPanelModel, MISCLASSIFIED_TITLE, tracePanelModel } from './panelModels';
import { webviewOptions } from './webviewHtml';
import { cleansePanelModel, similarityPanelModel } from './analysisPanelModels';
import type { CleanseReport } from '../../protocol/cleanseReport';
import type { SimilarityReport } from '../../protocol/similarityReport';
import { validatePanelModel } from './validatePanelModel';
import type { ValidateReport } from '../../protocol/validateReport';

/** Test point views sent with a panel's model; more come on request. */
export const INITIAL_TEST_EXAMPLES = 60;

/** How many times a panel whose webview never loads is replaced by a new one before MSIF gives up. */
export const MAX_PANEL_REPLACEMENTS = 2;

export interface PanelManagerDeps extends Omit<PanelServices, 'examples'> {
  readonly exampleService: ExampleService;
  /** The loaded config at a path, if it still parses. */
  readonly configAt: (configPath: string) => Promise<LoadedConfig | undefined>;
}

function panelKey(kind: PanelKind, configPath: string, ...parts: string[]): string {
  return [kind, configPath, ...parts].join('\0');
}

function keyOfModel(configPath: string, model: PanelModel): string {
  switch (model.kind) {
    case 'trace':
      return panelKey('trace', configPath, model.selection, model.result.case);
    case 'compare':
      return panelKey('compare', configPath, model.selection);
    case 'misclassified':
      return panelKey('misclassified', configPath);
    case 'validate':
      return panelKey('validate', configPath, model.selection, model.case);
    case 'cleanse':
      return panelKey('cleanse', configPath, model.by, String(model.percent), model.case);
    case 'similarity':
      return panelKey('similarity', configPath, model.otherConfigPath, model.a.test);
  }
}

export class PanelManager extends Disposable {
  private readonly panels = new Map<string, MsifPanel>();
  private revision = 0;
  private readonly services: PanelServices;

  constructor(private readonly deps: PanelManagerDeps) {
    super();
    this.services = {
      ...deps,
      examples: (configPath, role, indices) => this.examples(configPath, role, indices),
    };
    for (const kind of Object.keys(PANEL_VIEW_TYPES) as PanelKind[]) {
      this._register(
        vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPES[kind], {
          deserializeWebviewPanel: async (panel, state: unknown) => this.revive(kind, panel, state),
        }),
      );
    }
  }

  /** Panels currently open (for tests and the tree). */
  openPanels(): readonly MsifPanel[] {
    return [...this.panels.values()];
  }

  async showTrace(entry: LoadedConfig, trace: TraceEntry): Promise<MsifPanel> {
    const { report } = trace;
    const names = await this.deps.exampleService.labelNames(entry.config.finetune.test);
    const examples = await this.initialExamples(entry, report.harmful.concat(report.helpful).map((r) => r.index), report.test);
    const model = tracePanelModel({ revision: ++this.revision, configPath: entry.path, configLabel: entry.label, selection: trace.selection, report, names, examples });
    return this.show(panelKey('trace', entry.path, trace.selection, trace.case), 'trace', entry.path, model);
  }

  /** Opens (or reveals) the misclassified panel in its busy state, before the list is known. */
  showMisclassifiedLoading(entry: LoadedConfig, message: string): MsifPanel {
    const panel = this.show(panelKey('misclassified', entry.path), 'misclassified', entry.path, undefined, MISCLASSIFIED_TITLE);
    panel.setBusy(true, message);
    return panel;
  }

  async showMisclassified(entry: LoadedConfig, points: readonly TestPointSummary[], testCount: number | undefined): Promise<MsifPanel> {
    const names = await this.deps.exampleService.labelNames(entry.config.finetune.test);
    const wrong = points.filter(isMisclassified);
    const examples = await this.initialExamples(entry, [], wrong);
    const model = misclassifiedPanelModel({
      revision: ++this.revision,
      configPath: entry.path,
      configLabel: entry.label,
      points: wrong,
      ...(testCount !== undefined ? { testCount } : {}),
      names,
      examples,
    });
    const panel = this.show(panelKey('misclassified', entry.path), 'misclassified', entry.path, model);
    panel.setBusy(false);
    return panel;
  }

  async showCompare(entry: LoadedConfig, selection: string, fixed: TraceReport, updated: TraceReport, topK: number): Promise<MsifPanel> {
    const names = await this.deps.exampleService.labelNames(entry.config.finetune.test);
    const indices = [fixed, updated].flatMap((r) => r.harmful.concat(r.helpful).map((x) => x.index));
    const examples = await this.initialExamples(entry, indices, fixed.test);
    const model = comparePanelModel({ revision: ++this.revision, configPath: entry.path, configLabel: entry.label, selection, fixed, updated, topK, names, examples });
    return this.show(panelKey('compare', entry.path, selection), 'compare', entry.path, model);
  }

  /** Opens (or updates) the leave-one-out panel of a config, test selection and case. */
  async showValidate(entry: LoadedConfig, selection: string, report: ValidateReport): Promise<MsifPanel> {
    const names = await this.deps.exampleService.labelNames(entry.config.finetune.test);
    const examples = await this.initialExamples(entry, report.rows.map((r) => r.index), report.test);
    const model = validatePanelModel({ revision: ++this.revision, configPath: entry.path, configLabel: entry.label, selection, report, names, examples });
    return this.show(panelKey('validate', entry.path, selection, report.case), 'validate', entry.path, model);
  }

  /** Opens (or updates) the data-cleansing panel of a config, scoring set, percentage and case. */
  async showCleanse(entry: LoadedConfig, report: CleanseReport): Promise<MsifPanel> {
    let examples: ExampleView[] = [];
    try {
      examples = await this.deps.exampleService.examples(entry.config, 'pretrain', report.removed.slice(0, 50).map((e) => e.index));
    } catch (e) {
      this.deps.log.warn(`cannot read pretraining examples for display: ${(e as Error).message}`);
    }
    const model = cleansePanelModel({ revision: ++this.revision, configPath: entry.path, configLabel: entry.label, report, examples });
    return this.show(panelKey('cleanse', entry.path, report.by, String(report.percent), report.case), 'cleanse', entry.path, model);
  }

  /** Opens (or updates) the comparison of two workspaces' score distributions (A's panel). */
  showSimilarity(a: LoadedConfig, b: LoadedConfig, report: SimilarityReport): MsifPanel {
    const model = similarityPanelModel({ revision: ++this.revision, labelA: a.label, labelB: b.label, report });
    return this.show(panelKey('similarity', a.path, b.path, report.a.test), 'similarity', a.path, model);
  }

  /** The panel of a kind for a config, if open (the misclassified panel, the comparison). */
  find(kind: PanelKind, configPath: string, ...parts: string[]): MsifPanel | undefined {
    return this.panels.get(panelKey(kind, configPath, ...parts));
  }

  override dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    this.panels.clear();
    super.dispose();
  }

  private show(key: string, kind: PanelKind, configPath: string, model: PanelModel | undefined, title?: string): MsifPanel {
    const existing = this.panels.get(key);
    if (existing && !existing.panel.active) existing.reveal();
    if (existing) {
      if (model) existing.setModel(model);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPES[kind],
      model?.title ?? title ?? `MSIF: ${path.basename(configPath)}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      webviewOptions(this.deps.extensionUri),
    );
    return this.adopt(key, new MsifPanel(panel, kind, configPath, this.services, model));
  }

  private adopt(key: string, panel: MsifPanel): MsifPanel {
    this.panels.set(key, panel);
    panel.onDidDispose(() => {
      if (this.panels.get(key) === panel) this.panels.delete(key);
    });
    this.replaceWhenStuck(panel, key);
    return panel;
  }

  /**
   * When a panel's webview never loads (MsifPanel.onDidStayUnloaded), opens a new panel
   * with the same content in the same column and closes the stuck one.
   */
  private replaceWhenStuck(stuck: MsifPanel, key: string | undefined): void {
    stuck.onDidStayUnloaded(() => {
      const title = stuck.panel.title;
      if (stuck.replacements >= MAX_PANEL_REPLACEMENTS) {
        this.deps.log.error(`${stuck.kind} panel "${title}" did not load after ${MAX_PANEL_REPLACEMENTS} new panels; giving up`);
        void vscode.window.showWarningMessage(`MSIF: the panel "${title}" did not load. Close it and run the command again, or reload the window.`);
        return;
      }
      const webviewPanel = vscode.window.createWebviewPanel(
        PANEL_VIEW_TYPES[stuck.kind],
        title,
        { viewColumn: stuck.panel.viewColumn ?? vscode.ViewColumn.Active, preserveFocus: !stuck.panel.active },
        webviewOptions(this.deps.extensionUri),
      );
      const fresh = new MsifPanel(webviewPanel, stuck.kind, stuck.configPath, this.services, stuck.currentModel, stuck.carriedState());
      if (key !== undefined) this.adopt(key, fresh);
      else this.replaceWhenStuck(fresh, undefined);
      stuck.dispose();
      this.deps.log.info(`${stuck.kind} panel "${title}" replaced by a new panel (its webview never loaded)`);
    });
  }

  private revive(kind: PanelKind, webviewPanel: vscode.WebviewPanel, raw: unknown): void {
    const state = (raw ?? {}) as Partial<PanelState>;
    const model = state.model && state.model.kind === kind ? state.model : undefined;
    const configPath = model?.configPath ?? (typeof state.configPath === 'string' ? state.configPath : undefined);
    if (model) this.revision = Math.max(this.revision, model.revision);
    if (!configPath) {
      const panel = new MsifPanel(webviewPanel, kind, '', this.services, model);
      this.replaceWhenStuck(panel, undefined);
      panel.showError('This MSIF panel was saved without its workspace config; run the command again.');
      return;
    }
    const key = model ? keyOfModel(configPath, model) : panelKey(kind, configPath, `revived-${++this.revision}`);
    const previous = this.panels.get(key);
    const panel = this.adopt(key, new MsifPanel(webviewPanel, kind, configPath, this.services, model));
    previous?.dispose();
    if (!model) panel.showError('This panel has nothing to show after the reload; run the command again.');
    this.deps.log.info(`restored ${kind} panel for ${configPath}`);
  }

  private async examples(configPath: string, role: DatasetRole, indices: readonly number[]): Promise<ExampleView[]> {
    const entry = await this.deps.configAt(configPath);
    if (!entry) throw new Error(`${configPath} is no longer a valid MSIF workspace config`);
    return this.deps.exampleService.examples(entry.config, role, indices);
  }

  private async initialExamples(entry: LoadedConfig, pretrain: readonly number[], test: readonly TestPointSummary[]): Promise<ExampleView[]> {
    const load = async (role: DatasetRole, indices: readonly number[]): Promise<ExampleView[]> => {
      try {
        return await this.deps.exampleService.examples(entry.config, role, [...new Set(indices)]);
      } catch (e) {
        this.deps.log.warn(`cannot read ${role} examples for display: ${(e as Error).message}`);
        return [];
      }
    };
    const [a, b] = await Promise.all([load('pretrain', pretrain), load('test', test.slice(0, INITIAL_TEST_EXAMPLES).map((t) => t.index))]);
    return a.concat(b);
  }
}

