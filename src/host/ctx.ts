/**
 * The extension's state and everything it owns: the log, settings, the workspace
 * configs, the engine worker, trace results, the tree, the CodeLens and the panels.
 * Commands receive it (`(ctx) => handler`); `extension.ts` only creates and disposes it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled, MsifError } from '../common/errors';
import type { LogLevel } from '../protocol/engineProtocol';
import type { DatasetRole } from '../protocol/webviewProtocol';
import { DatasetCodeLensProvider } from './codelens/datasetCodeLensProvider';
import { CommandIds, ContextKeys, INFLUENCE_VIEW_ID } from './commands/commandIds';
import { ConfigRegistry, isLoaded } from './configRegistry';
import type { LoadedConfig } from './configRegistry';
import { ExampleService } from './data/exampleService';
import { backendPackagesDir } from '../worker/backendPackages';
import { EngineClient } from './engineClient';
import { Disposable } from './lifecycle';
import { columnBesidePanel, openFileAtLine } from './openExample';
import { PanelManager } from './panels/panelManager';
import { ConfigPicker } from './pickers';
import { Settings } from './settings';
import { TraceService } from './traceService';
import { TraceStore } from './traceStore';
import { InfluenceTreeProvider } from './views/influenceTreeProvider';

export class Ctx extends Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly settings: Settings;
  readonly registry: ConfigRegistry;
  readonly engine: EngineClient;
  readonly store: TraceStore;
  readonly traces: TraceService;
  readonly examples: ExampleService;
  readonly configs: ConfigPicker;
  readonly panels: PanelManager;
  readonly tree: InfluenceTreeProvider;
  readonly lenses: DatasetCodeLensProvider;

  constructor(readonly extension: vscode.ExtensionContext) {
    super();
    this.log = this._register(vscode.window.createOutputChannel('MSIF', { log: true }));
    this.log.info(`MSIF ${String(extension.extension.packageJSON['version'] ?? '')} activating in ${vscode.env.appName} ${vscode.version}`);
    this.settings = this._register(new Settings(this.log));
    this.registry = this._register(new ConfigRegistry(this.log));
    this.store = new TraceStore();
    this._register(this.store);
    this.examples = new ExampleService();
    this.configs = new ConfigPicker(this.registry, extension.workspaceState);

    this.engine = this._register(
      new EngineClient({
        workerPath: extension.asAbsolutePath(path.join('dist', 'worker.js')),
        launch: () => ({
          ...(this.settings.current.nodePath !== undefined ? { execPath: this.settings.current.nodePath } : {}),
          backend: this.settings.current.backend,
          backendPackagesDir: backendPackagesDir(extension.globalStorageUri.fsPath),
        }),
        log: this.log,
        onWorkerLog: (level: LogLevel, message: string) => {
          if (message.trim() === '') return;
          this.log[level](`[worker] ${message}`);
        },
        confirmRestart: async (crashes, windowMs) => {
          const restart = 'Restart worker';
          const choice = await vscode.window.showErrorMessage(
            `The MSIF worker stopped ${crashes} times in the last ${Math.round(windowMs / 60000)} minutes. Start it again?`,
            { modal: false },
            restart,
            'Show log',
          );
          if (choice === 'Show log') this.log.show(true);
          return choice === restart;
        },
      }),
    );
    this._register(this.settings.onDidChange(({ affectsLaunch }) => affectsLaunch && this.engine.invalidate()));

    this.traces = this._register(new TraceService(this.engine, this.store, this.settings, this.log));
    this._register(
      this.registry.onDidChangeConfig((configPath) => {
        this.store.forget(configPath);
      }),
    );

    this.panels = this._register(
      new PanelManager({
        extensionUri: extension.extensionUri,
        log: this.log,
        exampleService: this.examples,
        configAt: async (configPath) => {
          const entry = this.registry.get(configPath) ?? (await this.registry.ensure(configPath));
          return isLoaded(entry) ? entry : undefined;
        },
        openExample: (configPath, role, index, panelColumn) => this.openExample(configPath, role, index, columnBesidePanel(panelColumn)),
        traceTestPoint: async (configPath, index) => {
          await vscode.commands.executeCommand(CommandIds.traceToPretraining, { config: configPath, test: String(index) });
        },
        traceAllMisclassified: async (configPath) => {
          await vscode.commands.executeCommand(CommandIds.traceToPretraining, { config: configPath, test: 'misclassified' });
        },
        compareCases: async (configPath, selection) => {
          await vscode.commands.executeCommand(CommandIds.compareCases, { config: configPath, test: selection });
        },
      }),
    );

    this.tree = this._register(
      new InfluenceTreeProvider(this.registry, this.store, this.examples, {
        trace: CommandIds.traceToPretraining,
        showMisclassified: CommandIds.showMisclassified,
      }),
    );
    this._register(vscode.window.createTreeView(INFLUENCE_VIEW_ID, { treeDataProvider: this.tree, showCollapseAll: true }));

    this.lenses = this._register(
      new DatasetCodeLensProvider(this.registry, this.store, { trace: CommandIds.traceToPretraining, compare: CommandIds.compareCases }),
    );
    this._register(
      vscode.languages.registerCodeLensProvider(
        [
          { scheme: 'file', pattern: '**/*.jsonl' },
          { scheme: 'file', pattern: '**/msif.json' },
        ],
        this.lenses,
      ),
    );

    this._register(
      this.registry.onDidChange(() => {
        const n = this.registry.all().length;
        void vscode.commands.executeCommand('setContext', ContextKeys.hasConfig, n > 0);
        void vscode.commands.executeCommand('setContext', ContextKeys.multipleConfigs, n > 1);
      }),
    );
    this._register(
      this.store.onDidChange(() => void vscode.commands.executeCommand('setContext', ContextKeys.hasTrace, true)),
    );
    // Searching the workspace is not awaited: activation stays quick.
    void this.registry.whenReady().catch((e: unknown) => this.log.error(`searching for msif.json failed: ${(e as Error).message}`));
  }

  /** Opens a dataset example at its line. */
  async openExample(configPath: string, role: DatasetRole, index: number, column?: vscode.ViewColumn): Promise<void> {
    const entry = this.registry.get(configPath);
    if (!isLoaded(entry)) throw new Error(`${configPath} is not a valid MSIF workspace config`);
    const where = await this.examples.lineOf(entry.config, role, index);
    if (!where) {
      void vscode.window.showInformationMessage(`MSIF: the ${role === 'pretrain' ? 'pretraining' : 'test'} dataset is not a JSON Lines file; example ${index} has no line to open.`);
      return;
    }
    await openFileAtLine(where.file, where.line, column);
  }

  /** Shows a failure to the user (with a way to the log) and logs it; cancellations are not failures. */
  showError(e: unknown, what: string): void {
    if (isCancelled(e)) {
      this.log.info(`${what}: cancelled`);
      return;
    }
    const message = e instanceof Error ? e.message : String(e);
    // MsifErrors are expected failures with a complete message; a stack helps only for the rest.
    this.log.error(`${what} failed: ${e instanceof Error && !(e instanceof MsifError) && e.stack ? e.stack : message}`);
    const shown = /^(The )?MSIF\b/.test(message) ? message : `MSIF: ${message}`;
    void vscode.window.showErrorMessage(shown, 'Show log').then((choice) => {
      if (choice === 'Show log') this.log.show(true);
    });
  }

  /** The config a command works on (see {@link ConfigPicker.pick}). */
  pickConfig(explicit?: string, alwaysAsk = false): Promise<LoadedConfig | undefined> {
    return this.configs.pick(explicit, alwaysAsk);
  }

  override dispose(): void {
    this.log.info('MSIF deactivating');
    super.dispose();
  }
}
