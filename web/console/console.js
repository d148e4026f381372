// Haven advocate console. Plain module, no dependencies. Everything (chats, drafts) lives in
// memory only; the staff session is the HttpOnly cookie set by POST /api/staff/login.

const REASSIGN_WAIT_MS = 3000;
const TYPING_IDLE_MS = 3000;
const PING_EVERY_MS = 20000;
const BASE_TITLE = document.title;

const $ = (id) => document.getElementById(id);

const TEXT = {
  invalid_credentials: 'Wrong user name or password.',
  too_many_attempts: 'Too many failed sign-ins for this user name. Wait a minute, then try again.',
  invalid_request: 'Enter your user name and password.',
  forbidden: 'This account may not use the console.',
  network: 'Haven cannot be reached. Check the connection and try again.',
  missing: 'Enter your user name and password.',
  already_claimed: 'Another advocate took this chat.',
  at_capacity: 'You already have as many chats as you can take. End or transfer one first.',
  target_unavailable: 'That advocate is not available or has no room. Choose someone else or a queue.',
  invalid_transfer: 'Choose one advocate or one queue (not yourself).',
  chat_not_found: 'This chat is no longer yours.',
  chat_closed: 'This chat has ended.',
  message_too_long: 'That message is too long.',
  rate_limited: 'Sending too fast; the message will be retried.',
  replaced: 'The console was opened in another window or tab, so this one stopped.',
  reconnecting: 'Connection to Haven lost. Reconnecting…',
  server_closing: 'Haven is restarting. Reconnecting…',
};

const S = {
  me: null,
  ws: null,
  available: false,
  load: 0,
  capacity: 0,
  queues: [],
  canned: [],
  advocates: [],
  queue: [],
  knownQueue: null,
  chats: new Map(),
  active: null,
  nextN: 1,
  sent: 0,
  unseen: 0,
  audio: null,
  loggingOut: false,
  replaced: false,
  expired: false,
  attempt: 0,
  reconnectTimer: 0,
  reassignTimer: 0,
  dialogChat: null,
  claiming: null,
};

