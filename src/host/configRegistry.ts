/**
 * The workspace's `msif.json` files: found at activation, kept up to date by a file
 * watcher, each parsed with `common/workspaceConfig` (errors kept for display). Maps
 * dataset files back to the configs and roles that use them, for the CodeLens.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseWorkspaceConfig } from '../common/workspaceConfig';
import type { WorkspaceConfig } from '../common/workspaceConfig';
import { sha1 } from './cache/cacheKey';
import { jsonlPath } from './data/exampleService';
import { Disposable, Emitter } from './lifecycle';

export interface ConfigEntry {
  /** Absolute path of the msif.json. */
  readonly path: string;
  readonly uri: vscode.Uri;
  /** Relative to the workspace. */
  readonly label: string;
  readonly config?: WorkspaceConfig;
  /** Why the file could not be read or parsed. */
  readonly error?: string;
  /** SHA-1 of its text. */
  readonly hash?: string;
}

/** A config whose file parsed. */
export type LoadedConfig = ConfigEntry & { readonly config: WorkspaceConfig; readonly hash: string };

export type DatasetFileRole = 'pretrain' | 'test' | 'finetune';

export interface DatasetUse {
  readonly configPath: string;
  readonly role: DatasetFileRole;
}

export const CONFIG_GLOB = '**/msif.json';
const EXCLUDE_GLOB = '**/{node_modules,.git}/**';

export class ConfigRegistry extends Disposable {
  private entries = new Map<string, ConfigEntry>();
  private datasets = new Map<string, DatasetUse[]>();
  private readonly changed = this._register(new Emitter<void>());
  readonly onDidChange = this.changed.event;
  private readonly configChanged = this._register(new Emitter<string>());
  /** Fires with the path of a config whose file changed or went away. */
  readonly onDidChangeConfig = this.configChanged.event;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    const watcher = this._register(vscode.workspace.createFileSystemWatcher(CONFIG_GLOB));
    watcher.onDidCreate((uri) => void this.reload(uri), this, this._disposables);
    watcher.onDidChange((uri) => void this.reload(uri), this, this._disposables);
    watcher.onDidDelete((uri) => this.remove(uri.fsPath), this, this._disposables);
    vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refresh(), this, this._disposables);
  }

  private initial: Promise<void> | undefined;

  /** Resolves once the workspace has been searched for msif.json files. */
  whenReady(): Promise<void> {
    this.initial ??= this.refresh();
    return this.initial;
  }

  /** Finds every msif.json in the workspace again. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const uris = await vscode.workspace.findFiles(CONFIG_GLOB, EXCLUDE_GLOB);
        const next = new Map<string, ConfigEntry>();
        for (const entry of await Promise.all(uris.map((u) => this.load(u)))) next.set(entry.path, entry);
        this.entries = next;
        this.rebuildDatasets();
        this.log.info(`found ${next.size} msif.json file${next.size === 1 ? '' : 's'}`);
        this.changed.fire();
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Every config, sorted by label. */
  all(): ConfigEntry[] {
    return [...this.entries.values()].sort((a, b) => a.label.localeCompare(b.label));
  }

  get(configPath: string): ConfigEntry | undefined {
    return this.entries.get(path.resolve(configPath));
  }

  /** Loads (or reloads) a config by path, also outside the workspace (automation). */
  async ensure(configPath: string): Promise<ConfigEntry> {
    const abs = path.resolve(configPath);
    const known = this.entries.get(abs);
    if (known) return known;
    const entry = await this.load(vscode.Uri.file(abs));
    this.entries.set(abs, entry);
    this.rebuildDatasets();
    this.changed.fire();
    return entry;
  }

  /** The configs and roles that use a dataset file. */
  usesOf(file: string): readonly DatasetUse[] {
    return this.datasets.get(path.resolve(file)) ?? [];
  }

  private async reload(uri: vscode.Uri): Promise<void> {
    const entry = await this.load(uri);
    this.entries.set(entry.path, entry);
    this.rebuildDatasets();
    this.configChanged.fire(entry.path);
    this.changed.fire();
  }

  private remove(file: string): void {
    const abs = path.resolve(file);
    if (!this.entries.delete(abs)) return;
    this.rebuildDatasets();
    this.configChanged.fire(abs);
    this.changed.fire();
  }

  private async load(uri: vscode.Uri): Promise<ConfigEntry> {
    const abs = path.resolve(uri.fsPath);
    const base = { path: abs, uri: vscode.Uri.file(abs), label: vscode.workspace.asRelativePath(abs, true) };
    let text: string;
    try {
      text = await fs.readFile(abs, 'utf8');
    } catch (e) {
      return { ...base, error: `cannot read ${abs}: ${(e as Error).message}` };
    }
    try {
      return { ...base, config: parseWorkspaceConfig(text, abs), hash: sha1(text) };
    } catch (e) {
      this.log.warn(`${base.label}: ${(e as Error).message}`);
      return { ...base, error: (e as Error).message, hash: sha1(text) };
    }
  }

  private rebuildDatasets(): void {
    const map = new Map<string, DatasetUse[]>();
    const add = (file: string | undefined, use: DatasetUse): void => {
      if (!file) return;
      const key = path.resolve(file);
      map.set(key, [...(map.get(key) ?? []), use]);
    };
    for (const e of this.entries.values()) {
      if (!e.config) continue;
      add(jsonlPath(e.config.pretrain.train), { configPath: e.path, role: 'pretrain' });
      add(jsonlPath(e.config.finetune.test), { configPath: e.path, role: 'test' });
      add(jsonlPath(e.config.finetune.train), { configPath: e.path, role: 'finetune' });
    }
    this.datasets = map;
  }
}

export function isLoaded(entry: ConfigEntry | undefined): entry is LoadedConfig {
  return entry?.config !== undefined && entry.hash !== undefined;
}
