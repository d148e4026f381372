// Haven advocate console: the entry module. It opens the socket, routes each frame to the
// module that owns it, and boots the page. Plain ES modules, no build step, no dependency.
//
//   state.js    what the console holds (in memory only)     dom.js      DOM helpers
//   i18n.js     the console's words per language           alerts.js   tone, title, notifications
//   session.js  sign in/out, roles without a console        queue.js    queue, service banner
//   chats.js    chat tabs and transcripts                   composer.js sending, typing
//   canned.js   canned responses
//   dialogs.js  transfer / reassign / end dialogs           board.js    the supervisor's board
//   /shared/socket.js  the WebSocket with heartbeat and back-off (shared with the chatter page)

import { Socket } from '/shared/socket.js';
import { $ } from './dom.js';
import { t, setLanguage, preferred, language, LANGUAGES } from './i18n.js';
import { S, send, oversees, canChat } from './state.js';
import { wireAlerts, renderTitle, renderNotifyButton } from './alerts.js';
import { sessionHooks, wireSession, showLogin, showApp, checkSession, enter, noConsole } from './session.js';
import { onQueue, queueNotice, renderQueue, renderServiceBanner } from './queue.js';
import {
  onAssigned, onMessage, onAck, showTyping, setChatState, closeChat, markFailed, chatError,
  resendPending, markRead, forgetChats, translateChat, renderNoChats,
} from './chats.js';
import { forgetTyping } from './composer.js';
import { wireDialogs } from './dialogs.js';
import { onOverview, onAdvocates, renderBoard, onTranscript, wireBoard } from './board.js';

// After a reconnect, chats Haven does not hand back (`assigned`) within this time are marked
// "no longer assigned to you".
const REASSIGN_WAIT_MS = 3000;

function banner(text, withButton) {
  const b = $('conn-banner');
  b.replaceChildren();
  b.hidden = !text;
  if (!text) return;
  b.append(text);
  if (withButton) {
    const btn = document.createElement('button');
    btn.className = 'btn btn-small';
    btn.textContent = t('take_over');
    btn.type = 'button';
    btn.id = 'take-over';
    btn.dataset.testid = 'take-over';
    btn.addEventListener('click', () => {
      S.replaced = false;
      banner('');
      connect();
    });
    b.append(' ', btn);
  }
}

function connect() {
  if (!S.socket) S.socket = new Socket('/ws/console', { onFrame: handle, onDown });
  S.socket.start();
}

/** The socket closed: decide whether to come back, sign in again, or stay down. */
async function onDown(info) {
  for (const c of S.chats.values()) forgetTyping(c);
  if (S.loggingOut) return false;
  if (S.replaced || info.code === 4000) {
    S.replaced = true;
    banner(t('replaced'), true);
    return false;
  }
  if (S.expired || info.code === 4001) {
    banner('');
    showLogin(true);
    return false;
  }
  banner(t('reconnecting'));
  const session = await checkSession();
  if (session === 'out') {
    banner('');
    showLogin(true);
    return false;
  }
  if (session === 'in' && !canChat(S.me.role)) {
    banner('');
    noConsole();
    return false;
  }
  return true;
}

function handle(f) {
  const c = f.chat_id ? S.chats.get(f.chat_id) : null;
  switch (f.type) {
    case 'welcome': onWelcome(f); break;
    case 'status': onStatus(f); break;
    case 'queue': onQueue(f.entries || [], f.total); break;
    case 'advocates': onAdvocates(f.advocates); break;
    case 'assigned': onAssigned(f); break;
    case 'message': if (c) onMessage(c, f, true); break;
    case 'ack': if (c) onAck(c, f); break;
    case 'typing': if (c) showTyping(c, f.on); break;
    case 'chatter_disconnected': setChatState(f.chat_id, 'disconnected'); break;
    case 'chatter_reconnected': setChatState(f.chat_id, 'reconnected'); break;
    case 'chatter_stalled': setChatState(f.chat_id, 'stalled'); break;
    case 'chatter_left': closeChat(f.chat_id, ['timed_out', 'quick_exit'].includes(f.reason) ? f.reason : 'left'); break;
    case 'ended': closeChat(f.chat_id, f.reason); break;
    case 'overview': onOverview(f); break;
    case 'settings': onSettings(f); break;
    case 'transcript': onTranscript(f); break;
    case 'error': onError(f, c); break;
    case 'server_closing': banner(t('server_closing')); break;
    default: break;
  }
}

