// The queue of waiting chatters (one-click claim) and the service banner an available advocate
// sees while chatters are being turned away (outside service hours, or the queue is full).

import { $, el, since, fillIntake } from './dom.js';
import { t } from './i18n.js';
import { S, send, queueName } from './state.js';
import { attention, unlockAudio } from './alerts.js';

/** `entries` is the oldest part of the line (Haven lists at most 100); `total` counts all. */
export function onQueue(entries, total) {
  const previous = S.knownQueue;
  S.knownQueue = new Set(entries.map((e) => e.chat_id));
  if (previous && entries.some((e) => !previous.has(e.chat_id))) attention('chatter');
  S.queue = entries;
  S.queueTotal = Math.max(total || 0, entries.length);
  renderQueue();
}

export function queueNotice(text) {
  $('queue-notice').textContent = text;
  $('queue-notice').hidden = !text;
}

export function renderQueue() {
  const ul = $('queue-list');
  // Re-rendering must not steal the keyboard focus from the claim button someone is on.
  const focused = document.activeElement && document.activeElement.dataset.testid === 'claim'
    ? document.activeElement.dataset.chatId : null;
  ul.replaceChildren();
  for (const e of S.queue) {
    const li = el('li', 'queue-entry');
    li.dataset.testid = 'queue-entry';
    li.dataset.chatId = e.chat_id;
    const line = el('p', 'entry-line');
    const waited = el('span', 'waited', since(e.waiting_since));
    waited.dataset.since = String(e.waiting_since);
    waited.dataset.testid = 'waited';
    line.append(el('strong', '', queueName(e.queue)), ' · ', el('span', 'lang', e.language || '—'), ` · ${t('waiting')} `, waited);
    li.append(line);
    if (e.transferred) li.append(el('p', 'tag', t('tag_transferred')));
    const dl = el('dl', 'intake');
    fillIntake(dl, e.intake);
    li.append(dl);
    const claim = el('button', 'btn btn-primary', t('claim'));
    claim.type = 'button';
    claim.dataset.testid = 'claim';
    claim.dataset.chatId = e.chat_id;
    claim.setAttribute('aria-label', t('claim_label', {
      queue: queueName(e.queue), language: e.language || t('no_language'), waited: since(e.waiting_since),
    }));
    claim.addEventListener('click', () => {
      claim.disabled = true;
      S.claiming = e.chat_id;
      queueNotice('');
      unlockAudio();
      if (!send({ type: 'claim', chat_id: e.chat_id })) claim.disabled = false;
    });
    li.append(claim);
    ul.append(li);
  }
  if (focused) {
    const again = ul.querySelector(`[data-testid="claim"][data-chat-id="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
  const more = S.queueTotal - S.queue.length;
  if (more > 0) {
    const li = el('li', 'queue-more muted', t('queue_more', { count: more }));
    li.dataset.testid = 'queue-more';
    ul.append(li);
  }
  $('queue-count').textContent = String(S.queueTotal);
  $('queue-empty').hidden = S.queueTotal > 0;
}

/** Chatters are being turned away: say so to whoever is on duty. */
export function renderServiceBanner() {
  const b = $('service-banner');
  let key = '';
  if (S.available && S.service.open_now === false) key = 'banner_closed';
  else if (S.available && S.service.queue_full) key = 'banner_queue_full';
  b.textContent = key ? t(key) : '';
  b.dataset.reason = key;
  b.hidden = !key;
}
