// The settings admins edit while Haven runs (/api/admin/settings/*, docs/protocol.md): queues,
// service hours, canned responses and the program's texts, per language. A save replaces the
// whole section and is kept as a version; the history restores one by saving it again. A
// refusal names the field, which is marked and focused.

import { $, api, el } from './common.js';

const TEXT_FIELDS = [
  ['name', 'Program name'],
  ['page_title', 'Browser tab title (keep it neutral)'],
  ['emergency', 'Emergency line'],
  ['hotline_phone', 'Hotline phone number'],
  ['hotline_text', 'Hotline text line'],
  ['offline_note', 'Note when nobody can answer'],
  ['mandated_reporting', 'Mandated reporting'],
];
const LONG_TEXTS = new Set(['emergency', 'hotline_text', 'offline_note', 'mandated_reporting']);
const DIAL_FIELDS = [
  ['emergency_number', 'Number the emergency link dials (digits and +; empty: no link)'],
  ['hotline_sms', 'Number the hotline text link texts (digits and +; empty: no link)'],
  ['hotline_sms_body', 'Message the text link starts with'],
];

let languages = [];
let page = { status: () => {}, changed: () => {} };
let ids = 0;

function languageName(tag) {
  try {
    const name = new Intl.DisplayNames(['en'], { type: 'language' }).of(tag);
    return name && name !== tag ? `${name} (${tag})` : tag;
  } catch {
    return tag;
  }
}

/** A labelled input or textarea; `field` is the name the server uses in a refusal. */
function field(label, value, fieldName, { long = false, testid = '' } = {}) {
  const id = `setting-${++ids}`;
  const input = long ? el('textarea', { id, rows: '3' }) : el('input', { id, type: 'text' });
  input.value = value ?? '';
  input.dataset.field = fieldName;
  if (testid) input.dataset.testid = testid;
  return { row: el('p', {}, el('label', { for: id, text: label }), input), input };
}

export async function loadSettings(hooks) {
  page = hooks;
  const res = await api('GET', '/api/admin/settings');
  if (!res.ok) return;
  languages = res.data.languages;
  const s = res.data.sections;
  renderQueues(s.queues.value);
  renderHours(s.hours.value);
  renderCanned(s.canned.value);
  renderTexts(s.texts.value);
  for (const section of ['queues', 'hours', 'canned', 'texts']) loadHistory(section, s[section].default);
}

// ---- queues ----

function renderQueues(queues) {
  $('queues-list').replaceChildren(...queues.map(queueItem));
}

function queueItem(q, i) {
  const others = languages.slice(1);
  const id = field('Id (letters, digits, - or _; what links and statistics use)', q.id, `queues[${i}].id`);
  id.input.dataset.key = 'id';
  const name = field(`Name in ${languageName(languages[0])}`, q.name, `queues[${i}].name`, { testid: 'queue-name' });
  name.input.dataset.key = 'name';
  const names = others.map((lang) => {
    const f = field(`Name in ${languageName(lang)}`, q.names?.[lang], `queues[${i}].names.${lang}`);
    f.input.dataset.lang = lang;
    return f.row;
  });
  const boxes = el('fieldset', { 'data-field': `queues[${i}].languages`, tabindex: '-1' },
    el('legend', { text: 'Chats in' }),
    ...languages.map((lang) => {
      const box = el('input', { type: 'checkbox', value: lang });
      box.checked = (q.languages || []).includes(lang);
      return el('label', { class: 'check' }, box, languageName(lang));
    }));
  const remove = el('button', { type: 'button', class: 'btn btn-small btn-danger', text: `Remove this queue`,
    onclick: () => {
      const all = collectQueues();
      all.splice(i, 1);
      renderQueues(all);
      $('queue-add').focus();
    } });
  return el('fieldset', { class: 'queue-item', 'data-testid': 'queue-item' },
    el('legend', { text: q.name ? `Queue: ${q.name}` : 'New queue' }),
    id.row, name.row, ...names, boxes, el('p', {}, remove));
}

function collectQueues() {
  return [...$('queues-list').querySelectorAll('.queue-item')].map((item) => ({
    id: item.querySelector('[data-key=id]').value.trim(),
    name: item.querySelector('[data-key=name]').value,
    languages: [...item.querySelectorAll('input[type=checkbox]:checked')].map((b) => b.value),
    names: Object.fromEntries([...item.querySelectorAll('[data-lang]')].map((i) => [i.dataset.lang, i.value])),
  }));
}

$('queue-add').addEventListener('click', () => {
  const all = collectQueues();
  all.push({ id: '', name: '', languages: [...languages], names: {} });
  renderQueues(all);
  $('queues-list').lastElementChild.querySelector('input').focus();
});

// ---- hours ----

function renderHours(hours) {
  $('hours-offset').value = String(hours.utc_offset_minutes);
  $('hours-windows').value = hours.windows.join('\n');
  $('hours-windows').dataset.field = 'hours.windows';
}

function collectHours() {
  return {
    utc_offset_minutes: Number($('hours-offset').value || 0),
    windows: $('hours-windows').value.split('\n').map((w) => w.trim()).filter(Boolean),
  };
}

// ---- canned responses, grouped by language ----

function renderCanned(canned) {
  const groups = [...languages, ''].map((lang) => {
    const mine = canned.filter((c) => (c.language || '') === lang);
    const list = el('div', { class: 'canned-items' }, ...mine.map((c) => cannedItem(c)));
    const title = lang ? `Responses in ${languageName(lang)}` : 'Responses for chats in every language';
    const add = el('button', { type: 'button', class: 'btn btn-small', text: 'Add a response',
      'data-testid': `canned-add-${lang || 'all'}`,
      onclick: () => {
        const item = cannedItem({ title: '', text: '' });
        list.append(item);
        item.querySelector('input').focus();
      } });
    return el('fieldset', { class: 'canned-group', 'data-lang': lang, 'data-testid': `canned-group-${lang || 'all'}` },
      el('legend', { text: title }), list, el('p', {}, add));
  });
  $('canned-groups').replaceChildren(...groups);
}

