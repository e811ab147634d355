// chart.js - a small SVG sparkline for the last few minutes of a number
// (CPU percent, memory used). Drawn with attributes only: nothing inline
// for the Content-Security-Policy to refuse.

import { h, svg } from './ui.js';

const W = 300;
const H = 64;

// sparkline(title, samples [{t, v}], {max, format, note}) -> <figure>
export function sparkline(title, samples, opts = {}) {
  const vals = samples.map((s) => s.v);
  const last = vals.length ? vals[vals.length - 1] : null;
  const peak = vals.length ? Math.max(...vals) : 0;
  const max = Math.max(opts.max || 0, peak, opts.floor || 1e-9);
  const fmt = opts.format || ((v) => String(v));
  const graph = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: 'spark', role: 'img',
    'aria-label': `${title}: ${last === null ? 'no samples yet' : fmt(last)}, peak ${fmt(peak)}`,
  });
  graph.append(svg('line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, class: 'spark-base' }));
  if (samples.length >= 2) {
    const t0 = samples[0].t;
    const span = Math.max(samples[samples.length - 1].t - t0, 1);
    const pts = samples.map((s) => {
      const x = ((s.t - t0) / span) * W;
      const y = H - 2 - (s.v / max) * (H - 6);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    graph.append(svg('polygon', { points: `0,${H} ${pts.join(' ')} ${W},${H}`, class: 'spark-area' }));
    graph.append(svg('polyline', { points: pts.join(' '), class: 'spark-line', 'vector-effect': 'non-scaling-stroke' }));
  }
  return h('figure.chart',
    h('figcaption', h('span.chart-title', title), h('span.chart-value', last === null ? '—' : fmt(last))),
    graph,
    h('p.chart-note', opts.note || (samples.length < 2 ? 'Collecting samples…' : `peak ${fmt(peak)} over ${Math.round((samples[samples.length - 1].t - samples[0].t) / 1000)} s`)));
}
