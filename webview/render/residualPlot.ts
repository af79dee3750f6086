/** The CG solves' relative residuals per iteration, on a log scale (SVG). */
import { s } from './dom';

/** Relative residual per CG iteration on a log scale, one line per solve. */
export function residualPlot(series: { readonly name: string; readonly residuals: readonly number[] }[]): SVGSVGElement {
  const w = 560;
  const hgt = 160 + 14 * series.length;
  // The legend sits above the plot, one line per series.
  const m = { left: 56, right: 12, top: 10 + 14 * series.length, bottom: 30 };
  const svg = s('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'chart residuals', role: 'img', 'aria-label': 'CG relative residual per iteration (log scale)' });
  const logs = series.flatMap((d) => d.residuals.filter((r) => r > 0 && Number.isFinite(r)).map((r) => Math.log10(r)));
  const n = Math.max(1, ...series.map((d) => d.residuals.length));
  if (logs.length === 0) {
    svg.appendChild(s('text', { x: w / 2, y: hgt / 2, class: 'axis-label', 'text-anchor': 'middle' }, 'No residuals recorded'));
    return svg;
  }
  const top = Math.ceil(Math.max(...logs));
  const bottom = Math.floor(Math.min(...logs));
  const pw = w - m.left - m.right;
  const ph = hgt - m.top - m.bottom;
  const x = (i: number): number => m.left + (n <= 1 ? 0 : (i / (n - 1)) * pw);
  const y = (v: number): number => m.top + ((top - v) / (top - bottom || 1)) * ph;
  svg.appendChild(s('line', { x1: m.left, x2: m.left, y1: m.top, y2: m.top + ph, class: 'axis' }));
  svg.appendChild(s('line', { x1: m.left, x2: m.left + pw, y1: m.top + ph, y2: m.top + ph, class: 'axis' }));
  const step = Math.max(1, Math.ceil((top - bottom) / 5));
  for (let v = bottom; v <= top; v += step) {
    svg.appendChild(s('text', { x: m.left - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, `1e${v}`));
  }
  svg.appendChild(s('text', { x: m.left, y: hgt - 8, class: 'tick', 'text-anchor': 'start' }, '1'));
  svg.appendChild(s('text', { x: m.left + pw, y: hgt - 8, class: 'tick', 'text-anchor': 'end' }, String(n)));
  svg.appendChild(s('text', { x: m.left + pw / 2, y: hgt - 4, class: 'axis-label', 'text-anchor': 'middle' }, 'CG iteration'));
  series.forEach((d, k) => {
    const points = d.residuals
      .map((r, i) => (r > 0 && Number.isFinite(r) ? `${x(i).toFixed(1)},${y(Math.log10(r)).toFixed(1)}` : ''))
      .filter((p) => p)
      .join(' ');
    const line = s('polyline', { points, class: `series series-${k % 4}` });
    line.appendChild(s('title', {}, d.name));
    svg.appendChild(line);
    svg.appendChild(s('text', { x: m.left, y: 12 + k * 14, class: `legend series-${k % 4}`, 'text-anchor': 'start' }, `— ${d.name}`));
  });
  return svg;
}
