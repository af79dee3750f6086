/**
 * The "Influential examples" tree view: turns the nodes of `influenceTree.ts` into tree
 * items. An example opens its dataset file at its line; hovering an image example shows
 * it (a PNG data URI made host-side), resolved lazily.
 */
import * as vscode from 'vscode';
import type { TestPointSummary } from '../../protocol/report';
import type { ConfigRegistry } from '../configRegistry';
import { isLoaded } from '../configRegistry';
import { formatScore } from '../codelens/lensPlan';
import { formatLabel } from '../data/exampleView';
import type { ExampleService } from '../data/exampleService';
import { jsonlPath } from '../data/exampleService';
import { pngDataUri, upscale } from '../data/png';
import { isMisclassified } from '../panels/panelModels';
import { Disposable } from '../lifecycle';
import type { TraceStore } from '../traceStore';
import { caseName, nodeId, setLabel, testPointDescription, treeChildren } from './influenceTree';
import type { TreeNode } from './influenceTree';

/** Hover images are scaled up to about this many pixels on their longer side. */
const HOVER_IMAGE_SIDE = 112;

export class InfluenceTreeProvider extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = this._register(new vscode.EventEmitter<TreeNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private readonly names = new Map<string, Map<number, string>>();
  private readonly loadingNames = new Set<string>();

  constructor(
    private readonly registry: ConfigRegistry,
    private readonly store: TraceStore,
    private readonly examples: ExampleService,
    private readonly commands: { trace: string; showMisclassified: string },
  ) {
    super();
    this._register(registry.onDidChange(() => this.refresh()));
    this._register(
      registry.onDidChangeConfig((configPath) => {
        this.names.delete(configPath);
        this.refresh();
      }),
    );
    this._register(store.onDidChange(() => this.refresh()));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: TreeNode): TreeNode[] {
    const configs = this.registry.all().map((e) => ({ path: e.path, label: e.label, ...(e.error !== undefined ? { error: e.error } : {}) }));
    if (node?.type === 'config') this.ensureNames(node.configPath);
    return treeChildren(node, configs, this.store, this.commands);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const Collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    const None = vscode.TreeItemCollapsibleState.None;
    let item: vscode.TreeItem;
    switch (node.type) {
      case 'config':
        item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = new vscode.ThemeIcon(node.error !== undefined ? 'error' : 'settings-gear');
        item.resourceUri = vscode.Uri.file(node.configPath);
        item.tooltip = node.error ?? node.configPath;
        item.contextValue = 'msifConfig';
        item.command = { command: 'vscode.open', title: 'Open msif.json', arguments: [vscode.Uri.file(node.configPath)] };
        break;
      case 'message':
        item = new vscode.TreeItem(node.label, None);
        item.description = node.detail;
        item.tooltip = node.detail;
        item.iconPath = new vscode.ThemeIcon(node.id.startsWith('error:') ? 'warning' : 'info');
        break;
      case 'action':
        item = new vscode.TreeItem(node.label, None);
        item.iconPath = new vscode.ThemeIcon('play');
        item.command = { command: node.command, title: node.label, arguments: [node.args] };
        break;
      case 'testPoint': {
        const fmt = (v: TestPointSummary['label']): string => formatLabel(v, this.names.get(node.configPath) ?? new Map());
        item = new vscode.TreeItem(`#${node.point.index} ${node.point.id}`, Collapsed);
        item.description = testPointDescription(node.point, fmt);
        item.tooltip = `${item.description}\nloss ${node.point.loss.toPrecision(4)}${node.trace ? `\ntraced (${caseName(node.trace.case)})` : ''}`;
        item.iconPath = new vscode.ThemeIcon(isMisclassified(node.point) ? 'error' : 'pass');
        item.contextValue = 'msifTestPoint';
        break;
      }
      case 'set':
        item = new vscode.TreeItem(setLabel(node.trace), Collapsed);
        item.iconPath = new vscode.ThemeIcon('list-flat');
        break;
      case 'group': {
        const n = (node.which === 'harmful' ? node.trace.report.harmful : node.trace.report.helpful).length;
        item = new vscode.TreeItem(node.which === 'harmful' ? 'Harmful' : 'Helpful', n > 0 ? Collapsed : None);
        item.description = `${n} example${n === 1 ? '' : 's'} · ${caseName(node.trace.case)}`;
        item.iconPath = new vscode.ThemeIcon(node.which === 'harmful' ? 'arrow-up' : 'arrow-down');
        break;
      }
      case 'example': {
        const e = node.example;
        item = new vscode.TreeItem(`#${e.index} ${e.id}${e.text !== undefined ? ` · ${e.text}` : ''}`, None);
        item.description = formatScore(e.score);
        item.iconPath = new vscode.ThemeIcon('symbol-numeric');
        const file = this.pretrainFile(node.configPath);
        if (file && e.line !== undefined) {
          const position = new vscode.Position(e.line - 1, 0);
          item.command = {
            command: 'vscode.open',
            title: 'Open the pretraining example',
            arguments: [vscode.Uri.file(file), { selection: new vscode.Range(position, position), preview: true }],
          };
        }
        item.contextValue = 'msifExample';
        break;
      }
    }
    item.id = nodeId(node);
    return item;
  }

  async resolveTreeItem(item: vscode.TreeItem, node: TreeNode, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    if (node.type !== 'example') return item;
    const entry = this.registry.get(node.configPath);
    const e = node.example;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**#${e.index} ${e.id}**${e.text !== undefined ? ` · ${e.text}` : ''}\n\n`);
    md.appendMarkdown(`Influence ${formatScore(e.score)} (${node.which}, rank ${node.rank}, ${caseName(node.trace.case)})`);
    if (isLoaded(entry)) {
      try {
        const [view] = await this.examples.examples(entry.config, 'pretrain', [e.index]);
        if (!token.isCancellationRequested && view?.image) {
          const { width, height, channels, pixels } = view.image;
          const factor = Math.max(1, Math.floor(HOVER_IMAGE_SIDE / Math.max(width, height)));
          const uri = pngDataUri(width * factor, height * factor, channels, upscale(width, height, channels, pixels, factor));
          md.appendMarkdown(`\n\n![${e.id}](${uri})`);
        } else if (view?.preview) {
          md.appendMarkdown('\n\n');
          md.appendCodeblock(view.preview, 'json');
        }
      } catch {
        // The hover stays text-only when the record cannot be read.
      }
    }
    item.tooltip = md;
    return item;
  }

  private pretrainFile(configPath: string): string | undefined {
    const entry = this.registry.get(configPath);
    return isLoaded(entry) ? jsonlPath(entry.config.pretrain.train) : undefined;
  }

  private ensureNames(configPath: string): void {
    if (this.names.has(configPath) || this.loadingNames.has(configPath)) return;
    const entry = this.registry.get(configPath);
    if (!isLoaded(entry)) return;
    this.loadingNames.add(configPath);
    void this.examples.labelNames(entry.config.finetune.test).then((names) => {
      this.loadingNames.delete(configPath);
      this.names.set(configPath, names);
      if (names.size > 0) this.refresh();
    });
  }
}
