// Canned responses: the button, or "/" at the start of the composer to filter them (↑/↓, Enter
// inserts, Escape closes). Only those in the chat's language (and those with no language) are
// offered; a chat without a language sees them all.

import { el } from './dom.js';
import { t } from './i18n.js';
import { S } from './state.js';
import { composerChanged } from './composer.js';

/** Does a response written in `lang` suit a chat in `chatLang`? (`es` suits `es-MX`.) */
function suits(lang, chatLang) {
  if (!lang || !chatLang) return true;
  const a = String(lang).toLowerCase();
  const b = String(chatLang).toLowerCase();
  return a === b || a === b.split('-')[0] || a.split('-')[0] === b;
}

function matches(c, query) {
  const q = query.trim().toLowerCase();
  return S.canned
    .map((x, i) => ({ ...x, i }))
    .filter((x) => suits(x.language, c.language))
    .filter((x) => !q || x.title.toLowerCase().includes(q) || x.text.toLowerCase().includes(q));
}

export function showCanned(c, query) {
  const items = matches(c, query);
  c.list.replaceChildren();
  c.cannedIndex = 0;
  items.forEach((x, k) => {
    const li = el('li', 'canned-item');
    li.id = `${c.list.id}-${k}`;
    li.setAttribute('role', 'option');
    li.dataset.testid = 'canned-option';
    li.dataset.index = String(x.i);
    if (x.language) li.lang = x.language;
    li.append(el('strong', '', x.title), el('span', 'canned-text', x.text));
    li.addEventListener('mousedown', (e) => e.preventDefault());
    li.addEventListener('click', () => insertCanned(c, x.i));
    c.list.append(li);
  });
  if (!items.length) c.list.append(el('li', 'muted', t('canned_none')));
  c.list.hidden = false;
  c.panel.querySelector('[data-action="canned"]').setAttribute('aria-expanded', 'true');
  highlight(c);
}

export function hideCanned(c) {
  c.list.hidden = true;
  c.box.removeAttribute('aria-activedescendant');
  c.panel.querySelector('[data-action="canned"]').setAttribute('aria-expanded', 'false');
}

export function toggleCanned(c) {
  if (c.list.hidden) {
    showCanned(c, '');
    c.box.focus();
  } else {
    hideCanned(c);
  }
}

function highlight(c) {
  const options = [...c.list.querySelectorAll('[role="option"]')];
  options.forEach((o, k) => o.setAttribute('aria-selected', String(k === c.cannedIndex)));
  const current = options[c.cannedIndex];
  if (current) {
    c.box.setAttribute('aria-activedescendant', current.id);
    current.scrollIntoView({ block: 'nearest' });
  }
}

function insertCanned(c, index) {
  const x = S.canned[index];
  if (!x) return;
  const v = c.box.value;
  c.box.value = v.startsWith('/') || !v.trim() ? x.text : `${v.replace(/\s+$/, '')} ${x.text}`;
  hideCanned(c);
  c.box.focus();
  c.box.setSelectionRange(c.box.value.length, c.box.value.length);
  composerChanged(c);
}

/** Handles the composer's keys while the list is open; true when the key was used. */
export function cannedKey(c, e) {
  const open = !c.list.hidden;
  if (!open) return false;
  const options = [...c.list.querySelectorAll('[role="option"]')];
  if (options.length && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
    e.preventDefault();
    const d = e.key === 'ArrowDown' ? 1 : -1;
    c.cannedIndex = (c.cannedIndex + d + options.length) % options.length;
    highlight(c);
    return true;
  }
  if (e.key === 'Escape') {
    e.preventDefault();
    hideCanned(c);
    return true;
  }
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && options.length) {
    e.preventDefault();
    insertCanned(c, Number(options[c.cannedIndex].dataset.index));
    return true;
  }
  return false;
}
