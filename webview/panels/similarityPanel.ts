/**
 * Task similarity and finetuning-set size (Chen et al., 2020, §4.3–4.4): the influence
 * scores of two workspaces, per test point, as two log-density histograms overlaid on
 * common bins (the scores, and log10 of their magnitudes), a table of statistics side by
 * side, and the paper's reading of the difference.
 */
import type { DistributionView, HistogramView, SimilarityPanelModel, SimilaritySideView } from '../../src/protocol/webviewProtocol';
import type { PanelContext } from '../app';
import { checkbox } from '../components/toolkit';
import { clear, h, s } from '../render/dom';
import { caseName, formatTick } from '../render/format';
import { logDensityAxes, logDensityFrame } from '../render/histogram';
import type { ChartBox } from '../render/histogram';

const BOX: ChartBox = { width: 600, height: 240, margin: { left: 56, right: 12, top: 26, bottom: 40 } };

/** The colour series of a side: 0 for A, 1 for B. */
function seriesOf(side: SimilaritySideView): number {
  return side.name === 'A' ? 0 : 1;
}

/**
 * Log-density histograms of the given sides on their common bins, drawn as step lines
 * in each side's colour (overlaid when there are two); an empty bin breaks the line.
 * The y axis spans both sides' densities, so that separate charts share a scale too.
 */
function overlay(
  sides: readonly SimilaritySideView[],
  pick: (s: SimilaritySideView) => HistogramView,
  xLabel: string,
  testId: string,
  scaleSides: readonly SimilaritySideView[] = sides,
  zeroLine = true,
): SVGSVGElement {
  const views = sides.map(pick);
  const first = views[0] as HistogramView;
  const svg = s('svg', {
    viewBox: `0 0 ${BOX.width} ${BOX.height}`,
    class: 'chart overlay-histogram',
    role: 'img',
    'data-testid': testId,
    'data-bins': first.counts.length,
    'aria-label': `${xLabel}: log-density histogram${sides.length > 1 ? 's' : ''} of ${sides.map((side, k) => `${side.name} (${views[k]?.total} scores)`).join(' and ')} on common bins from ${formatTick(first.min)} to ${formatTick(first.max)}`,
  });
  svg.appendChild(s('title', {}, `${xLabel}, log10 density`));
  const f = logDensityFrame(svg, BOX, first.min, first.max, scaleSides.map(pick).flatMap((v) => v.logDensity));
  if (!f) return svg;
  views.forEach((view, k) => {
    let points: string[] = [];
    const flush = (): void => {
      if (points.length > 0) svg.appendChild(s('polyline', { points: points.join(' '), class: `series series-${seriesOf(sides[k] as SimilaritySideView)}` }));
      points = [];
    };
    view.logDensity.forEach((d, j) => {
      if (d === null) {
        flush();
        return;
      }
      const x0 = view.min + j * view.binWidth;
      points.push(`${f.x(x0)},${f.y(d)}`, `${f.x(x0 + view.binWidth)},${f.y(d)}`);
    });
    flush();
  });
  logDensityAxes(svg, f, xLabel, zeroLine);
  sides.forEach((side, k) => {
    // The full names are in the list above the charts, beside the same colours.
    const lx = BOX.margin.left + 8 + k * 60;
    svg.appendChild(s('line', { x1: lx, x2: lx + 18, y1: 12, y2: 12, class: `series series-${seriesOf(side)}` }));
    svg.appendChild(s('text', { x: lx + 22, y: 16, class: 'legend' }, side.name));
  });
  return svg;
}

/** Histograms of the two sides next to each other, on the common bins and one y scale. */
function sideBySide(sides: readonly [SimilaritySideView, SimilaritySideView], pick: (s: SimilaritySideView) => HistogramView, xLabel: string, testId: string, zeroLine: boolean): HTMLElement {
  return h('div', { class: 'side-by-side', 'data-testid': testId }, ...sides.map((side) => overlay([side], pick, `${side.name}: ${xLabel}`, `${testId}-${side.name.toLowerCase()}`, sides, zeroLine)));
}

function num(v: number): string {
  return Number.isFinite(v) ? v.toExponential(3) : String(v);
}

