/**
 * The distribution of all influence scores as a log-density histogram (as in Fig. 5 of
 * Chen et al., 2020): bars of log10(count / (n · bin width)) over equal-width bins, drawn
 * as SVG. Harmful (positive) bins and helpful (negative) bins get different colours.
 */
import type { HistogramView } from '../../src/protocol/webviewProtocol';
import { formatTick } from './format';
import { s } from './dom';

const W = 560;
const H = 220;
const M = { left: 56, right: 12, top: 12, bottom: 40 };

/** A chart's size in viewBox units and its margins around the plot area. */
export interface ChartBox {
  readonly width: number;
  readonly height: number;
  readonly margin: { readonly left: number; readonly right: number; readonly top: number; readonly bottom: number };
}

/** The plot area of a log-density chart: a score's x, a log10 density's y, and the y range. */
export interface LogDensityFrame {
  readonly box: ChartBox;
  readonly min: number;
  readonly max: number;
  readonly yTop: number;
  readonly yBottom: number;
  readonly plotW: number;
  readonly plotH: number;
  readonly x: (score: number) => number;
  readonly y: (logDensity: number) => number;
}

/**
 * Scales from scores in [min, max] and log10 densities (the whole decades around
 * `densities`, one more below) to the plot area; undefined, with "No finite scores"
 * written into `svg`, when no density is finite.
 */
export function logDensityFrame(svg: SVGSVGElement, box: ChartBox, min: number, max: number, densities: readonly (number | null)[]): LogDensityFrame | undefined {
  const values = densities.filter((v): v is number => v !== null);
  if (values.length === 0) {
    svg.appendChild(s('text', { x: box.width / 2, y: box.height / 2, class: 'axis-label', 'text-anchor': 'middle' }, 'No finite scores'));
    return undefined;
  }
  const m = box.margin;
  const yTop = Math.ceil(Math.max(...values));
  const yBottom = Math.floor(Math.min(...values)) - 1;
  const plotW = box.width - m.left - m.right;
  const plotH = box.height - m.top - m.bottom;
  return {
    box, min, max, yTop, yBottom, plotW, plotH,
    x: (v) => m.left + ((v - min) / (max - min || 1)) * plotW,
    y: (v) => m.top + ((yTop - v) / (yTop - yBottom || 1)) * plotH,
  };
}

/** The axes of a log-density chart: ticks (1e… up the side, five scores along), the zero line where asked and in range, and the labels. */
export function logDensityAxes(svg: SVGSVGElement, f: LogDensityFrame, xLabel: string, zeroLine = true): void {
  const m = f.box.margin;
  const bottom = m.top + f.plotH;
  svg.appendChild(s('line', { x1: m.left, x2: m.left, y1: m.top, y2: bottom, class: 'axis' }));
  svg.appendChild(s('line', { x1: m.left, x2: m.left + f.plotW, y1: bottom, y2: bottom, class: 'axis' }));
  if (zeroLine && f.min < 0 && f.max > 0) svg.appendChild(s('line', { x1: f.x(0), x2: f.x(0), y1: m.top, y2: bottom, class: 'zero' }));
  const yStep = Math.max(1, Math.ceil((f.yTop - f.yBottom) / 6));
  for (let v = f.yBottom; v <= f.yTop; v += yStep) {
    svg.appendChild(s('line', { x1: m.left - 4, x2: m.left, y1: f.y(v), y2: f.y(v), class: 'axis' }));
    svg.appendChild(s('text', { x: m.left - 6, y: f.y(v) + 4, class: 'tick', 'text-anchor': 'end' }, `1e${v}`));
  }
  for (let k = 0; k <= 4; k++) {
    const v = f.min + ((f.max - f.min) * k) / 4;
    svg.appendChild(s('line', { x1: f.x(v), x2: f.x(v), y1: bottom, y2: bottom + 4, class: 'axis' }));
    svg.appendChild(s('text', { x: f.x(v), y: bottom + 16, class: 'tick', 'text-anchor': 'middle' }, formatTick(v)));
  }
  svg.appendChild(s('text', { x: m.left + f.plotW / 2, y: f.box.height - 4, class: 'axis-label', 'text-anchor': 'middle' }, xLabel));
  svg.appendChild(s('text', { x: 12, y: m.top + f.plotH / 2, class: 'axis-label', 'text-anchor': 'middle', transform: `rotate(-90 12 ${m.top + f.plotH / 2})` }, 'density (log)'));
}

export function histogram(view: HistogramView, testId = 'score-histogram'): SVGSVGElement {
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart histogram',
    role: 'img',
    'data-testid': testId,
    'data-bins': view.counts.length,
    'data-total': view.total,
    'aria-label': `Log-density histogram of ${view.total} influence scores from ${formatTick(view.min)} to ${formatTick(view.max)}`,
  });
  svg.appendChild(s('title', {}, `Distribution of ${view.total} scores (log10 density)`));
  const f = logDensityFrame(svg, { width: W, height: H, margin: M }, view.min, view.max, view.logDensity);
  if (!f) return svg;
  const { x, y } = f;

  // Bars.
  view.logDensity.forEach((d, j) => {
    if (d === null) return;
    const x0 = view.min + j * view.binWidth;
    const x1 = x0 + view.binWidth;
    const cls = x1 <= 0 ? 'bar helpful' : x0 >= 0 ? 'bar harmful' : 'bar neutral';
    const rect = s('rect', {
      x: x(x0) + 0.5,
      y: y(d),
      width: Math.max(0.5, x(x1) - x(x0) - 1),
      height: Math.max(0, y(f.yBottom) - y(d)),
      class: cls,
    });
    rect.appendChild(s('title', {}, `[${formatTick(x0)}, ${formatTick(x1)}): ${view.counts[j]} scores, log10 density ${d.toFixed(2)}`));
    svg.appendChild(rect);
  });
  logDensityAxes(svg, f, 'influence score I(z, xₜ)');
  return svg;
}
