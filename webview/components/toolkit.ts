/**
 * Every use of @vscode/webview-ui-toolkit lives in this folder, so that moving to its
 * successor (@vscode-elements/elements) touches only here. The rest of the webview asks
 * for elements through these functions.
 */
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeProgressRing,
} from '@vscode/webview-ui-toolkit';

let registered = false;

/** Registers the toolkit's custom elements (once). */
export function registerComponents(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox(), vsCodeDivider(), vsCodeProgressRing());
}

export type ButtonAppearance = 'primary' | 'secondary' | 'icon';

/** A button; `testId` becomes its `data-testid`. */
export function button(label: string, onClick: () => void, options: { appearance?: ButtonAppearance; testId?: string; title?: string } = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.setAttribute('appearance', options.appearance ?? 'secondary');
  if (options.testId) b.dataset['testid'] = options.testId;
  if (options.title) b.title = options.title;
  b.addEventListener('click', onClick);
  return b;
}

/** A checkbox whose changes call `onChange` with the new state. */
export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void): HTMLElement {
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  c.textContent = label;
  c.checked = checked;
  if (checked) c.setAttribute('checked', '');
  c.addEventListener('change', () => onChange(c.checked));
  return c;
}

export function divider(): HTMLElement {
  return document.createElement('vscode-divider');
}

export function progressRing(): HTMLElement {
  const ring = document.createElement('vscode-progress-ring');
  ring.setAttribute('aria-label', 'Working');
  return ring;
}

/**
 * A small label (e.g. "misclassified"), styled like the toolkit's tag. Not `vscode-tag`:
 * its template writes a `style` attribute, which the panels' CSP blocks.
 */
export function tag(text: string): HTMLElement {
  const t = document.createElement('span');
  t.className = 'tag';
  t.textContent = text;
  return t;
}
