/**
 * Quick picks: which msif.json (remembered per workspace), and which test points to
 * trace (the record under the cursor, the misclassified points with their labels, or a
 * whole set).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { recordAtLine, recordRanges } from '../common/lineRanges';
import type { TestPointSummary } from '../protocol/report';
import type { ConfigRegistry, LoadedConfig } from './configRegistry';
import { isLoaded } from './configRegistry';
import { formatLabel } from './data/exampleView';
import type { ExampleService } from './data/exampleService';
import { jsonlPath } from './data/exampleService';
import { CANCELLED } from './progress/withJobProgress';
import type { TraceService } from './traceService';

/** workspaceState key of the chosen msif.json. */
export const SELECTED_CONFIG_KEY = 'msif.selectedConfig';

export class ConfigPicker {
  constructor(
    private readonly registry: ConfigRegistry,
    private readonly state: vscode.Memento,
  ) {}

  /** The remembered choice, if it still exists. */
  get remembered(): string | undefined {
    const p = this.state.get<string>(SELECTED_CONFIG_KEY);
    return p !== undefined && this.registry.get(p) ? p : undefined;
  }

  async remember(configPath: string): Promise<void> {
    await this.state.update(SELECTED_CONFIG_KEY, configPath);
  }

  /**
   * The config to work on: `explicit` if given (absolute, or relative to the first
   * workspace folder); the only one; the remembered one; or the user's pick (then
   * remembered). Shows why when there is none or it does not parse.
   * @param alwaysAsk show the pick even when one is remembered ("Select workspace config").
   */
  async pick(explicit?: string, alwaysAsk = false): Promise<LoadedConfig | undefined> {
    if (explicit !== undefined) {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const abs = path.isAbsolute(explicit) || !folder ? path.resolve(explicit) : path.resolve(folder, explicit);
      return this.checked(await this.registry.ensure(abs));
    }
    await this.registry.whenReady();
    const all = this.registry.all();
    if (all.length === 0) {
      void vscode.window.showErrorMessage('MSIF: no msif.json in this workspace. Add one (see the README) or open a folder that has one.');
      return undefined;
    }
    if (!alwaysAsk) {
      if (all.length === 1) return this.checked(all[0]);
      const remembered = this.remembered;
      if (remembered) return this.checked(this.registry.get(remembered));
    }
    const current = this.remembered;
    const picked = await vscode.window.showQuickPick(
      all.map((e) => ({
        label: e.label,
        description: e.path === current ? '(selected)' : undefined,
        detail: e.error ?? e.config?.finetune.embedding,
        path: e.path,
      })),
      { title: 'MSIF: Select workspace config (msif.json)', placeHolder: 'Which msif.json should MSIF use?', ignoreFocusOut: true },
    );
    if (!picked) return undefined;
    await this.remember(picked.path);
    return this.checked(this.registry.get(picked.path));
  }

  private checked(entry: ReturnType<ConfigRegistry['get']>): LoadedConfig | undefined {
    if (!entry) return undefined;
    if (isLoaded(entry)) return entry;
    void vscode.window.showErrorMessage(`MSIF: ${entry.error ?? `${entry.label} is not a valid workspace config`}`);
    return undefined;
  }
}

interface TestPick extends vscode.QuickPickItem {
  readonly test?: string;
}

/**
 * Asks which test points to trace. Offers the test record under the cursor (when the
 * active editor shows this config's test dataset), all test points, all misclassified
 * ones and each misclassified point with its true label and prediction (listed as soon
 * as they are known; finding them may run the worker).
 */
export async function pickTestSelection(
  entry: LoadedConfig,
  traces: TraceService,
  examples: ExampleService,
  title: string,
): Promise<string | undefined> {
  const names = await examples.labelNames(entry.config.finetune.test);
  const fixed: TestPick[] = [];
  const cursor = cursorTestRecord(entry);
  if (cursor) {
    fixed.push({
      label: `$(location) Line ${cursor.line}: test point ${cursor.index}`,
      description: 'under the cursor',
      test: String(cursor.index),
    });
  }
  fixed.push(
    { label: '$(list-flat) All misclassified test points', description: 'sum of their scores', test: 'misclassified' },
    { label: '$(list-unordered) All test points', description: 'sum over the test set', test: 'all' },
  );
  const pick = vscode.window.createQuickPick<TestPick>();
  pick.title = title;
  pick.placeholder = 'Trace which test points? (misclassified ones are listed once known)';
  pick.matchOnDescription = true;
  pick.ignoreFocusOut = true;
  pick.items = fixed;
  pick.busy = true;
  const pointItem = (t: TestPointSummary): TestPick => ({
    label: `#${t.index} ${t.id}`,
    description: `true ${formatLabel(t.label, names)} → predicted ${formatLabel(t.prediction, names)}`,
    detail: `loss ${t.loss.toPrecision(4)}`,
    test: String(t.index),
  });
  let closed = false;
  // Closing the pick with another choice stops the listing (the worker runs one job at a time).
  const listing = new AbortController();
  void traces.misclassified(entry, listing.signal).then(
    (result) => {
      if (closed) return;
      pick.busy = false;
      if (result === CANCELLED) return;
      const sep: TestPick = { label: `Misclassified (${result.points.length})`, kind: vscode.QuickPickItemKind.Separator };
      pick.items = [...fixed, sep, ...result.points.map(pointItem)];
    },
    (e: unknown) => {
      if (closed) return;
      pick.busy = false;
      pick.items = [...fixed, { label: '$(error) Could not list the misclassified test points', detail: (e as Error).message }];
    },
  );
  return new Promise<string | undefined>((resolve) => {
    let chosenTest: string | undefined;
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0];
      if (chosen?.test === undefined) return;
      chosenTest = chosen.test;
      pick.hide();
    });
    pick.onDidHide(() => {
      closed = true;
      if (pick.busy && chosenTest !== 'misclassified') listing.abort();
      resolve(chosenTest);
      pick.dispose();
    });
    pick.show();
  });
}

/** The test record under the cursor of the active editor, if it shows this config's test set. */
export function cursorTestRecord(entry: LoadedConfig): { index: number; line: number } | undefined {
  const editor = vscode.window.activeTextEditor;
  const testFile = jsonlPath(entry.config.finetune.test);
  if (!editor || !testFile || path.resolve(editor.document.uri.fsPath) !== path.resolve(testFile)) return undefined;
  const line = editor.selection.active.line + 1;
  const record = recordAtLine(recordRanges(editor.document.getText()), line);
  return record ? { index: record.index, line } : undefined;
}
