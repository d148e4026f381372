// The transfer dialog (an advocate's own chat) which is also the supervisor's reassign dialog
// (any chat), and the end-chat confirmation.

import { $, el } from './dom.js';
import { t } from './i18n.js';
import { S, send } from './state.js';
import { chatError } from './chats.js';

export function fillTargets() {
  const chat = S.chats.get(S.dialogChat) || S.overview.chats.find((x) => x.chat_id === S.dialogChat);
  const current = chat ? chat.queue : null;
  const owner = chat && chat.advocate_id;
  const select = $('transfer-target');
  const keep = select.value;
  select.replaceChildren();
  const people = el('optgroup');
  people.label = t('advocates');
  for (const a of S.advocates) {
    if (S.dialogMode === 'transfer' && S.me && a.id === S.me.id) continue;
    if (a.id === owner) continue;
    const full = a.load >= a.capacity;
    const state = a.available ? (full ? t('adv_full') : t('adv_available')) : t('adv_away');
    const o = el('option', '', `${a.display_name} — ${state}, ${t('load_short', { load: a.load, capacity: a.capacity })}`);
    o.value = `a:${a.id}`;
    o.disabled = !a.available || full;
    people.append(o);
  }
  if (!people.children.length) {
    const o = el('option', '', t('no_other_advocate'));
    o.disabled = true;
    o.value = '';
    people.append(o);
  }
  const queues = el('optgroup');
  queues.label = t('queues');
  for (const q of S.queues) {
    const o = el('option', '', q.id === current ? t('current_queue', { name: q.name }) : q.name);
    o.value = `q:${q.id}`;
    queues.append(o);
  }
  select.append(people, queues);
  if (keep && [...select.options].some((o) => o.value === keep && !o.disabled)) select.value = keep;
  else {
    const first = [...select.options].find((o) => !o.disabled);
    if (first) select.value = first.value;
  }
}

/** `mode` is 'transfer' (own chat, with a note) or 'reassign' (a supervisor, any chat). */
export function openTransfer(chatId, mode) {
  S.dialogChat = chatId;
  S.dialogMode = mode;
  $('transfer-title').textContent = mode === 'reassign' ? t('reassign_title') : t('transfer_title');
  $('transfer-confirm').textContent = mode === 'reassign' ? t('reassign') : t('transfer');
  $('transfer-note-row').hidden = mode === 'reassign';
  $('transfer-error').hidden = true;
  $('transfer-note').value = '';
  $('transfer-target').value = '';
  fillTargets();
  $('transfer-dialog').showModal();
  $('transfer-target').focus();
}

function submitTransfer(e) {
  e.preventDefault();
  const v = $('transfer-target').value;
  if (!S.dialogChat || !v) {
    $('transfer-error').textContent = t('choose_target');
    $('transfer-error').hidden = false;
    return;
  }
  const frame = { type: S.dialogMode, chat_id: S.dialogChat };
  if (v.startsWith('a:')) frame.to_advocate = v.slice(2);
  else frame.to_queue = v.slice(2);
  const note = $('transfer-note').value.trim();
  if (note && S.dialogMode === 'transfer') frame.note = note;
  if (!send(frame)) {
    $('transfer-error').textContent = t('reconnecting');
    $('transfer-error').hidden = false;
    return;
  }
  const c = S.chats.get(S.dialogChat);
  if (c) chatError(c, '');
  $('transfer-dialog').close();
}

export function openEnd(chatId) {
  S.dialogChat = chatId;
  $('end-dialog').showModal();
  $('end-cancel').focus();
}

function submitEnd(e) {
  e.preventDefault();
  $('end-dialog').close();
  const c = S.chats.get(S.dialogChat);
  if (c && c.state !== 'open') return;
  if (S.dialogChat) send({ type: 'end', chat_id: S.dialogChat });
}

export function closeDialogsFor(chatId) {
  if (S.dialogChat !== chatId) return;
  if ($('transfer-dialog').open) $('transfer-dialog').close();
  if ($('end-dialog').open) $('end-dialog').close();
}

export function wireDialogs() {
  $('transfer-form').addEventListener('submit', submitTransfer);
  $('transfer-cancel').addEventListener('click', () => $('transfer-dialog').close());
  $('end-form').addEventListener('submit', submitEnd);
  $('end-cancel').addEventListener('click', () => $('end-dialog').close());
  for (const d of ['transfer-dialog', 'end-dialog']) {
    $(d).addEventListener('close', () => {
      const c = S.chats.get(S.dialogChat);
      if (c && !c.box.readOnly) c.box.focus();
    });
  }
}
