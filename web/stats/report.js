// Turns a statistics report from /api/stats (or the funder preset) into the page: each chart
// with a readable table beside it, every count shown exactly as Haven gave it (a suppressed
// count is the marker, e.g. "<11"; a suppressed share is "suppressed").

import { groupedBars, legend, shareBars, stackedShares } from './charts.js';

let serial = 0;

export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  return e;
}

/** A count as Haven gave it: a number, or the suppression marker. */
export const count = (v) => (typeof v === 'number' ? v.toLocaleString('en-US') : v == null ? '—' : String(v));
const share = (v) => (typeof v === 'number' ? `${v}%` : v == null ? '—' : String(v));

/** "2026-10" as "October 2026" (`long`), "Oct 2026" (`short`) or "Oct" (`month`). */
export function monthName(month, style = 'long') {
  const [y, m] = String(month).split('-').map(Number);
  if (!y || !m) return String(month);
  const options = { month: style === 'long' ? 'long' : 'short', timeZone: 'UTC' };
  if (style !== 'month') options.year = 'numeric';
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString('en-US', options);
}

/** A table with a caption, column headers and one header cell per row. */
export function table(caption, headers, rows) {
  const t = el('table', 'data');
  t.append(el('caption', '', caption));
  const head = el('tr');
  for (const [i, h] of headers.entries()) {
    const th = el('th', i === 0 ? '' : 'num', h);
    th.scope = 'col';
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
  t.append(thead);
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr');
    row.forEach((cell, i) => {
      const c = el(i === 0 ? 'th' : 'td', i === 0 ? '' : 'num', cell);
      if (i === 0) c.scope = 'row';
      tr.append(c);
    });
    body.append(tr);
  }
  t.append(body);
  return t;
}

/** A chart and its table side by side (stacked on a narrow screen and on paper). */
function figure(title, chart, chartLegend, data) {
  serial += 1;
  const f = el('figure', 'fig');
  const cap = el('figcaption', '', title);
  cap.id = `fig-${serial}`;
  const side = el('div', 'fig-chart');
  side.append(chart);
  if (chartLegend) side.append(chartLegend);
  // A wide table scrolls inside its own box on a narrow screen, reachable by keyboard.
  const tableSide = el('div', 'fig-table');
  tableSide.tabIndex = 0;
  tableSide.setAttribute('role', 'region');
  tableSide.setAttribute('aria-label', `${title}: table`);
  tableSide.append(data);
  const body = el('div', 'fig-body');
  body.append(side, tableSide);
  f.append(cap, body);
  return f;
}

const hasSuppressed = (values) => values.some((v) => v != null && typeof v !== 'number');

function contactsSection(report, marker) {
  const t = report.totals || {};
  const section = el('section', 'block');
  section.append(el('h3', '', 'Contacts'));
  const rows = [
    ['People who reached out (contacts)', t.contacts],
    ['Answered by an advocate', t.answered],
    ['Sought services but could not be served', t.not_served],
    ['Not served: left the queue before an advocate joined', t.abandoned],
    ['Not served: turned away (chat offline)', t.turned_away],
    ['Turned away: no advocate available', t.no_advocates],
    ['Turned away: outside service hours', t.outside_hours],
    ['Turned away: too many people waiting', t.queue_full],
    ['Turned away: all advocates busy', t.busy],
    ['Offered to an advocate (queued)', t.offered],
    ['Transferred to another advocate or queue', t.transferred],
    ['Resumed after a dropped connection', t.resumed],
  ].filter(([, v]) => v !== undefined);
  const totals = table(`Contacts, ${report.period.label}`, ['Measure', 'Count'], rows.map(([k, v]) => [k, count(v)]));
  totals.dataset.testid = 'totals';
  section.append(totals);

  const months = report.months || [];
  if (months.length) {
    const names = ['Answered', 'Left while waiting', 'Turned away'];
    const keys = ['answered', 'abandoned', 'turned_away'];
    const values = keys.map((k) => months.map((m) => m[k]));
    const chart = groupedBars({
      label: `Bar chart: answered, left while waiting and turned away per month, ${report.period.label}. The same numbers are in the table beside it.`,
      categories: months.map((m) => monthName(m.month, months.length > 3 ? 'month' : 'short')),
      series: names.map((name, i) => ({ name, values: values[i] })),
      threshold: report.suppression && report.suppression.threshold,
    });
    const data = table('Contacts per month', ['Month', 'Contacts', 'Answered', 'Left while waiting', 'Turned away'],
      months.map((m) => [monthName(m.month), count(m.contacts), count(m.answered), count(m.abandoned), count(m.turned_away)]));
    data.dataset.testid = 'months';
    section.append(figure('Contacts per month', chart, legend(names, hasSuppressed(values.flat()) && `${marker}: suppressed (from 1 to ${report.suppression.threshold - 1})`), data));
  }

  const times = table('Waiting time and chat length', ['Measure', 'Median', '90th percentile'], [
    ['Wait before an advocate answered', report.wait?.median ?? 'not shown', report.wait?.p90 ?? 'not shown'],
    ['Length of answered chats', report.duration?.median ?? 'not shown', report.duration?.p90 ?? 'not shown'],
  ]);
  times.dataset.testid = 'times';
  section.append(times, el('p', 'muted', 'Times are given as ranges. "Not shown" means too few answered chats in this selection to report them without risk.'));
  return section;
}

