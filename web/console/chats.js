// The advocate's chats as tabs: transcript (always in `seq` order, whatever order lines arrive
// in after a reconnect), delivery state, typing both ways, and what happened to the chatter.
// A closed chat keeps its transcript and draft (read-only) until its tab is closed.

import { $, el, clock, fillIntake } from './dom.js';
import { t } from './i18n.js';
import { S, send, queueName } from './state.js';
import { attention } from './alerts.js';
import { queueNotice } from './queue.js';
import { hideCanned, toggleCanned } from './canned.js';
import { sendMessage, onComposerInput, onComposerKey, stopTyping } from './composer.js';
import { openTransfer, openEnd, closeDialogsFor } from './dialogs.js';

const THEIR_TYPING_MS = 15000;

// Chat state → string key. `quick_exit` is a warning, not an ordinary end.
const CHAT_STATES = {
  connected: '',
  reconnected: 'state_reconnected',
  disconnected: 'state_disconnected',
  stalled: 'state_stalled',
  left: 'state_left',
  quick_exit: 'state_quick_exit',
  timed_out: 'state_timed_out',
  ended_by_you: 'state_ended_by_you',
  ended_by_supervisor: 'state_ended_by_supervisor',
  transferred: 'state_transferred',
  reassigned: 'state_reassigned',
  server_closing: 'state_server_closing',
  lost: 'state_lost',
};

let panelSeq = 0;

function createChat(f) {
  panelSeq += 1;
  const n = S.nextN++;
  const frag = $('chat-template').content.cloneNode(true);
  const panel = frag.querySelector('.chat');
  panel.id = `chat-panel-${panelSeq}`;
  panel.dataset.chatId = f.chat_id;
  panel.dataset.testid = 'chat-panel';
  panel.hidden = true;
  const tab = el('button', 'tab');
  tab.type = 'button';
  tab.id = `chat-tab-${panelSeq}`;
  tab.setAttribute('role', 'tab');
  tab.setAttribute('aria-controls', panel.id);
  tab.setAttribute('aria-selected', 'false');
  tab.tabIndex = -1;
  tab.dataset.chatId = f.chat_id;
  tab.dataset.testid = 'chat-tab';
  panel.setAttribute('aria-labelledby', tab.id);
  const c = {
    id: f.chat_id,
    n,
    queue: f.queue,
    language: f.language,
    state: 'open',
    chatter: 'connected',
    stateKey: 'connected',
    seen: new Set(),
    pending: new Map(),
    unread: 0,
    typingOn: false,
    typingTimer: 0,
    theirTypingTimer: 0,
    cannedIndex: 0,
    awaitingReassign: false,
    transfer: null,
    tab,
    panel,
    log: panel.querySelector('.log'),
    typing: panel.querySelector('.typing'),
    stateEl: panel.querySelector('.chat-state'),
    error: panel.querySelector('.chat-error'),
    form: panel.querySelector('.composer'),
    box: panel.querySelector('textarea'),
    list: panel.querySelector('.canned-list'),
  };
  c.box.id = `composer-${panelSeq}`;
  c.box.setAttribute('aria-controls', `canned-${panelSeq}`);
  c.list.id = `canned-${panelSeq}`;
  panel.querySelector('.composer-label').htmlFor = c.box.id;
  tab.addEventListener('click', () => activate(c.id, false));
  tab.addEventListener('keydown', onTabKey);
  c.form.addEventListener('submit', (e) => { e.preventDefault(); sendMessage(c); });
  c.box.addEventListener('input', () => { onComposerInput(c); });
  c.box.addEventListener('keydown', (e) => onComposerKey(c, e));
  c.box.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== c.box) hideCanned(c); }, 150));
  panel.querySelector('[data-action="canned"]').addEventListener('click', () => toggleCanned(c));
  panel.querySelector('[data-action="transfer"]').addEventListener('click', () => openTransfer(c.id, 'transfer'));
  panel.querySelector('[data-action="end"]').addEventListener('click', () => openEnd(c.id));
  panel.querySelector('[data-action="close"]').addEventListener('click', () => removeChat(c));
  $('chat-tabs').append(tab);
  $('chat-panels').append(panel);
  S.chats.set(c.id, c);
  translateChat(c);
  renderNoChats();
  return c;
}