function cannedItem(c) {
  const title = field('Title', c.title, '', { testid: 'canned-title' });
  title.input.dataset.key = 'title';
  const text = field('Text', c.text, '', { long: true, testid: 'canned-text' });
  text.input.dataset.key = 'text';
  const item = el('div', { class: 'canned-item', 'data-testid': 'canned-item' }, title.row, text.row);
  item.append(el('p', {}, el('button', { type: 'button', class: 'btn btn-small btn-danger', text: 'Remove',
    onclick: () => item.remove() })));
  return item;
}

function collectCanned() {
  const out = [];
  for (const group of $('canned-groups').querySelectorAll('.canned-group')) {
    for (const item of group.querySelectorAll('.canned-item')) {
      const i = out.length;
      // The server names fields by their place in the list sent.
      item.querySelector('[data-key=title]').dataset.field = `canned[${i}].title`;
      item.querySelector('[data-key=text]').dataset.field = `canned[${i}].text`;
      out.push({
        title: item.querySelector('[data-key=title]').value,
        text: item.querySelector('[data-key=text]').value,
        language: group.dataset.lang || null,
      });
    }
  }
  return out;
}

// ---- program texts per language ----

function renderTexts(texts) {
  const dial = el('fieldset', {}, el('legend', { text: 'Links (the same in every language)' }),
    ...DIAL_FIELDS.map(([key, label]) => {
      const f = field(label, texts.dial[key], `texts.dial.${key}`);
      f.input.dataset.dial = key;
      return f.row;
    }));
  const perLanguage = languages.map((lang) => el('fieldset', { class: 'texts-lang', 'data-lang': lang },
    el('legend', { text: languageName(lang) }),
    ...TEXT_FIELDS.map(([key, label]) => {
      const f = field(label, texts.languages[lang]?.[key], `texts.languages.${lang}.${key}`,
        { long: LONG_TEXTS.has(key), testid: `text-${lang}-${key}` });
      f.input.dataset.key = key;
      return f.row;
    })));
  $('texts-groups').replaceChildren(dial, ...perLanguage);
}

function collectTexts() {
  const dial = Object.fromEntries([...$('texts-groups').querySelectorAll('[data-dial]')]
    .map((i) => [i.dataset.dial, i.value.trim()]));
  const byLanguage = {};
  for (const group of $('texts-groups').querySelectorAll('.texts-lang')) {
    byLanguage[group.dataset.lang] = Object.fromEntries([...group.querySelectorAll('[data-key]')]
      .map((i) => [i.dataset.key, i.value]));
  }
  return { dial, languages: byLanguage };
}

// ---- saving, refusals, history ----

const COLLECT = { queues: collectQueues, hours: collectHours, canned: collectCanned, texts: collectTexts };
const LABEL = { queues: 'queues', hours: 'service hours', canned: 'canned responses', texts: 'program texts' };

async function save(section, value) {
  const form = $(`${section}-form`);
  const error = form.querySelector('.error');
  for (const bad of form.querySelectorAll('[aria-invalid=true]')) bad.removeAttribute('aria-invalid');
  error.textContent = '';
  const res = await api('PUT', `/api/admin/settings/${section}`, value);
  if (!res.ok) {
    error.textContent = res.data?.message || 'That did not work.';
    const at = res.data?.field && [...form.querySelectorAll('[data-field]')]
      .find((f) => f.dataset.field === res.data.field || res.data.field.startsWith(`${f.dataset.field}[`));
    if (at) {
      at.setAttribute('aria-invalid', 'true');
      at.focus();
    }
    page.status(`Not saved: ${LABEL[section]}.`);
    return;
  }
  const moved = res.data.moved_waiting ? ` ${res.data.moved_waiting} waiting chatter(s) moved to the first queue.` : '';
  page.status(`Saved ${LABEL[section]} (version ${res.data.version}); in use now.${moved}`);
  page.changed();
  loadSettings(page);
}

for (const section of Object.keys(COLLECT)) {
  $(`${section}-form`).addEventListener('submit', (event) => {
    event.preventDefault();
    save(section, COLLECT[section]());
  });
}

async function loadHistory(section, fileDefault) {
  const box = document.querySelector(`[data-history=${section}]`);
  const res = await api('GET', `/api/admin/settings/${section}`);
  if (!res.ok) return;
  const byId = new Map([...$('staff-rows').querySelectorAll('tr')].map((tr) => [tr.dataset.id, tr.dataset.username]));
  const items = res.data.versions.map((v) => el('li', {},
    `Version ${v.version}, ${new Date(v.saved_at * 1000).toISOString().replace('T', ' ').slice(0, 16)} UTC, by ${byId.get(v.saved_by) || v.saved_by || '—'} `,
    el('button', { type: 'button', class: 'btn btn-small', text: `Restore version ${v.version}`,
      onclick: () => save(section, v.value) })));
  const restoreFile = el('button', { type: 'button', class: 'btn btn-small', text: 'Restore the configuration file\'s values',
    onclick: () => save(section, fileDefault) });
  box.replaceChildren(el('details', {},
    el('summary', { text: `Versions (${res.data.versions.length})` }),
    items.length ? el('ol', { reversed: '' }, ...items) : el('p', { class: 'muted', text: 'None saved yet: the configuration file\'s values are in use.' }),
    el('p', {}, restoreFile)));
}