// ---------------------------------------------------------------- helpers

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function since(ms) {
  const s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function clock(at) {
  return new Date(at || Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function queueName(id) {
  const q = S.queues.find((x) => x.id === id);
  return q ? q.name : id;
}

function humanKey(k) {
  const s = String(k).replace(/[_-]+/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function fillIntake(dl, intake) {
  dl.replaceChildren();
  const entries = intake && typeof intake === 'object' ? Object.entries(intake) : [];
  for (const [k, v] of entries) dl.append(el('dt', '', humanKey(k)), el('dd', '', String(v)));
  dl.hidden = entries.length === 0;
}

function newId() {
  const b = new Uint8Array(6);
  crypto.getRandomValues(b);
  S.sent += 1;
  return `a-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}-${S.sent}`;
}

function send(frame) {
  if (S.ws && S.ws.readyState === WebSocket.OPEN) {
    S.ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function banner(text, withButton) {
  const b = $('conn-banner');
  b.replaceChildren();
  b.hidden = !text;
  if (!text) return;
  b.append(text);
  if (withButton) {
    const btn = el('button', 'btn btn-small', 'Use the console here');
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

// ---------------------------------------------------------------- attention: sound + title

function unlockAudio() {
  if (S.audio) return;
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try { S.audio = new Ctx(); } catch (_) { S.audio = null; }
}

function beep() {
  if (!$('sound').checked || !S.audio) return;
  try {
    const ctx = S.audio;
    if (ctx.state === 'suspended') ctx.resume();
    const now = ctx.currentTime;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(880, now);
    osc.frequency.setValueAtTime(660, now + 0.12);
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.3);
    osc.connect(gain).connect(ctx.destination);
    osc.start(now);
    osc.stop(now + 0.32);
  } catch (_) { /* sound is a nicety */ }
}

function attention() {
  if (!document.hidden) return;
  S.unseen += 1;
  renderTitle();
  beep();
}

function renderTitle() {
  document.title = S.unseen ? `(${S.unseen}) ${BASE_TITLE}` : BASE_TITLE;
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) {
    S.unseen = 0;
    renderTitle();
    const c = S.chats.get(S.active);
    if (c) markRead(c);
  }
});

// ---------------------------------------------------------------- login / session

function showLogin(expired) {
  $('login-view').hidden = false;
  $('app-view').hidden = true;
  $('me-bar').hidden = true;
  $('login-expired').hidden = !expired;
  $('login-error').hidden = true;
  $('password').value = '';
  if (S.me && expired) $('username').value = S.me.username;
  ($('username').value ? $('password') : $('username')).focus();
}

function showApp() {
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('me-bar').hidden = false;
}

function loginError(text) {
  const p = $('login-error');
  p.textContent = text;
  p.hidden = false;
}

async function login(e) {
  e.preventDefault();
  unlockAudio();
  const username = $('username').value.trim();
  const password = $('password').value;
  if (!username || !password) {
    loginError(TEXT.missing);
    return;
  }
  $('login-submit').disabled = true;
  try {
    const res = await fetch('/api/staff/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
      credentials: 'same-origin',
    });
    if (!res.ok) {
      let body = {};
      try { body = await res.json(); } catch (_) { /* not JSON */ }
      loginError(TEXT[body.code] || body.message || `Sign-in failed (${res.status}).`);
      $('password').select();
      return;
    }
    const me = await res.json();
    if (S.me && S.me.id !== me.id) forgetEverything();
    S.me = me;
    $('password').value = '';
    S.expired = false;
    S.replaced = false;
    connect();
  } catch (_) {
    loginError(TEXT.network);
  } finally {
    $('login-submit').disabled = false;
  }
}

async function logout() {
  S.loggingOut = true;
  try {
    await fetch('/api/staff/logout', { method: 'POST', credentials: 'same-origin' });
  } catch (_) { /* the local state goes anyway */ }
  closeSocket();
  forgetEverything();
  S.me = null;
  S.loggingOut = false;
  $('username').value = '';
  showLogin(false);
}

function forgetEverything() {
  for (const c of S.chats.values()) {
    c.tab.remove();
    c.panel.remove();
  }
  S.chats.clear();
  S.active = null;
  S.queue = [];
  S.knownQueue = null;
  renderQueue();
  renderNoChats();
  banner('');
}

async function checkSession() {
  try {
    const res = await fetch('/api/staff/me', { credentials: 'same-origin', cache: 'no-store' });
    if (res.status === 401) return 'out';
    if (!res.ok) return 'unknown';
    S.me = await res.json();
    return 'in';
  } catch (_) {
    return 'unknown';
  }
}

// ---------------------------------------------------------------- socket

function closeSocket() {
  clearTimeout(S.reconnectTimer);
  if (S.ws) {
    const ws = S.ws;
    S.ws = null;
    ws.onclose = null;
    ws.onmessage = null;
    try { ws.close(); } catch (_) { /* */ }
  }
}

function connect() {
  closeSocket();
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/ws/console`);
  S.ws = ws;
  ws.onmessage = (e) => {
    let f;
    try { f = JSON.parse(e.data); } catch (_) { return; }
    handle(f);
  };
  ws.onclose = async (e) => {
    if (S.ws !== ws) return;
    S.ws = null;
    for (const c of S.chats.values()) stopTyping(c);
    if (S.loggingOut) return;
    if (S.replaced || e.code === 4000) {
      S.replaced = true;
      banner(TEXT.replaced, true);
      return;
    }
    if (S.expired || e.code === 4001) {
      banner('');
      showLogin(true);
      return;
    }
    banner(TEXT.reconnecting);
    const session = await checkSession();
    if (session === 'out') {
      banner('');
      showLogin(true);
      return;
    }
    const delay = Math.min(10000, 500 * 2 ** S.attempt);
    S.attempt += 1;
    S.reconnectTimer = setTimeout(connect, delay);
  };
}

setInterval(() => send({ type: 'ping' }), PING_EVERY_MS);

// ---------------------------------------------------------------- frames

function handle(f) {
  switch (f.type) {
    case 'welcome': onWelcome(f); break;
    case 'status': onStatus(f); break;
    case 'queue': onQueue(f.entries || []); break;
    case 'advocates': S.advocates = f.advocates || []; if ($('transfer-dialog').open) fillTargets(); break;
    case 'assigned': onAssigned(f); break;
    case 'message': { const c = S.chats.get(f.chat_id); if (c) onMessage(c, f, true); break; }
    case 'ack': { const c = S.chats.get(f.chat_id); if (c) onAck(c, f); break; }
    case 'typing': { const c = S.chats.get(f.chat_id); if (c) showTyping(c, f.on); break; }
    case 'chatter_disconnected': setChatState(f.chat_id, 'disconnected'); break;
    case 'chatter_reconnected': setChatState(f.chat_id, 'reconnected'); break;
    case 'chatter_left': closeChat(f.chat_id, f.reason === 'timed_out' ? 'timed_out' : 'left'); break;
    case 'ended': closeChat(f.chat_id, f.reason); break;
    case 'overview': onOverview(f); break;
    case 'error': onError(f); break;
    case 'server_closing': banner(TEXT.server_closing); break;
    default: break;
  }
}

function onWelcome(f) {
  S.me = f.me;
  S.attempt = 0;
  S.capacity = f.capacity;
  S.available = !!f.available;
  S.queues = f.queues || [];
  S.canned = f.canned || [];
  banner('');
  showApp();
  $('me-name').textContent = `${f.me.display_name} (${f.me.role})`;
  $('overview-panel').hidden = !['supervisor', 'admin'].includes(f.me.role);
  renderStatus();
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
}

function onStatus(f) {
  S.available = !!f.available;
  S.load = f.load;
  S.capacity = f.capacity;
  renderStatus();
}

function renderStatus() {
  $('available').checked = S.available;
  $('available').setAttribute('aria-checked', String(S.available));
  $('available-label').textContent = S.available ? 'Available' : 'Away';
  $('load').textContent = `Chats: ${S.load} of ${S.capacity}`;
}

function onQueue(entries) {
  const previous = S.knownQueue;
  S.knownQueue = new Set(entries.map((e) => e.chat_id));
  if (previous && entries.some((e) => !previous.has(e.chat_id))) attention();
  S.queue = entries;
  renderQueue();
}

function renderQueue() {
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
    line.append(el('strong', '', queueName(e.queue)), ' · ', el('span', 'lang', e.language || '—'), ' · waiting ', waited);
    li.append(line);
    if (e.transferred) li.append(el('p', 'tag', 'Transferred'));
    const dl = el('dl', 'intake');
    fillIntake(dl, e.intake);
    li.append(dl);
    const claim = el('button', 'btn btn-primary', 'Claim');
    claim.type = 'button';
    claim.dataset.testid = 'claim';
    claim.dataset.chatId = e.chat_id;
    claim.setAttribute('aria-label', `Claim chat in ${queueName(e.queue)}, ${e.language || 'no language'}, waiting ${since(e.waiting_since)}`);
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
  $('queue-count').textContent = String(S.queue.length);
  $('queue-empty').hidden = S.queue.length > 0;
}

function queueNotice(text) {
  $('queue-notice').textContent = text;
  $('queue-notice').hidden = !text;
}

setInterval(() => {
  for (const w of document.querySelectorAll('[data-since]')) w.textContent = since(Number(w.dataset.since));
}, 1000);

function onOverview(f) {
  const qs = $('overview-queues');
  qs.replaceChildren();
  for (const q of f.queues || []) qs.append(el('li', '', `${queueName(q.id)}: ${q.waiting} waiting`));
  const body = $('overview-chats');
  body.replaceChildren();
  for (const c of f.chats || []) {
    const tr = el('tr');
    const d = el('td', '', since(c.since));
    d.dataset.since = String(c.since);
    tr.append(el('td', '', c.advocate), el('td', '', queueName(c.queue)), d);
    body.append(tr);
  }
  if (!(f.chats || []).length) {
    const tr = el('tr');
    const td = el('td', 'muted', 'No active chats.');
    td.colSpan = 3;
    tr.append(td);
    body.append(tr);
  }
}

function onError(f) {
  const c = f.chat_id ? S.chats.get(f.chat_id) : null;
  switch (f.code) {
    case 'session_expired':
      S.expired = true;
      break;
    case 'replaced':
      S.replaced = true;
      break;
    case 'already_claimed':
    case 'at_capacity':
      queueNotice(TEXT[f.code]);
      for (const b of document.querySelectorAll('[data-testid="claim"]')) b.disabled = false;
      break;
    case 'message_too_long':
      if (c) {
        markFailed(c, f.id);
        chatError(c, TEXT.message_too_long);
      }
      break;
    case 'rate_limited':
      if (c) chatError(c, TEXT.rate_limited);
      setTimeout(() => { for (const x of S.chats.values()) resendPending(x); }, 2000);
      break;
    default:
      if (c) chatError(c, TEXT[f.code] || f.message || f.code);
      else queueNotice(TEXT[f.code] || f.message || f.code);
  }
}

// ---------------------------------------------------------------- chats

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
    seen: new Set(),
    pending: new Map(),
    unread: 0,
    typingOn: false,
    typingTimer: 0,
    theirTypingTimer: 0,
    cannedIndex: 0,
    awaitingReassign: false,
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
  c.list.setAttribute('aria-label', 'Canned responses');
  panel.querySelector('.composer-label').htmlFor = c.box.id;
  tab.addEventListener('click', () => activate(c.id, false));
  tab.addEventListener('keydown', onTabKey);
  c.form.addEventListener('submit', (e) => { e.preventDefault(); sendMessage(c); });
  c.box.addEventListener('input', () => { onComposerInput(c); });
  c.box.addEventListener('keydown', (e) => onComposerKey(c, e));
  c.box.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== c.box) hideCanned(c); }, 150));
  panel.querySelector('[data-action="canned"]').addEventListener('click', () => toggleCanned(c));
  panel.querySelector('[data-action="transfer"]').addEventListener('click', () => openTransfer(c));
  panel.querySelector('[data-action="end"]').addEventListener('click', () => openEnd(c));
  panel.querySelector('[data-action="close"]').addEventListener('click', () => removeChat(c));
  $('chat-tabs').append(tab);
  $('chat-panels').append(panel);
  S.chats.set(c.id, c);
  renderNoChats();
  return c;
}

function renderNoChats() {
  $('no-chats').hidden = S.chats.size > 0;
}

function renderTab(c) {
  const badge = c.unread ? ` (${c.unread})` : '';
  const state = c.state !== 'open' ? ' — closed' : c.chatter === 'disconnected' ? ' — reconnecting' : '';
  c.tab.replaceChildren(`Chat ${c.n} · ${c.language || '—'}${state}`);
  if (c.unread) {
    const b = el('span', 'badge', String(c.unread));
    b.dataset.testid = 'unread';
    b.setAttribute('aria-label', `${c.unread} unread`);
    c.tab.append(' ', b);
  }
  c.tab.title = `Chat ${c.n}${badge}`;
  c.tab.classList.toggle('closed', c.state !== 'open');
  c.panel.querySelector('.chat-info').textContent = `Chat ${c.n} · ${queueName(c.queue)} · ${c.language || 'no language given'}`;
}

function activate(id, focusComposer) {
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

function markRead(c) {
  if (!c.unread) return;
  c.unread = 0;
  renderTab(c);
}

function onAssigned(f) {
  let c = S.chats.get(f.chat_id);
  const isNew = !c;
  if (!c) c = createChat(f);
  c.awaitingReassign = false;
  const claimed = S.claiming === c.id;
  if (claimed) S.claiming = null;
  c.queue = f.queue;
  c.language = f.language;
  if (c.state !== 'open') {
    // Back to us (e.g. transferred back): the composer opens again.
    c.state = 'open';
    setClosedUi(c, false);
  }
  fillIntake(c.panel.querySelector('.intake'), f.intake);
  const note = c.panel.querySelector('.transfer-note');
  if (f.transfer) {
    note.textContent = `Transferred from ${f.transfer.from}${f.transfer.note ? `. Note: ${f.transfer.note}` : '.'}`;
    note.hidden = false;
  }
  for (const m of f.history || []) onMessage(c, m, false);
  resendPending(c);
  setChatState(c.id, f.chatter_connected === false ? 'disconnected' : 'connected');
  renderTab(c);
  if (isNew) {
    queueNotice('');
    attention();
    const current = S.chats.get(S.active);
    // A chat the advocate just claimed opens; an auto-assigned one waits in its tab unless
    // nothing else is open.
    if (claimed || !current || current.state !== 'open') activate(c.id, true);
  }
}

function addLine(c, from, text, at, seq, mine) {
  const li = el('li', `msg msg-${from}${mine ? ' mine' : ''}`);
  li.dataset.from = from;
  li.dataset.testid = 'message';
  if (seq) li.dataset.seq = String(seq);
  const meta = el('div', 'meta');
  const who = from === 'chatter' ? 'Chatter' : from === 'system' ? 'Haven' : mine ? 'You' : 'Advocate';
  const time = el('time', '', clock(at));
  time.dateTime = new Date(at || Date.now()).toISOString();
  meta.append(el('span', 'who', who), ' ', time);
  li.append(meta, el('p', 'text', text));
  const nearBottom = c.log.scrollHeight - c.log.scrollTop - c.log.clientHeight < 80;
  c.log.append(li);
  if (nearBottom || mine) li.scrollIntoView({ block: 'nearest' });
  return li;
}

function setDelivery(li, state) {
  let s = li.querySelector('.state');
  if (!s) {
    s = el('span', 'state');
    s.dataset.testid = 'delivery';
    li.append(s);
  }
  li.dataset.state = state;
  s.textContent = state === 'sending' ? 'Sending…' : state === 'sent' ? 'Sent' : 'Not sent';
}

function onMessage(c, m, live) {
  if (typeof m.seq === 'number') {
    if (c.seen.has(m.seq)) return;
    c.seen.add(m.seq);
  }
  if (m.from === 'advocate') {
    for (const [id, p] of c.pending) {
      if (!p.seq && p.text === m.text) {
        p.seq = m.seq;
        p.li.dataset.seq = String(m.seq);
        setDelivery(p.li, 'sent');
        c.pending.delete(id);
        return;
      }
    }
  }
  addLine(c, m.from, m.text, m.at, m.seq, false);
  if (m.from === 'chatter') {
    showTyping(c, false);
    if (live) {
      if (S.active !== c.id || document.hidden) {
        if (S.active !== c.id) {
          c.unread += 1;
          renderTab(c);
        }
      }
      attention();
    }
  }
}

function onAck(c, f) {
  if (typeof f.seq === 'number') c.seen.add(f.seq);
  const p = c.pending.get(f.id);
  if (!p) return;
  c.pending.delete(f.id);
  p.seq = f.seq;
  p.li.dataset.seq = String(f.seq);
  setDelivery(p.li, 'sent');
}

function markFailed(c, id) {
  const p = id && c.pending.get(id);
  if (!p) return;
  c.pending.delete(id);
  setDelivery(p.li, 'failed');
}

function resendPending(c) {
  if (c.state !== 'open') return;
  for (const [id, p] of c.pending) send({ type: 'message', chat_id: c.id, id, text: p.text });
}

function chatError(c, text) {
  c.error.textContent = text || '';
  c.error.hidden = !text;
}

function sendMessage(c) {
  const text = c.box.value.trim();
  if (!text || c.state !== 'open') return;
  chatError(c, '');
  hideCanned(c);
  const id = newId();
  const li = addLine(c, 'advocate', text, Date.now(), 0, true);
  li.dataset.id = id;
  setDelivery(li, 'sending');
  c.pending.set(id, { text, li, seq: 0 });
  c.box.value = '';
  stopTyping(c);
  send({ type: 'message', chat_id: c.id, id, text });
  c.box.focus();
}

function onComposerInput(c) {
  const v = c.box.value;
  if (v.startsWith('/')) showCanned(c, v.slice(1));
  else hideCanned(c);
  if (c.state !== 'open') return;
  if (!v.trim() || v.startsWith('/')) {
    stopTyping(c);
    return;
  }
  if (!c.typingOn && send({ type: 'typing', chat_id: c.id, on: true })) c.typingOn = true;
  clearTimeout(c.typingTimer);
  c.typingTimer = setTimeout(() => stopTyping(c), TYPING_IDLE_MS);
}

function stopTyping(c) {
  clearTimeout(c.typingTimer);
  if (c.typingOn) {
    c.typingOn = false;
    send({ type: 'typing', chat_id: c.id, on: false });
  }
}

function showTyping(c, on) {
  clearTimeout(c.theirTypingTimer);
  c.typing.hidden = !on;
  if (on) c.theirTypingTimer = setTimeout(() => { c.typing.hidden = true; }, 15000);
}

const CHAT_STATES = {
  connected: '',
  reconnected: 'The chatter is back.',
  disconnected: 'The chatter\'s connection dropped. They may come back in a moment.',
  left: 'The chatter left the chat.',
  timed_out: 'The chatter did not come back in time. The chat is closed.',
  ended_by_you: 'You ended this chat.',
  transferred: 'The chat was transferred.',
  server_closing: 'Haven shut down; this chat ended.',
  lost: 'This chat is no longer assigned to you.',
};

function setChatState(id, state) {
  const c = S.chats.get(id);
  if (!c) return;
  if (state === 'disconnected' || state === 'connected' || state === 'reconnected') {
    c.chatter = state === 'disconnected' ? 'disconnected' : 'connected';
    if (state === 'disconnected') showTyping(c, false);
  }
  c.stateEl.textContent = CHAT_STATES[state] ?? '';
  c.panel.dataset.state = state;
  renderTab(c);
}

function closeChat(id, reason) {
  const c = S.chats.get(id);
  if (!c) return;
  c.state = 'closed';
  stopTyping(c);
  showTyping(c, false);
  setChatState(id, reason);
  setClosedUi(c, true);
  if ($('transfer-dialog').open && S.dialogChat === c.id) $('transfer-dialog').close();
  if ($('end-dialog').open && S.dialogChat === c.id) $('end-dialog').close();
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

// ---------------------------------------------------------------- canned responses

function cannedMatches(query) {
  const q = query.trim().toLowerCase();
  return S.canned
    .map((x, i) => ({ ...x, i }))
    .filter((x) => !q || x.title.toLowerCase().includes(q) || x.text.toLowerCase().includes(q));
}

function showCanned(c, query) {
  const items = cannedMatches(query);
  c.list.replaceChildren();
  c.cannedIndex = 0;
  items.forEach((x, k) => {
    const li = el('li', 'canned-item');
    li.id = `${c.list.id}-${k}`;
    li.setAttribute('role', 'option');
    li.dataset.testid = 'canned-option';
    li.dataset.index = String(x.i);
    li.append(el('strong', '', x.title), el('span', 'canned-text', x.text));
    li.addEventListener('mousedown', (e) => e.preventDefault());
    li.addEventListener('click', () => insertCanned(c, x.i));
    c.list.append(li);
  });
  if (!items.length) c.list.append(el('li', 'muted', 'No canned response matches.'));
  c.list.hidden = false;
  c.panel.querySelector('[data-action="canned"]').setAttribute('aria-expanded', 'true');
  highlightCanned(c);
}

function hideCanned(c) {
  c.list.hidden = true;
  c.box.removeAttribute('aria-activedescendant');
  c.panel.querySelector('[data-action="canned"]').setAttribute('aria-expanded', 'false');
}

function toggleCanned(c) {
  if (c.list.hidden) {
    showCanned(c, '');
    c.box.focus();
  } else {
    hideCanned(c);
  }
}

function highlightCanned(c) {
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
  onComposerInput(c);
}

function onComposerKey(c, e) {
  const open = !c.list.hidden;
  const options = open ? [...c.list.querySelectorAll('[role="option"]')] : [];
  if (open && options.length && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
    e.preventDefault();
    const d = e.key === 'ArrowDown' ? 1 : -1;
    c.cannedIndex = (c.cannedIndex + d + options.length) % options.length;
    highlightCanned(c);
    return;
  }
  if (open && e.key === 'Escape') {
    e.preventDefault();
    hideCanned(c);
    return;
  }
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    if (open && options.length) insertCanned(c, Number(options[c.cannedIndex].dataset.index));
    else sendMessage(c);
  }
}

// ---------------------------------------------------------------- transfer / end dialogs

function fillTargets() {
  const c = S.chats.get(S.dialogChat);
  const select = $('transfer-target');
  const keep = select.value;
  select.replaceChildren();
  const people = el('optgroup');
  people.label = 'Advocates';
  for (const a of S.advocates) {
    if (S.me && a.id === S.me.id) continue;
    const full = a.load >= a.capacity;
    const o = el('option', '', `${a.display_name} — ${a.available ? (full ? 'full' : 'available') : 'away'}, ${a.load} of ${a.capacity}`);
    o.value = `a:${a.id}`;
    o.disabled = !a.available || full;
    people.append(o);
  }
  if (!people.children.length) {
    const o = el('option', '', 'No other advocate is on the console');
    o.disabled = true;
    o.value = '';
    people.append(o);
  }
  const queues = el('optgroup');
  queues.label = 'Queues';
  for (const q of S.queues) {
    const o = el('option', '', `${q.name}${c && q.id === c.queue ? ' (current queue)' : ''}`);
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

function openTransfer(c) {
  S.dialogChat = c.id;
  $('transfer-error').hidden = true;
  $('transfer-note').value = '';
  $('transfer-target').value = '';
  fillTargets();
  $('transfer-dialog').showModal();
  $('transfer-target').focus();
}

function submitTransfer(e) {
  e.preventDefault();
  const c = S.chats.get(S.dialogChat);
  const v = $('transfer-target').value;
  if (!c || !v) {
    $('transfer-error').textContent = 'Choose an advocate or a queue.';
    $('transfer-error').hidden = false;
    return;
  }
  const frame = { type: 'transfer', chat_id: c.id };
  if (v.startsWith('a:')) frame.to_advocate = v.slice(2);
  else frame.to_queue = v.slice(2);
  const note = $('transfer-note').value.trim();
  if (note) frame.note = note;
  if (!send(frame)) {
    $('transfer-error').textContent = TEXT.reconnecting;
    $('transfer-error').hidden = false;
    return;
  }
  chatError(c, '');
  $('transfer-dialog').close();
}

function openEnd(c) {
  S.dialogChat = c.id;
  $('end-dialog').showModal();
  $('end-cancel').focus();
}

function submitEnd(e) {
  e.preventDefault();
  const c = S.chats.get(S.dialogChat);
  $('end-dialog').close();
  if (c && c.state === 'open') send({ type: 'end', chat_id: c.id });
}

// ---------------------------------------------------------------- boot

function wire() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('available').addEventListener('change', (e) => {
    unlockAudio();
    if (!send({ type: 'status', available: e.target.checked })) renderStatus();
  });
  $('sound').addEventListener('change', unlockAudio);
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
  document.addEventListener('pointerdown', unlockAudio, { once: true });
  document.addEventListener('keydown', unlockAudio, { once: true });
}

async function boot() {
  wire();
  const session = await checkSession();
  if (session === 'in') connect();
  else showLogin(false);
}

boot();