function questionFigure(q, marker, threshold) {
  const wrap = el('div', 'question');
  wrap.dataset.question = q.id;
  const options = q.options || [];
  const real = options.filter((o) => o.id !== 'prefer_not_to_say');
  if ((q.kind === 'text' || q.kind === 'email') && real.length === 0) {
    wrap.append(el('h4', '', q.label), el('p', 'muted', 'Free-text answers are never counted in statistics.'));
    return wrap;
  }
  const title = `${q.label} (${count(q.respondents)} answered)`;
  const chart = shareBars({
    label: `Bar chart of the answers to “${q.label}”. The same numbers are in the table beside it.`,
    rows: options.map((o) => ({ label: o.label || o.id, count: count(o.count), share: o.share })),
  });
  const data = table(q.label, ['Answer', 'People', 'Share'], options.map((o) => [o.label || o.id, count(o.count), share(o.share)]));
  data.dataset.testid = 'question-table';
  const suppressed = hasSuppressed(options.map((o) => o.count));
  wrap.append(figure(title, chart, suppressed ? legend([], `${marker}: suppressed (from 1 to ${threshold - 1})`) : null, data));

  const months = q.months || [];
  if (q.outcome && months.length > 1) {
    const names = options.map((o) => o.label || o.id);
    const chart2 = stackedShares({
      label: `Stacked bars: the share of each answer to “${q.label}” per month. The same numbers are in the table beside it.`,
      rows: months.map((m) => ({ label: monthName(m.month, 'short'), shares: (m.options || []).map((o) => o.share) })),
    });
    const data2 = table(`${q.label}: share per month`, ['Month', 'Answered', ...names],
      months.map((m) => [monthName(m.month), count(m.respondents), ...(m.options || []).map((o) => share(o.share))]));
    const anySuppressed = months.some((m) => (m.options || []).some((o) => typeof o.share !== 'number'));
    wrap.append(figure(`${q.label}: share per month`, chart2, legend(names, anySuppressed && 'suppressed share'), data2));
  }
  return wrap;
}

function formSection(form, title, marker, threshold) {
  const section = el('section', 'block');
  section.dataset.form = form.form || '';
  section.append(el('h3', '', title));
  section.append(table(`${title}: submissions`, ['Measure', 'Count'], [
    ['Forms submitted and kept', count(form.submissions)],
    ['Withheld because the person said they were under 13 (nothing of theirs is kept)', count(form.withheld_under_13)],
  ]));
  for (const q of form.questions || []) {
    if (q.kind === 'email') continue; // follow-up emails are never part of statistics
    section.append(questionFigure(q, marker, threshold));
  }
  return section;
}

export const FORM_NAMES = { intake: 'Intake form', survey: 'Exit survey' };

/** The whole report. `context` = { queueName(id) }. */
export function renderReport(report, context) {
  const out = el('article', 'report');
  out.setAttribute('aria-labelledby', 'report-title');
  const marker = report.suppression?.marker || '<11';
  const threshold = report.suppression?.threshold || 11;
  const p = report.period || {};
  const funder = report.preset === 'funder';
  const h = el('h2', '', `${funder ? 'Funder report (FVPSA / VAWA): ' : ''}${p.label} (${monthName(p.start)} – ${monthName(p.end)})`);
  h.id = 'report-title';
  h.tabIndex = -1;
  const facts = el('dl', 'facts');
  const fact = (k, v) => facts.append(el('dt', '', k), el('dd', '', v));
  fact('Queue', report.filters?.queue === 'all' || !report.filters?.queue ? 'All queues' : context.queueName(report.filters.queue));
  if (!funder) fact('Form', `${FORM_NAMES[report.filters.form] || report.filters.form}, version ${report.filters.version}`);
  fact('Generated on', report.generated_on || '');
  fact('Small-cell threshold', `${threshold}`);
  const note = el('p', 'suppression');
  note.dataset.testid = 'suppression-note';
  const rule = report.suppression?.note
    || `Counts from 1 to ${threshold - 1} are shown as ${marker}, with other cells hidden where they could give them away. Zero shows.`;
  note.textContent = `Small-cell suppression protects the people counted. ${rule} A share computed from a hidden count shows as “suppressed”. In charts, hidden cells are hatched.`;
  out.append(h, facts, note, contactsSection(report, marker));
  if (report.form) {
    out.append(formSection(report.form, `${FORM_NAMES[report.form.form] || 'Form'}, version ${report.form.version}`, marker, threshold));
  }
  for (const [name, form] of Object.entries(report.forms || {})) {
    out.append(formSection(form, `${FORM_NAMES[name] || name}, version ${form.version}`, marker, threshold));
  }
  return out;
}
