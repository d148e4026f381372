// /stats: the evaluator's view. Whole calendar periods only (months, quarters and fiscal years
// aligned to the program's fiscal year), a queue, a form and its version; the report with a
// table beside every chart; CSV and JSON downloads of exactly what is shown; the funder preset.

import { api, SignedOut, startSession } from './session.js';
import { FORM_NAMES, monthName, renderReport } from './report.js';
import { freeTextSection } from './freetext.js';

const $ = (id) => document.getElementById(id);
const S = { me: null, options: null, report: null };

// ------------------------------------------------------------------ the fiscal calendar

const index = (month) => { const [y, m] = month.split('-').map(Number); return y * 12 + m - 1; };
const monthOf = (i) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
const LENGTH = { month: 1, quarter: 3, fiscal_year: 12 };

/** The fiscal year a month falls in, named by the calendar year it ends in (US federal style). */
function fiscalYear(month, fyStart) {
  const i = index(month);
  const start = i - ((((i - (fyStart - 1)) % 12) + 12) % 12);
  return { start, name: Math.floor((start + 11) / 12) };
}

/** Every period of `kind` from the first month with data to this month, newest first. */
function periods(kind, options) {
  const fy = options.fiscal_year_start_month || 1;
  const len = LENGTH[kind];
  const first = index(options.first_month);
  const last = index(options.last_month);
  let i = first - ((((first - (fy - 1)) % len) + len) % len);
  const out = [];
  for (; i <= last; i += len) {
    const start = monthOf(i);
    const end = monthOf(i + len - 1);
    const { start: fyFirst, name } = fiscalYear(start, fy);
    let label;
    if (kind === 'month') label = monthName(start);
    else if (kind === 'quarter') label = `FY${name} Q${(i - fyFirst) / 3 + 1} (${monthName(start, 'short')} – ${monthName(end, 'short')})`;
    else label = `FY${name} (${monthName(start, 'short')} – ${monthName(end, 'short')})`;
    out.push({ start, label });
  }
  return out.reverse();
}

// ------------------------------------------------------------------ filters

function option(value, text) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

function fillPeriods() {
  const select = $('period');
  const before = select.value;
  select.replaceChildren(...periods($('period-kind').value, S.options).map((p) => option(p.start, p.label)));
  if ([...select.options].some((o) => o.value === before)) select.value = before;
}

function fillVersions() {
  const form = (S.options.forms || []).find((f) => f.form === $('form').value);
  const versions = form ? [...form.versions].sort((a, b) => b - a) : [];
  $('version').replaceChildren(...versions.map((v) => option(String(v), `Version ${v}`)));
}

function fillFilters() {
  const o = S.options;
  $('queue').replaceChildren(option('all', 'All queues'), ...(o.queues || []).map((q) => option(q.id, q.name)));
  $('form').replaceChildren(...(o.forms || []).map((f) => option(f.form, FORM_NAMES[f.form] || f.form)));
  fillPeriods();
  fillVersions();
}

function query() {
  return new URLSearchParams({
    period: $('period-kind').value,
    start: $('period').value,
    queue: $('queue').value,
    form: $('form').value,
    version: $('version').value,
  }).toString();
}

// ------------------------------------------------------------------ showing a report

function problem(text) {
  $('stats-error').textContent = text || '';
  $('stats-error').hidden = !text;
}

function clearReport() {
  S.report = null;
  $('report').replaceChildren();
  $('downloads').hidden = true;
}

async function show(jsonUrl, csvUrl, name) {
  problem('');
  $('stats-status').textContent = 'Loading…';
  let res;
  try {
    res = await api(jsonUrl);
  } catch (e) {
    if (!(e instanceof SignedOut)) problem('Haven could not be reached. Check the connection and try again.');
    return;
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    clearReport();
    problem(res.status === 403 ? 'Your account may not see statistics.' : body.message || `The report could not be made (${res.status}).`);
    $('stats-status').textContent = '';
    return;
  }
  S.report = body;
  const queueName = (id) => ((S.options.queues || []).find((q) => q.id === id) || { name: id }).name;
  const article = renderReport(body, { queueName });
  $('report').replaceChildren(article);
  // Free text: evaluators only, and only when the program keeps it.
  if (S.options.free_text && S.me?.role === 'evaluator' && body.form) {
    const section = freeTextSection(body.form.form, body.form.version, body.form.free_text_questions || []);
    if (section) article.append(section);
  }
  $('download-json').href = jsonUrl;
  $('download-json').download = `${name}.json`;
  $('download-csv').href = csvUrl;
  $('download-csv').download = `${name}.csv`;
  $('downloads').hidden = false;
  $('stats-status').textContent = `Showing ${body.period?.label || 'the report'}.`;
  $('report-title').focus();
}

function showSelected(e) {
  if (e) e.preventDefault();
  if (!$('period').value) return;
  const q = query();
  const name = `haven-stats-${$('period').value}-${$('period-kind').value}-${$('queue').value}-${$('form').value}-v${$('version').value}`;
  show(`/api/stats?${q}`, `/api/stats.csv?${q}`, name);
}

function showFunder() {
  if (!$('period').value) return;
  const fy = fiscalYear($('period').value, S.options.fiscal_year_start_month || 1).name;
  show(`/api/stats/funder?fiscal_year=${fy}`, `/api/stats/funder.csv?fiscal_year=${fy}`, `haven-funder-FY${fy}`);
}

// ------------------------------------------------------------------ start

async function ready(me) {
  S.me = me;
  problem('');
  try {
    const res = await api('/api/stats/options');
    if (!res.ok) {
      problem(`The statistics could not be loaded (${res.status}).`);
      return;
    }
    S.options = await res.json();
  } catch (e) {
    if (!(e instanceof SignedOut)) problem('Haven could not be reached. Check the connection and try again.');
    return;
  }
  fillFilters();
  showSelected();
}

function wipe() {
  S.me = null;
  clearReport();
  problem('');
}

function wire() {
  $('period-kind').addEventListener('change', fillPeriods);
  $('form').addEventListener('change', fillVersions);
  $('filters').addEventListener('submit', showSelected);
  $('funder').addEventListener('click', showFunder);
  $('print').addEventListener('click', () => window.print());
}

wire();
startSession(['evaluator', 'admin'], ready, wipe);

