// Small inline-SVG charts for /stats, with no library. Every chart has a readable table beside
// it (tables.js), so the SVG is one labelled image. A value may be a number or Haven's
// suppression marker ("<11"); suppressed values are drawn hatched, never as a guess.

const NS = 'http://www.w3.org/2000/svg';
export const COLOURS = ['#5b2a86', '#00707a', '#b35900', '#3b6fb6', '#a3161a', '#5e6b00', '#8a3b74', '#6e6677'];
let serial = 0;

function s(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text != null) e.textContent = text;
  return e;
}

/** An `<svg role=img>` of `width` x `height` user units with a hatch pattern for suppressed cells. */
function frame(width, height, label) {
  serial += 1;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label, class: 'chart', preserveAspectRatio: 'xMinYMin meet' });
  const hatch = `hatch-${serial}`;
  const pattern = s('pattern', { id: hatch, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
  pattern.append(s('rect', { width: 6, height: 6, fill: '#fff' }), s('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#4f4a57', 'stroke-width': 2 }));
  const defs = s('defs');
  defs.append(pattern);
  svg.append(defs);
  return { svg, hatch: `url(#${hatch})` };
}

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A rounded-up axis maximum: 1, 2, 5 times a power of ten. */
function niceMax(max) {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= max);
}

const clip = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/**
 * Vertical grouped bars: one group per category (e.g. a month), one bar per series.
 * `series` = [{name, values: [number | marker]}]; suppressed bars reach `threshold`, hatched.
 */
export function groupedBars({ label, categories, series, threshold }) {
  const W = 420, H = 220, L = 34, R = 6, T = 10, B = 26;
  const { svg, hatch } = frame(W, H, label);
  const values = series.flatMap((x) => x.values.map(num)).filter((v) => v != null);
  const max = niceMax(Math.max(threshold || 0, ...values, 0));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  for (const tick of [0, max / 2, max]) {
    svg.append(s('line', { x1: L, x2: W - R, y1: y(tick), y2: y(tick), stroke: '#d6d0de' }));
    svg.append(s('text', { x: L - 4, y: y(tick) + 4, 'text-anchor': 'end', class: 'tick' }, String(Math.round(tick * 10) / 10)));
  }
  const group = (W - L - R) / Math.max(1, categories.length);
  const bar = Math.min(22, (group * 0.8) / series.length);
  categories.forEach((cat, i) => {
    const x0 = L + i * group + (group - bar * series.length) / 2;
    series.forEach((ser, j) => {
      const v = ser.values[i];
      const n = num(v);
      const top = y(n == null ? threshold || 0 : n);
      const rect = s('rect', { x: x0 + j * bar, y: top, width: Math.max(1, bar - 1), height: Math.max(0, y(0) - top) });
      if (n == null && v != null) rect.setAttribute('fill', hatch);
      else rect.setAttribute('fill', COLOURS[j % COLOURS.length]);
      svg.append(rect);
    });
    svg.append(s('text', { x: L + i * group + group / 2, y: H - 8, 'text-anchor': 'middle', class: 'tick' }, clip(cat, Math.max(3, Math.floor(group / 6)))));
  });
  return svg;
}

/**
 * Horizontal bars, one row per answer: `rows` = [{label, count, share}]; the bar is the share
 * (percent), the text the count and share as Haven gave them.
 */
export function shareBars({ label, rows }) {
  const W = 420, row = 34, T = 4;
  const H = T + row * rows.length + 4;
  const { svg, hatch } = frame(W, H, label);
  const plot = W - 110;
  rows.forEach((r, i) => {
    const top = T + i * row;
    svg.append(s('text', { x: 0, y: top + 11, class: 'row-label' }, clip(r.label, 62)));
    const share = num(r.share);
    const width = share == null ? 12 : Math.max(share > 0 ? 2 : 0, (plot * share) / 100);
    svg.append(s('rect', { x: 0, y: top + 15, width, height: 12, fill: share == null ? hatch : COLOURS[i % COLOURS.length] }));
    const text = share == null ? `${r.count}` : `${r.count} (${share}%)`;
    svg.append(s('text', { x: width + 6, y: top + 25, class: 'value' }, text));
  });
  return svg;
}

/**
 * One 100% bar per period (e.g. month) split by answer share; shares Haven suppressed stay as
 * one hatched remainder. `rows` = [{label, shares: [number | "suppressed"]}].
 */
export function stackedShares({ label, rows }) {
  const W = 420, row = 26, L = 62, T = 4;
  const H = T + row * rows.length + 4;
  const { svg, hatch } = frame(W, H, label);
  const plot = W - L - 4;
  rows.forEach((r, i) => {
    const top = T + i * row;
    svg.append(s('text', { x: 0, y: top + 15, class: 'row-label' }, clip(r.label, 10)));
    let x = L;
    r.shares.forEach((v, j) => {
      const n = num(v);
      if (!n) return;
      const width = (plot * n) / 100;
      svg.append(s('rect', { x, y: top + 3, width, height: 16, fill: COLOURS[j % COLOURS.length], stroke: '#fff' }));
      x += width;
    });
    const known = r.shares.map(num).filter((n) => n != null).reduce((a, b) => a + b, 0);
    const unknown = r.shares.some((v) => num(v) == null);
    if (unknown && known < 100) {
      svg.append(s('rect', { x, y: top + 3, width: Math.max(2, L + plot - x), height: 16, fill: hatch, stroke: '#4f4a57' }));
    }
  });
  return svg;
}

/** A legend as HTML: a swatch (small SVG, so it prints) and a name per series. */
export function legend(names, withSuppressed) {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  const item = (fill, name, hatched) => {
    const li = document.createElement('li');
    const sw = s('svg', { width: 14, height: 14, viewBox: '0 0 14 14', 'aria-hidden': 'true' });
    if (hatched) {
      const { svg, hatch } = frame(14, 14, '');
      svg.setAttribute('aria-hidden', 'true');
      svg.setAttribute('width', 14);
      svg.setAttribute('height', 14);
      for (const attr of ['role', 'aria-label', 'class']) svg.removeAttribute(attr);
      svg.append(s('rect', { width: 14, height: 14, fill: hatch, stroke: '#4f4a57' }));
      li.append(svg);
    } else {
      sw.append(s('rect', { width: 14, height: 14, fill }));
      li.append(sw);
    }
    li.append(` ${name}`);
    return li;
  };
  names.forEach((n, i) => ul.append(item(COLOURS[i % COLOURS.length], n, false)));
  if (withSuppressed) ul.append(item(null, withSuppressed, true));
  return ul;
}