function onWelcome(f) {
  S.me = f.me;
  S.capacity = f.capacity;
  S.available = !!f.available;
  S.queues = f.queues || [];
  S.canned = f.canned || [];
  S.mayReadTranscripts = !!f.may_read_transcripts;
  banner('');
  showApp();
  $('me-name').textContent = `${f.me.display_name} (${t(`role_${f.me.role}`)})`;
  $('overview-panel').hidden = !oversees(f.me.role);
  $('admin-link').hidden = f.me.role !== 'admin';
  renderStatus();
  renderBoard();
  // After a reconnect the server sends `assigned` again for every chat still ours.
  clearTimeout(S.reassignTimer);
  for (const c of S.chats.values()) if (c.state === 'open') c.awaitingReassign = true;
  S.reassignTimer = setTimeout(() => {
    for (const c of S.chats.values()) {
      if (c.awaitingReassign) {
        c.awaitingReassign = false;
        closeChat(c.id, 'lost');
      }
    }
  }, REASSIGN_WAIT_MS);
  // The tab that was open before the session ended stays the open one.
  const active = S.chats.get(S.active);
  if (active) active.panel.hidden = false;
}

// An admin changed the queues or canned responses: the next transfer dialog and canned list
// use the new ones (an open list is rebuilt when it is opened again).
function onSettings(f) {
  S.queues = f.queues || [];
  S.canned = f.canned || [];
}

function onStatus(f) {
  S.available = !!f.available;
  S.load = f.load;
  S.capacity = f.capacity;
  S.service = { open_now: f.open_now !== false, queue_full: !!f.queue_full };
  renderStatus();
}

function renderStatus() {
  $('available').checked = S.available;
  $('available').setAttribute('aria-checked', String(S.available));
  $('available-label').textContent = S.available ? t('available') : t('away');
  $('load').textContent = t('load', { load: S.load, capacity: S.capacity });
  renderServiceBanner();
}

function onError(f, c) {
  const text = t(`err_${f.code}`) !== `err_${f.code}` ? t(`err_${f.code}`) : f.message || f.code;
  switch (f.code) {
    case 'session_expired':
      S.expired = true;
      break;
    case 'replaced':
      S.replaced = true;
      break;
    case 'already_claimed':
    case 'at_capacity':
      queueNotice(text);
      for (const b of document.querySelectorAll('[data-testid="claim"]')) b.disabled = false;
      break;
    case 'message_too_long':
      if (c) {
        markFailed(c, f.id);
        chatError(c, text);
      }
      break;
    case 'rate_limited':
      if (c) chatError(c, text);
      setTimeout(() => { for (const x of S.chats.values()) resendPending(x); }, 2000);
      break;
    default:
      if (c) chatError(c, text);
      else if (oversees(S.me && S.me.role) && f.chat_id) boardNotice(text);
      else queueNotice(text);
  }
}

function boardNotice(text) {
  $('board-notice').textContent = text;
  $('board-notice').hidden = !text;
}

async function switchLanguage(lang) {
  await setLanguage(lang);
  renderTitle();
  renderNotifyButton();
  if (S.me) $('me-name').textContent = `${S.me.display_name} (${t(`role_${S.me.role}`)})`;
  renderStatus();
  renderQueue();
  renderBoard();
  for (const c of S.chats.values()) translateChat(c);
}

function wireLanguage() {
  const select = $('language');
  for (const [tag, name] of Object.entries(LANGUAGES)) {
    const o = document.createElement('option');
    o.value = tag;
    o.lang = tag;
    o.textContent = name;
    select.append(o);
  }
  select.value = language();
  select.addEventListener('change', () => switchLanguage(select.value));
}

function wire() {
  wireSession();
  wireDialogs();
  wireBoard();
  wireLanguage();
  wireAlerts(() => {
    const c = S.chats.get(S.active);
    if (c) markRead(c);
  });
  $('available').addEventListener('change', (e) => {
    if (!send({ type: 'status', available: e.target.checked })) renderStatus();
  });
}

sessionHooks({
  connect,
  forget() {
    forgetChats();
    S.queue = [];
    S.queueTotal = 0;
    S.knownQueue = null;
    renderQueue();
    renderNoChats();
    banner('');
  },
});

async function boot() {
  await setLanguage(preferred());
  renderTitle();
  wire();
  const session = await checkSession();
  if (session === 'in') enter();
  else showLogin(false);
}

boot();
