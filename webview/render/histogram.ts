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
  const values = view.logDensity.filter((v): v is number => v !== null);
  if (values.length === 0) {
    svg.appendChild(s('text', { x: W / 2, y: H / 2, class: 'axis-label', 'text-anchor': 'middle' }, 'No finite scores'));
    return svg;
  }
  const yTop = Math.ceil(Math.max(...values));
  const yBottom = Math.floor(Math.min(...values)) - 1;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (v: number): number => M.left + ((v - view.min) / (view.max - view.min || 1)) * plotW;
  const y = (v: number): number => M.top + ((yTop - v) / (yTop - yBottom || 1)) * plotH;

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
      height: Math.max(0, y(yBottom) - y(d)),
      class: cls,
    });
    rect.appendChild(s('title', {}, `[${formatTick(x0)}, ${formatTick(x1)}): ${view.counts[j]} scores, log10 density ${d.toFixed(2)}`));
    svg.appendChild(rect);
  });

  // Axes.
  svg.appendChild(s('line', { x1: M.left, x2: M.left, y1: M.top, y2: M.top + plotH, class: 'axis' }));
  svg.appendChild(s('line', { x1: M.left, x2: M.left + plotW, y1: M.top + plotH, y2: M.top + plotH, class: 'axis' }));
  if (view.min < 0 && view.max > 0) {
    svg.appendChild(s('line', { x1: x(0), x2: x(0), y1: M.top, y2: M.top + plotH, class: 'zero' }));
  }
  const yStep = Math.max(1, Math.ceil((yTop - yBottom) / 6));
  for (let v = yBottom; v <= yTop; v += yStep) {
    svg.appendChild(s('line', { x1: M.left - 4, x2: M.left, y1: y(v), y2: y(v), class: 'axis' }));
    svg.appendChild(s('text', { x: M.left - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, `1e${v}`));
  }
  for (let k = 0; k <= 4; k++) {
    const v = view.min + ((view.max - view.min) * k) / 4;
    svg.appendChild(s('line', { x1: x(v), x2: x(v), y1: M.top + plotH, y2: M.top + plotH + 4, class: 'axis' }));
    svg.appendChild(s('text', { x: x(v), y: M.top + plotH + 16, class: 'tick', 'text-anchor': 'middle' }, formatTick(v)));
  }
  svg.appendChild(s('text', { x: M.left + plotW / 2, y: H - 4, class: 'axis-label', 'text-anchor': 'middle' }, 'influence score I(z, xₜ)'));
  svg.appendChild(
    s('text', { x: 12, y: M.top + plotH / 2, class: 'axis-label', 'text-anchor': 'middle', transform: `rotate(-90 12 ${M.top + plotH / 2})` }, 'density (log)'),
  );
  return svg;
}