function statRows(a: DistributionView, b: DistributionView): [string, string, string][] {
  const q = (d: DistributionView, p: number): string => num(d.quantiles.find((x) => x.p === p)?.value ?? NaN);
  const rows: [string, string, string][] = [
    ['mean |I|', num(a.meanAbs), num(b.meanAbs)],
    ['median |I|', num(a.medianAbs), num(b.medianAbs)],
    ['max |I|', num(a.maxAbs), num(b.maxAbs)],
    ['mean I', num(a.mean), num(b.mean)],
    ['sd of I', num(a.sd), num(b.sd)],
    ['harmful (I > 0)', `${(100 * a.fractionPositive).toFixed(1)}%`, `${(100 * b.fractionPositive).toFixed(1)}%`],
    ['helpful (I < 0)', `${(100 * a.fractionNegative).toFixed(1)}%`, `${(100 * b.fractionNegative).toFixed(1)}%`],
  ];
  for (const p of a.quantiles.map((x) => x.p)) rows.push([`${p * 100}% quantile`, q(a, p), q(b, p)]);
  return rows;
}

export function similarityPanel(model: SimilarityPanelModel, ctx: PanelContext): HTMLElement {
  const sides = [model.a, model.b] as const;
  const about = (side: SimilaritySideView): HTMLElement =>
    h(
      'li',
      { 'data-testid': `side-${side.name.toLowerCase()}` },
      h('span', { class: `swatch series-${side.name === 'A' ? 0 : 1}`, 'aria-hidden': 'true' }),
      h('strong', {}, `${side.name}: `),
      side.configLabel,
      h(
        'span',
        { class: 'muted' },
        ` · ${caseName(side.case)} · m = ${side.pretrainCount} pretraining, n = ${side.finetuneTrainCount} finetuning · ${side.testCount} test point${side.testCount === 1 ? '' : 's'} (${side.test})`,
      ),
      side.converged ? null : h('span', { class: 'tag' }, 'unconverged solve'),
    );
  const charts = h('div', { class: 'charts' });
  const draw = (overlaid: boolean): void => {
    clear(charts);
    const scoreLabel = 'influence score per test point I(z, X)/|X|';
    const magLabel = 'log10 |score per test point|';
    if (overlaid) {
      charts.append(overlay(sides, (x) => x.histogram, scoreLabel, 'similarity-histogram'), overlay(sides, (x) => x.magnitudeHistogram, magLabel, 'similarity-magnitudes', sides, false));
    } else {
      charts.append(sideBySide(sides, (x) => x.histogram, scoreLabel, 'similarity-histogram', true), sideBySide(sides, (x) => x.magnitudeHistogram, magLabel, 'similarity-magnitudes', false));
    }
  };
  const overlaid = ctx.ui['overlaid'] !== false;
  draw(overlaid);
  const warnings = sides.flatMap((side) => side.warnings.map((w) => `${side.name}: ${w}`));
  return h(
    'div',
    { class: 'similarity' },
    h(
      'header',
      {},
      h('h1', {}, 'Task similarity and finetuning-set size'),
      h('p', { class: 'sub' }, `Influence scores of two workspaces, each divided by its number of test points · ${model.seconds.toFixed(1)} s`),
      h('ul', { class: 'sides' }, ...sides.map(about)),
    ),
    h(
      'section',
      { class: 'reading', 'data-testid': 'similarity-reading', 'data-ratio': String(model.ratio.meanAbs) },
      h('h2', {}, 'Reading'),
      ...model.reading.map((line) => h('p', {}, line)),
    ),
    warnings.length > 0 ? h('ul', { class: 'warnings', role: 'alert' }, ...warnings.map((w) => h('li', {}, w))) : null,
    h(
      'section',
      { class: 'distribution' },
      h('h2', {}, 'Distributions'),
      h('div', { class: 'chart-controls' }, checkbox('Overlay A and B', overlaid, (on) => {
        ctx.setUi('overlaid', on);
        draw(on);
      })),
      charts,
    ),
    h(
      'section',
      { class: 'similarity-stats' },
      h('h2', {}, 'Statistics per test point'),
      h(
        'table',
        { 'data-testid': 'similarity-stats' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'statistic'), h('th', { scope: 'col' }, 'A'), h('th', { scope: 'col' }, 'B'))),
        h(
          'tbody',
          {},
          ...statRows(model.a.stats, model.b.stats).map(([name, va, vb]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', { class: 'num' }, va), h('td', { class: 'num' }, vb))),
          h(
            'tr',
            { class: 'ratio' },
            h('th', { scope: 'row' }, 'A / B'),
            h('td', { class: 'num', colspan: 2 }, `mean |I| ${model.ratio.meanAbs.toPrecision(3)}, median |I| ${model.ratio.medianAbs.toPrecision(3)}`),
          ),
        ),
      ),
    ),
  );
}
