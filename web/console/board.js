// The supervisor's board (roles supervisor and admin): every advocate on the console with their
// status and load, each queue with its length and longest wait, and every active chat, which the
// supervisor can end or reassign to another advocate or queue. The hub enforces the role.

import { $, el, since, clock } from './dom.js';
import { t } from './i18n.js';
import { S, send, queueName, oversees } from './state.js';
import { openTransfer, openEnd, fillTargets } from './dialogs.js';

export function onOverview(f) {
  S.overview = { chats: f.chats || [], queues: f.queues || [] };
  renderBoard();
}

export function onAdvocates(list) {
  S.advocates = list || [];
  if ($('transfer-dialog').open) fillTargets();
  renderBoard();
}

function cell(text, cls) {
  return el('td', cls || '', text);
}

function liveCell(ms) {
  const d = cell(since(ms));
  d.dataset.since = String(ms);
  return d;
}

function emptyRow(body, cols, text) {
  const tr = el('tr');
  const td = el('td', 'muted', text);
  td.colSpan = cols;
  tr.append(td);
  body.append(tr);
}

function button(label, testid, aria, onClick, cls) {
  const b = el('button', `btn btn-small${cls ? ` ${cls}` : ''}`, label);
  b.type = 'button';
  b.dataset.testid = testid;
  b.setAttribute('aria-label', aria);
  b.addEventListener('click', onClick);
  return b;
}

export function renderBoard() {
  if (!S.me || !oversees(S.me.role)) return;
  const qs = $('overview-queues');
  qs.replaceChildren();
  for (const q of S.overview.queues) {
    const li = el('li', '', t('queue_waiting', { name: queueName(q.id), n: q.waiting }));
    if (q.longest_waiting_since) {
      const w = el('span', '', since(q.longest_waiting_since));
      w.dataset.since = String(q.longest_waiting_since);
      li.append(` · ${t('longest_wait')} `, w);
    }
    qs.append(li);
  }

  const adv = $('board-advocates');
  adv.replaceChildren();
  for (const a of S.advocates) {
    const tr = el('tr');
    tr.dataset.testid = 'board-advocate';
    const status = !a.connected ? t('adv_offline') : a.available ? t('adv_available') : t('adv_away');
    tr.append(cell(a.display_name), cell(status), cell(t('load_short', { load: a.load, capacity: a.capacity })));
    adv.append(tr);
  }
  if (!S.advocates.length) emptyRow(adv, 3, t('board_no_advocates'));

  const body = $('overview-chats');
  body.replaceChildren();
  for (const c of S.overview.chats) {
    const tr = el('tr');
    tr.dataset.chatId = c.chat_id;
    const actions = el('td', 'board-actions');
    const name = `${c.advocate} · ${queueName(c.queue)}`;
    if (S.mayReadTranscripts) {
      actions.append(button(t('read'), 'board-read', t('read_label', { chat: name }), () => askTranscript(c.chat_id)), ' ');
    }
    actions.append(
      button(t('reassign'), 'board-reassign', t('reassign_label', { chat: name }), () => openTransfer(c.chat_id, 'reassign')),
      ' ',
      button(t('end'), 'board-end', t('end_label', { chat: name }), () => openEnd(c.chat_id), 'btn-danger'),
    );
    tr.append(cell(c.advocate), cell(queueName(c.queue)), cell(c.language || '—'), liveCell(c.since), actions);
    body.append(tr);
  }
  if (!S.overview.chats.length) emptyRow(body, 5, t('board_no_chats'));
}

// Reading a chat in progress (only when the program allows it; the hub checks and logs it).
let reading = null;

function askTranscript(chatId) {
  reading = chatId;
  send({ type: 'read_transcript', chat_id: chatId });
}

function who(from) {
  if (from === 'chatter') return t('who_chatter');
  if (from === 'system') return t('who_system');
  return t('who_advocate');
}

/** `transcript`: shows the chat's lines so far in a read-only dialog. */
export function onTranscript(f) {
  if (f.chat_id !== reading) return;
  $('read-title').textContent = t('read_title', { advocate: f.advocate || '—' });
  const log = $('read-log');
  log.replaceChildren();
  for (const m of f.history || []) {
    const li = el('li', `msg msg-${m.from}`);
    const meta = el('div', 'meta');
    meta.append(el('span', 'who', who(m.from)), ` ${clock(m.at)}`);
    li.append(meta, el('p', 'text', m.text));
    log.append(li);
  }
  const dialog = $('read-dialog');
  if (!dialog.open) dialog.showModal();
  log.lastElementChild?.scrollIntoView({ block: 'end' });
}

export function wireBoard() {
  $('read-refresh').addEventListener('click', () => { if (reading) askTranscript(reading); });
  $('read-close').addEventListener('click', () => $('read-dialog').close());
  $('read-dialog').addEventListener('close', () => { reading = null; });
}
