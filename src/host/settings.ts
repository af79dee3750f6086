/** The `msif.*` settings, read from VS Code and watched. The parsing is in `traceSettings.ts`. */
import * as vscode from 'vscode';
import { Disposable, Emitter } from './lifecycle';
import { parseHostSettings } from './traceSettings';
import type { HostSettings } from './traceSettings';

/** Settings that need a new worker process when they change. */
const LAUNCH_KEYS = ['msif.backend', 'msif.nodePath'];

export class Settings extends Disposable {
  private _current: HostSettings;
  private readonly changed = this._register(new Emitter<{ readonly affectsLaunch: boolean }>());
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    this._current = this.read();
    vscode.workspace.onDidChangeConfiguration(
      (e) => {
        if (!e.affectsConfiguration('msif')) return;
        this._current = this.read();
        this.changed.fire({ affectsLaunch: LAUNCH_KEYS.some((k) => e.affectsConfiguration(k)) });
      },
      this,
      this._disposables,
    );
    vscode.workspace.onDidGrantWorkspaceTrust(
      () => {
        this._current = this.read();
        this.changed.fire({ affectsLaunch: true });
      },
      this,
      this._disposables,
    );
  }

  get current(): HostSettings {
    return this._current;
  }

  private read(): HostSettings {
    const c = vscode.workspace.getConfiguration('msif');
    const { settings, problems } = parseHostSettings((key) => c.get(key), vscode.workspace.isTrusted);
    for (const p of problems) this.log.warn(`settings: ${p}; using the default`);
    if (!vscode.workspace.isTrusted && c.get('nodePath')) this.log.info('msif.nodePath is ignored in an untrusted workspace');
    return settings;
  }
}
