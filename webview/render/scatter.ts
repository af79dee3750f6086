/**
 * Scatter of two score vectors on a canvas (thousands of points): x = Case 1, y = Case 2,
 * optionally on an asinh scale (linear near zero, logarithmic in the tails, so that a few
 * huge scores do not flatten the rest). Hovering shows the nearest example; clicking it
 * calls `onPick`.
 */
import { cssVar, h } from './dom';
import { formatScore, formatTick } from './format';

export interface ScatterOptions {
  readonly x: readonly number[];
  readonly y: readonly number[];
  readonly xLabel: string;
  readonly yLabel: string;
  readonly asinh: boolean;
  readonly onPick?: (index: number) => void;
  /** `data-testid` of the canvas (default `compare-scatter`). */
  readonly testId?: string;
  /** Points drawn in the second colour (e.g. the top-|score| half of a sample). */
  readonly highlight?: readonly boolean[];
  /** Draw the line y = x (predicted against actual). */
  readonly diagonal?: boolean;
  /** The hover readout for point i (default: its position and both values). */
  readonly describe?: (index: number) => string;
}

const M = { left: 60, right: 32, top: 12, bottom: 40 };

export function scatter(options: ScatterOptions): { element: HTMLElement; redraw: () => void } {
  const canvas = h('canvas', {
    class: 'scatter',
    'data-testid': options.testId ?? 'compare-scatter',
    'data-points': options.x.length,
    role: 'img',
    'aria-label': `Scatter of ${options.x.length} pretraining examples: ${options.xLabel} against ${options.yLabel}`,
    tabindex: 0,
  });
  const readout = h('div', { class: 'readout', 'aria-live': 'polite' }, 'Hover a point to see its scores.');
  const element = h('div', { class: 'scatter-box' }, canvas, readout);
  const t = (v: number): number => (options.asinh ? Math.asinh(v) : v);
  const tx = options.x.map(t);
  const ty = options.y.map(t);
  const range = (a: number[]): [number, number] => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of a) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo)) return [-1, 1];
    if (lo === hi) return [lo - 1, hi + 1];
    const pad = (hi - lo) * 0.04;
    return [lo - pad, hi + pad];
  };
  const [x0, x1] = range(tx);
  const [y0, y1] = range(ty);
  let width = 0;
  let height = 0;
  const px = (v: number): number => M.left + ((v - x0) / (x1 - x0)) * (width - M.left - M.right);
  const py = (v: number): number => M.top + ((y1 - v) / (y1 - y0)) * (height - M.top - M.bottom);
  let hovered = -1;

  const redraw = (): void => {
    const ratio = window.devicePixelRatio || 1;
    width = Math.max(240, canvas.clientWidth || 560);
    height = Math.max(200, Math.round(width * 0.62));
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.height = `${height}px`;
    const g = canvas.getContext('2d');
    if (!g) return;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const fg = cssVar('--vscode-foreground', '#ccc');
    const grid = cssVar('--vscode-editorWidget-border', '#555');
    const dot = cssVar('--vscode-charts-blue', '#3794ff');
    const hi = cssVar('--vscode-charts-orange', '#d18616');
    g.strokeStyle = grid;
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(M.left, M.top);
    g.lineTo(M.left, height - M.bottom);
    g.lineTo(width - M.right, height - M.bottom);
    if (x0 < 0 && x1 > 0) {
      g.moveTo(px(0), M.top);
      g.lineTo(px(0), height - M.bottom);
    }
    if (y0 < 0 && y1 > 0) {
      g.moveTo(M.left, py(0));
      g.lineTo(width - M.right, py(0));
    }
    g.stroke();
    if (options.diagonal) {
      // y = x over the range both axes share.
      const lo = Math.max(x0, y0);
      const hi2 = Math.min(x1, y1);
      if (lo < hi2) {
        g.setLineDash([4, 4]);
        g.beginPath();
        g.moveTo(px(lo), py(lo));
        g.lineTo(px(hi2), py(hi2));
        g.stroke();
        g.setLineDash([]);
      }
    }
    g.fillStyle = fg;
    g.font = `11px ${cssVar('--vscode-font-family', 'sans-serif')}`;
    g.textAlign = 'center';
    for (let k = 0; k <= 4; k++) {
      const v = x0 + ((x1 - x0) * k) / 4;
      g.fillText(formatTick(options.asinh ? Math.sinh(v) : v), px(v), height - M.bottom + 14);
    }
    g.fillText(options.xLabel + (options.asinh ? ' (asinh scale)' : ''), (M.left + width - M.right) / 2, height - 6);
    g.textAlign = 'right';
    for (let k = 0; k <= 4; k++) {
      const v = y0 + ((y1 - y0) * k) / 4;
      g.fillText(formatTick(options.asinh ? Math.sinh(v) : v), M.left - 6, py(v) + 4);
    }
    g.save();
    g.translate(12, (M.top + height - M.bottom) / 2);
    g.rotate(-Math.PI / 2);
    g.textAlign = 'center';
    g.fillText(options.yLabel, 0, 0);
    g.restore();
    g.globalAlpha = 0.55;
    g.fillStyle = dot;
    for (let i = 0; i < tx.length; i++) {
      const a = tx[i] as number;
      const b = ty[i] as number;
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      if (options.highlight) {
        // Few points, two groups: larger marks, each group in its colour.
        g.fillStyle = options.highlight[i] ? hi : dot;
        g.fillRect(px(a) - 2.5, py(b) - 2.5, 5, 5);
      } else {
        g.fillRect(px(a) - 1, py(b) - 1, 2.5, 2.5);
      }
    }
    g.globalAlpha = 1;
    if (hovered >= 0) {
      g.strokeStyle = hi;
      g.lineWidth = 2;
      g.beginPath();
      g.arc(px(tx[hovered] as number), py(ty[hovered] as number), 5, 0, Math.PI * 2);
      g.stroke();
    }
  };

  let frame = 0;
  canvas.addEventListener('mousemove', (e) => {
    const rect = canvas.getBoundingClientRect();
    const mx = e.clientX - rect.left;
    const my = e.clientY - rect.top;
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      let best = -1;
      let bestD = 64; // within 8 px
      for (let i = 0; i < tx.length; i++) {
        const dx = px(tx[i] as number) - mx;
        const dy = py(ty[i] as number) - my;
        const d = dx * dx + dy * dy;
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      }
      if (best !== hovered) {
        hovered = best;
        readout.textContent =
          best < 0
            ? 'Hover a point to see its scores.'
            : options.describe
              ? options.describe(best)
              : `#${best}: ${options.xLabel} ${formatScore(options.x[best] as number)}, ${options.yLabel} ${formatScore(options.y[best] as number)}${options.onPick ? ' (click to open)' : ''}`;
        redraw();
      }
    });
  });
  canvas.addEventListener('click', () => {
    if (hovered >= 0) options.onPick?.(hovered);
  });
  new ResizeObserver(() => redraw()).observe(canvas);
  return { element, redraw };
}
