// Free-text answers for evaluators: one page at a time, in the random order Haven gives, never
// in any export. Shown only when the program keeps free text (`free_text` in the options).

import { api, SignedOut } from './session.js';
import { el } from './report.js';

let serial = 0;

/** A "Read the answers" button that opens a pager over `question`'s free-text answers. */
export function freeTextReader(form, version, question) {
  serial += 1;
  const box = el('div', 'free-text');
  const open = el('button', 'btn', `Read the answers to “${question.label}”`);
  open.type = 'button';
  open.setAttribute('aria-expanded', 'false');
  const panel = el('div', 'free-text-panel');
  panel.id = `free-text-${serial}`;
  panel.hidden = true;
  open.setAttribute('aria-controls', panel.id);
  const status = el('p', 'muted');
  status.setAttribute('role', 'status');
  const list = el('ul', 'free-text-list');
  const prev = el('button', 'btn btn-small', 'Previous page');
  const next = el('button', 'btn btn-small', 'Next page');
  prev.type = 'button';
  next.type = 'button';
  const nav = el('p', 'free-text-nav');
  nav.append(prev, ' ', next);
  panel.append(status, list, nav);
  box.append(open, panel);
  // Pages count from 0, as Haven numbers them.
  let page = 0;
  let pages = 1;

  async function load(n) {
    const q = new URLSearchParams({ form, version: String(version), question: question.id, page: String(n) });
    list.replaceChildren();
    try {
      const res = await api(`/api/stats/free_text?${q}`);
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        status.textContent = res.status === 404 ? 'Free-text answers are not kept by this program.' : body.message || `Could not load the answers (${res.status}).`;
        prev.hidden = true;
        next.hidden = true;
        return;
      }
      page = body.page;
      pages = Math.max(1, body.pages);
      for (const text of body.answers || []) list.append(el('li', '', text));
      status.textContent = body.answers?.length ? `Page ${page + 1} of ${pages}, in random order.` : 'No answers in this form version.';
      prev.hidden = page <= 0;
      next.hidden = page >= pages - 1;
    } catch (e) {
      if (!(e instanceof SignedOut)) status.textContent = 'Haven could not be reached.';
    }
  }

  open.addEventListener('click', () => {
    const opening = panel.hidden;
    panel.hidden = !opening;
    open.setAttribute('aria-expanded', String(opening));
    if (opening) load(0);
  });
  prev.addEventListener('click', () => load(page - 1));
  next.addEventListener('click', () => load(page + 1));
  return box;
}

/**
 * The free-text questions of the report's form version (`free_text_questions`), each with its
 * reader, or null. Statistics never count free text; the report only names the questions.
 */
export function freeTextSection(form, version, questions) {
  if (!questions.length) return null;
  const section = el('section', 'block free-text-block');
  section.append(el('h3', '', 'Free-text answers'),
    el('p', 'muted', 'Kept only because the program chose to. Never counted, never exported; shown ten at a time in a random order.'));
  for (const q of questions) {
    const wrap = el('div', 'question');
    wrap.dataset.question = q.id;
    wrap.append(el('h4', '', q.label), freeTextReader(form, version, q));
    section.append(wrap);
  }
  return section;
}