/** Re-renders a chat's own words (after a language switch). */
export function translateChat(c) {
  c.list.setAttribute('aria-label', t('canned_title'));
  for (const e of c.panel.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  renderTransferNote(c);
  setChatState(c.id, c.stateKey);
  for (const li of c.log.querySelectorAll('.msg')) {
    li.querySelector('.who').textContent = who(li.dataset.from, li.classList.contains('mine'));
    if (li.dataset.state) setDelivery(li, li.dataset.state);
  }
}

export function renderNoChats() {
  $('no-chats').hidden = S.chats.size > 0;
}

export function renderTab(c) {
  const state = c.state !== 'open' ? ` — ${t('tab_closed')}` : c.chatter === 'disconnected' ? ` — ${t('tab_reconnecting')}` : '';
  const label = t('chat_n', { n: c.n });
  c.tab.replaceChildren(`${label} · ${c.language || '—'}${state}`);
  if (c.unread) {
    const b = el('span', 'badge', String(c.unread));
    b.dataset.testid = 'unread';
    b.setAttribute('aria-label', t('unread', { n: c.unread }));
    c.tab.append(' ', b);
  }
  c.tab.title = c.unread ? `${label} (${c.unread})` : label;
  c.tab.classList.toggle('closed', c.state !== 'open');
  c.tab.classList.toggle('warning', c.stateKey === 'quick_exit');
  c.panel.querySelector('.chat-info').textContent = `${label} · ${queueName(c.queue)} · ${c.language || t('no_language')}`;
}

export function activate(id, focusComposer) {
  for (const c of S.chats.values()) {
    const on = c.id === id;
    c.panel.hidden = !on;
    c.tab.setAttribute('aria-selected', String(on));
    c.tab.tabIndex = on ? 0 : -1;
    c.tab.classList.toggle('active', on);
  }
  S.active = id;
  const c = S.chats.get(id);
  if (!c) return;
  markRead(c);
  c.log.lastElementChild?.scrollIntoView({ block: 'end' });
  if (focusComposer && !c.box.readOnly) c.box.focus();
}

function onTabKey(e) {
  const tabs = [...$('chat-tabs').querySelectorAll('[role="tab"]')];
  const i = tabs.indexOf(e.currentTarget);
  let next = -1;
  if (e.key === 'ArrowRight') next = (i + 1) % tabs.length;
  else if (e.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length;
  else if (e.key === 'Home') next = 0;
  else if (e.key === 'End') next = tabs.length - 1;
  if (next < 0) return;
  e.preventDefault();
  activate(tabs[next].dataset.chatId, false);
  tabs[next].focus();
}

export function markRead(c) {
  if (!c.unread) return;
  c.unread = 0;
  renderTab(c);
}

function renderTransferNote(c) {
  const note = c.panel.querySelector('.transfer-note');
  const f = c.transfer;
  if (!f) return;
  note.textContent = f.note ? t('transfer_from_note', { from: f.from, note: f.note }) : t('transfer_from', { from: f.from });
  note.hidden = false;
}

export function onAssigned(f) {
  let c = S.chats.get(f.chat_id);
  const isNew = !c;
  if (!c) c = createChat(f);
  c.awaitingReassign = false;
  const claimed = S.claiming === c.id;
  if (claimed) S.claiming = null;
  c.queue = f.queue;
  c.language = f.language;
  if (c.state !== 'open') {
    // Back to us (claimed again, transferred back): the composer opens again with the draft.
    c.state = 'open';
    setClosedUi(c, false);
  }
  fillIntake(c.panel.querySelector('.intake'), f.intake);
  if (f.transfer) {
    c.transfer = f.transfer;
    renderTransferNote(c);
  }
  for (const m of f.history || []) onMessage(c, m, false);
  resendPending(c);
  setChatState(c.id, f.chatter_connected === false ? 'disconnected' : 'connected');
  renderTab(c);
  if (isNew) {
    queueNotice('');
    attention('chatter');
    const current = S.chats.get(S.active);
    // A chat the advocate just claimed opens; an auto-assigned one waits in its tab unless
    // nothing else is open.
    if (claimed || !current || current.state !== 'open') activate(c.id, true);
  }
}

function who(from, mine) {
  if (from === 'chatter') return t('who_chatter');
  if (from === 'system') return t('who_system');
  return mine ? t('who_you') : t('who_advocate');
}

/** Inserts a line at its place by `seq`; lines not yet stored (no seq) stay last. */
export function addLine(c, from, text, at, seq, mine) {
  const li = el('li', `msg msg-${from}${mine ? ' mine' : ''}`);
  li.dataset.from = from;
  li.dataset.testid = 'message';
  if (seq) li.dataset.seq = String(seq);
  const meta = el('div', 'meta');
  const time = el('time', '', clock(at));
  time.dateTime = new Date(at || Date.now()).toISOString();
  meta.append(el('span', 'who', who(from, mine)), ' ', time);
  li.append(meta, el('p', 'text', text));
  const nearBottom = c.log.scrollHeight - c.log.scrollTop - c.log.clientHeight < 80;
  placeBySeq(c, li, seq);
  if (nearBottom || mine) li.scrollIntoView({ block: 'nearest' });
  return li;
}

function placeBySeq(c, li, seq) {
  if (!seq) {
    c.log.append(li);
    return;
  }
  for (const other of c.log.children) {
    if (other === li) continue;
    const s = Number(other.dataset.seq || 0);
    if (!s || s > seq) {
      c.log.insertBefore(li, other);
      return;
    }
  }
  c.log.append(li);
}

export function setDelivery(li, state) {
  let s = li.querySelector('.state');
  if (!s) {
    s = el('span', 'state');
    s.dataset.testid = 'delivery';
    li.append(s);
  }
  li.dataset.state = state;
  s.textContent = state === 'sending' ? t('sending') : state === 'sent' ? t('sent') : t('not_sent');
}

function stored(c, li, seq) {
  li.dataset.seq = String(seq);
  setDelivery(li, 'sent');
  placeBySeq(c, li, seq);
}

export function onMessage(c, m, live) {
  if (typeof m.seq === 'number') {
    if (c.seen.has(m.seq)) return;
    c.seen.add(m.seq);
  }
  if (m.from === 'advocate') {
    for (const [id, p] of c.pending) {
      if (!p.seq && p.text === m.text) {
        p.seq = m.seq;
        stored(c, p.li, m.seq);
        c.pending.delete(id);
        return;
      }
    }
  }
  addLine(c, m.from, m.text, m.at, m.seq, false);
  if (m.from === 'chatter') {
    showTyping(c, false);
    if (live) {
      if (S.active !== c.id) {
        c.unread += 1;
        renderTab(c);
      }
      attention('message');
    }
  }
}

export function onAck(c, f) {
  if (typeof f.seq === 'number') c.seen.add(f.seq);
  const p = c.pending.get(f.id);
  if (!p) return;
  c.pending.delete(f.id);
  p.seq = f.seq;
  stored(c, p.li, f.seq);
}

export function markFailed(c, id) {
  const p = id && c.pending.get(id);
  if (!p) return;
  c.pending.delete(id);
  setDelivery(p.li, 'failed');
}

export function resendPending(c) {
  if (c.state !== 'open') return;
  for (const [id, p] of c.pending) send({ type: 'message', chat_id: c.id, id, text: p.text });
}

export function chatError(c, text) {
  c.error.textContent = text || '';
  c.error.hidden = !text;
}

export function showTyping(c, on) {
  clearTimeout(c.theirTypingTimer);
  c.typing.hidden = !on;
  if (on) c.theirTypingTimer = setTimeout(() => { c.typing.hidden = true; }, THEIR_TYPING_MS);
}

export function setChatState(id, state) {
  const c = S.chats.get(id);
  if (!c) return;
  if (state === 'disconnected' || state === 'connected' || state === 'reconnected') {
    c.chatter = state === 'disconnected' ? 'disconnected' : 'connected';
    if (state === 'disconnected') showTyping(c, false);
  }
  c.stateKey = state;
  const key = CHAT_STATES[state];
  c.stateEl.textContent = key ? t(key) : '';
  c.stateEl.classList.toggle('warning', state === 'quick_exit');
  c.panel.dataset.state = state;
  renderTab(c);
}

export function closeChat(id, reason) {
  const c = S.chats.get(id);
  if (!c) return;
  c.state = 'closed';
  stopTyping(c);
  showTyping(c, false);
  setChatState(id, reason in CHAT_STATES ? reason : 'left');
  setClosedUi(c, true);
  closeDialogsFor(c.id);
  renderTab(c);
}

function setClosedUi(c, closed) {
  // Read-only rather than disabled: a draft stays selectable and copyable.
  c.box.readOnly = closed;
  c.form.querySelector('[type="submit"]').disabled = closed;
  for (const a of ['canned', 'transfer', 'end']) c.panel.querySelector(`[data-action="${a}"]`).hidden = closed;
  c.panel.querySelector('[data-action="close"]').hidden = !closed;
  if (closed) hideCanned(c);
}

function removeChat(c) {
  const tabs = [...S.chats.keys()];
  const i = tabs.indexOf(c.id);
  c.tab.remove();
  c.panel.remove();
  S.chats.delete(c.id);
  if (S.active === c.id) {
    S.active = null;
    const next = tabs[i + 1] || tabs[i - 1];
    if (next && S.chats.has(next)) {
      activate(next, false);
      S.chats.get(next).tab.focus();
    }
  }
  renderNoChats();
}

/** Drops every chat (another person signed in, or logout). */
export function forgetChats() {
  for (const c of S.chats.values()) {
    c.tab.remove();
    c.panel.remove();
  }
  S.chats.clear();
  S.active = null;
  renderNoChats();
}
