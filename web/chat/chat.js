// Haven chatter page. Plain module, no dependencies. Stores nothing but the resume token, and only
// in sessionStorage. See docs/frontend.md and docs/protocol.md.

const TOKEN_KEY = 'haven_token';
const SHIFT_WINDOW_MS = 5000;
const TYPING_IDLE_MS = 3000;
const PING_EVERY_MS = 20000;
const DEAD_AFTER_MS = 45000;

const $ = (id) => document.getElementById(id);

const S = {
  config: null,
  lang: 'en',
  strings: {},
  exitUrl: 'about:blank',
  exiting: false,
  ws: null,
  // 'idle' (start/offline screen), 'starting' (hello sent), 'queued', 'active', 'ended'
  state: 'idle',
  token: null,
  lastSeq: 0,
  seen: new Set(),
  pending: new Map(), // client id -> { text, li, seq }
  sent: 0,
  advocate: null,
  typingOn: false,
  typingTimer: 0,
  theirTypingTimer: 0,
  reconnectTimer: 0,
  attempt: 0,
  lastFrameAt: 0,
  pingTimer: 0,
  shiftCount: 0,
  shiftTimer: 0,
};

// ---------------------------------------------------------------- quick exit (first, always on)

function quickExit(event) {
  if (event) event.preventDefault();
  if (S.exiting) return;
  S.exiting = true;
  const url = S.exitUrl;
  // Blank at once: nothing of the chat stays on screen while the next page loads.
  document.title = '';
  document.body.replaceChildren();
  try {
    if (S.ws) {
      if (S.ws.readyState === WebSocket.OPEN && S.token) S.ws.send('{"type":"leave"}');
      S.ws.onclose = null;
      S.ws.close();
    }
  } catch (_) { /* leaving anyway */ }
  try { sessionStorage.clear(); } catch (_) { /* storage may be blocked */ }
  if (window.top !== window.self) {
    // Inside the widget's iframe: ask the host page (embed.js) to leave too, and try directly.
    try { window.parent.postMessage({ type: 'haven:quick-exit', url }, '*'); } catch (_) { /* */ }
    try { window.top.location.replace(url); } catch (_) { /* cross-origin without activation */ }
  }
  location.replace(url);
}

function onKeyDown(e) {
  if (e.key === 'Escape') {
    quickExit(e);
    return;
  }
  if (e.key === 'Shift') {
    if (e.repeat) return;
    S.shiftCount += 1;
    clearTimeout(S.shiftTimer);
    if (S.shiftCount >= 3) {
      quickExit(e);
      return;
    }
    S.shiftTimer = setTimeout(() => { S.shiftCount = 0; }, SHIFT_WINDOW_MS);
  } else {
    S.shiftCount = 0;
  }
}

window.addEventListener('keydown', onKeyDown, true);
$('quick-exit').addEventListener('click', quickExit);
window.addEventListener('pageshow', (e) => {
  // Restored from the back/forward cache: show nothing of the chat, leave again.
  if (e.persisted) {
    S.exiting = false;
    quickExit();
  }
});

// ---------------------------------------------------------------- strings

function t(key, vars) {
  let s = S.strings[key];
  if (typeof s !== 'string') s = key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

function setT(el, key, vars) {
  el.dataset.i18n = key;
  if (vars) el.dataset.i18nVars = JSON.stringify(vars);
  else delete el.dataset.i18nVars;
  el.textContent = t(key, vars);
}

function applyStrings() {
  for (const el of document.querySelectorAll('[data-i18n]')) {
    let vars;
    if (el.dataset.i18nVars) {
      try { vars = JSON.parse(el.dataset.i18nVars); } catch (_) { vars = undefined; }
    }
    el.textContent = t(el.dataset.i18n, vars);
  }
  for (const li of document.querySelectorAll('#log time')) {
    li.textContent = formatTime(Number(li.dataset.at));
  }
  document.documentElement.lang = S.lang;
}

async function loadStrings(lang) {
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(lang)) throw new Error('bad language');
  const res = await fetch(`/chat/i18n/${lang}.json`, { credentials: 'omit', cache: 'no-store' });
  if (!res.ok) throw new Error(`strings ${res.status}`);
  S.strings = await res.json();
  S.lang = lang;
  applyStrings();
}

function pickLanguage(available) {
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const tag of wanted) {
    const lower = String(tag).toLowerCase();
    if (available.includes(lower)) return lower;
    const base = lower.split('-')[0];
    if (available.includes(base)) return base;
  }
  return available[0] || 'en';
}

function languageName(code) {
  try {
    const name = new Intl.DisplayNames([code], { type: 'language' }).of(code);
    if (name && name !== code) return name.charAt(0).toLocaleUpperCase(code) + name.slice(1);
  } catch (_) { /* old browser */ }
  return code;
}

function formatTime(at) {
  if (!at) return '';
  try {
    return new Date(at).toLocaleTimeString(S.lang, { hour: 'numeric', minute: '2-digit' });
  } catch (_) {
    return new Date(at).toLocaleTimeString();
  }
}

// ---------------------------------------------------------------- screens

const SCREENS = ['screen-loading', 'screen-start', 'screen-offline', 'screen-chat', 'screen-ended'];

function show(screen) {
  for (const id of SCREENS) $(id).hidden = id !== screen;
}

function notice(text) {
  const el = $('notice');
  el.textContent = text || '';
  el.hidden = !text;
}

function renderContacts() {
  const c = (S.config && S.config.contacts) || {};
  for (const ul of document.querySelectorAll('[data-contacts]')) {
    ul.replaceChildren();
    if (c.phone) {
      const li = document.createElement('li');
      const label = document.createElement('span');
      setT(label, 'call');
      const a = document.createElement('a');
      a.href = `tel:${String(c.phone).replace(/[^0-9+]/g, '')}`;
      a.textContent = c.phone;
      li.append(label, ': ', a);
      ul.append(li);
    }
    if (c.text) {
      const li = document.createElement('li');
      li.textContent = c.text;
      ul.append(li);
    }
  }
}

function showStart() {
  S.state = 'idle';
  show('screen-start');
}

// ---------------------------------------------------------------- socket

function socketUrl() {
  return `${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/ws/chat`;
}

function send(frame) {
  if (S.ws && S.ws.readyState === WebSocket.OPEN) {
    S.ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function connect(first) {
  clearTimeout(S.reconnectTimer);
  if (S.ws) {
    S.ws.onclose = null;
    S.ws.onmessage = null;
    try { S.ws.close(); } catch (_) { /* already closed */ }
  }
  let ws;
  try {
    ws = new WebSocket(socketUrl());
  } catch (_) {
    scheduleReconnect();
    return;
  }
  S.ws = ws;
  ws.onopen = () => {
    S.lastFrameAt = Date.now();
    ws.send(JSON.stringify(first()));
  };
  ws.onmessage = (e) => {
    S.lastFrameAt = Date.now();
    let frame;
    try { frame = JSON.parse(e.data); } catch (_) { return; }
    handle(frame);
  };
  ws.onclose = () => {
    if (S.ws !== ws) return;
    S.ws = null;
    if (S.exiting || S.state === 'ended' || S.state === 'idle') return;
    connectionLost();
  };
}

function helloFrame() {
  return { type: 'hello', v: 1, language: S.lang };
}

function resumeFrame() {
  return { type: 'resume', v: 1, token: S.token, last_seq: S.lastSeq };
}

function connectionLost() {
  $('conn-banner').hidden = false;
  stopTyping();
  hideTheirTyping();
  scheduleReconnect();
}

function scheduleReconnect() {
  clearTimeout(S.reconnectTimer);
  const delay = Math.min(10000, 500 * 2 ** S.attempt);
  S.attempt += 1;
  S.reconnectTimer = setTimeout(() => {
    if (S.exiting || S.state === 'ended' || S.state === 'idle') return;
    connect(S.token ? resumeFrame : helloFrame);
  }, delay);
}

function keepAlive() {
  if (!S.ws || S.ws.readyState !== WebSocket.OPEN) return;
  if (Date.now() - S.lastFrameAt > DEAD_AFTER_MS) {
    // Nothing heard for too long: the connection is dead even if the browser has not noticed.
    const ws = S.ws;
    S.ws = null;
    ws.onclose = null;
    try { ws.close(); } catch (_) { /* */ }
    connectionLost();
    return;
  }
  send({ type: 'ping' });
}

// ---------------------------------------------------------------- frames

function handle(f) {
  switch (f.type) {
    case 'welcome':
      S.token = f.token;
      try { sessionStorage.setItem(TOKEN_KEY, f.token); } catch (_) { /* private mode */ }
      S.attempt = 0;
      $('conn-banner').hidden = true;
      if (S.state === 'starting') S.state = 'queued';
      resendPending();
      break;
    case 'queued':
      S.state = 'queued';
      S.advocate = null;
      showQueued(f);
      break;
    case 'joined':
      S.state = 'active';
      if (f.advocate !== S.advocate) {
        S.advocate = f.advocate;
        addSystem('joined', { name: f.advocate });
      }
      $('queue-info').hidden = true;
      setT($('chat-title'), 'chatting_with', { name: f.advocate });
      break;
    case 'message':
      onMessage(f);
      break;
    case 'ack':
      onAck(f);
      break;
    case 'typing':
      if (f.on) showTheirTyping();
      else hideTheirTyping();
      break;
    case 'offline':
      showOffline(f);
      break;
    case 'ended':
      endChat(`ended_${f.reason}`);
      break;
    case 'error':
      onError(f);
      break;
    default:
      break;
  }
}

function showQueued(f) {
  show('screen-chat');
  setT($('chat-title'), 'waiting');
  setT($('queue-position'), 'queued', { position: f.position });
  if (typeof f.estimate_secs === 'number') {
    setT($('queue-estimate'), 'estimate', { minutes: Math.max(1, Math.round(f.estimate_secs / 60)) });
  } else {
    setT($('queue-estimate'), 'estimate_unknown');
  }
  $('queue-info').hidden = false;
}

function showOffline(f) {
  S.state = 'idle';
  if (f.contacts && S.config) S.config.contacts = f.contacts;
  renderContacts();
  const reason = ['no_advocates', 'outside_hours', 'queue_full'].includes(f.reason) ? f.reason : 'no_advocates';
  setT($('offline-reason'), `offline_${reason}`);
  $('offline-note').textContent = (f.contacts && f.contacts.note) || '';
  show('screen-offline');
  $('offline-title').focus();
}

function onError(f) {
  switch (f.code) {
    case 'chat_purged':
    case 'chat_closed':
      endChat('ended_purged');
      break;
    case 'message_too_long':
      markFailed(f.id);
      notice(t('error_message_too_long'));
      break;
    case 'rate_limited':
      notice(t('error_rate_limited'));
      if (f.id) setTimeout(resendPending, 2000);
      break;
    case 'not_assigned':
    case 'already_started':
      break;
    default:
      notice(t('error_generic', { message: f.message || f.code }));
  }
}

function addLine(from, text, at, seq) {
  const li = document.createElement('li');
  li.className = `msg msg-${from}`;
  li.dataset.from = from;
  li.dataset.testid = 'message';
  if (seq) li.dataset.seq = String(seq);
  const meta = document.createElement('div');
  meta.className = 'meta';
  const who = document.createElement('span');
  who.className = 'who';
  if (from === 'chatter') setT(who, 'you');
  else if (from === 'advocate' && S.advocate) who.textContent = S.advocate;
  else setT(who, from === 'advocate' ? 'advocate' : 'system');
  const time = document.createElement('time');
  time.dataset.at = String(at || Date.now());
  time.dateTime = new Date(at || Date.now()).toISOString();
  time.textContent = formatTime(at || Date.now());
  meta.append(who, ' ', time);
  const p = document.createElement('p');
  p.className = 'text';
  p.textContent = text;
  li.append(meta, p);
  const log = $('log');
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  log.append(li);
  if (nearBottom || from === 'chatter') li.scrollIntoView({ block: 'end' });
  return li;
}

function addSystem(key, vars) {
  const li = document.createElement('li');
  li.className = 'msg msg-note';
  li.dataset.testid = 'system-note';
  const p = document.createElement('p');
  p.className = 'text';
  setT(p, key, vars);
  li.append(p);
  $('log').append(li);
  li.scrollIntoView({ block: 'end' });
}

function setState(li, key) {
  let el = li.querySelector('.state');
  if (!el) {
    el = document.createElement('span');
    el.className = 'state';
    el.dataset.testid = 'delivery';
    li.append(el);
  }
  li.dataset.state = key;
  setT(el, key);
}

function seeSeq(seq) {
  if (typeof seq !== 'number') return false;
  if (seq > S.lastSeq) S.lastSeq = seq;
  if (S.seen.has(seq)) return false;
  S.seen.add(seq);
  return true;
}

function onMessage(f) {
  if (!seeSeq(f.seq)) return;
  if (f.from === 'chatter') {
    // One of ours, replayed after a resume: match it to a message still waiting for its ack.
    for (const [id, p] of S.pending) {
      if (!p.seq && p.text === f.text) {
        p.seq = f.seq;
        p.li.dataset.seq = String(f.seq);
        setState(p.li, 'sent');
        S.pending.delete(id);
        return;
      }
    }
    const li = addLine('chatter', f.text, f.at, f.seq);
    setState(li, 'sent');
    return;
  }
  if (f.from === 'advocate') hideTheirTyping();
  const li = addLine(f.from === 'advocate' ? 'advocate' : 'system', f.text, f.at, f.seq);
  // Haven's own notes carry a key: show them in the reader's language.
  const note = f.from === 'system' && SYSTEM_NOTES[f.key];
  if (note) setT(li.querySelector('.text'), note);
}

// The server's keys for its own system lines → this page's strings.
const SYSTEM_NOTES = {
  transfer_to_advocate: 'sys_transfer_to_advocate',
  transfer_to_queue: 'sys_transfer_to_queue',
  advocate_disconnected: 'sys_advocate_disconnected',
};

function onAck(f) {
  const p = S.pending.get(f.id);
  if (typeof f.seq === 'number') {
    if (f.seq > S.lastSeq) S.lastSeq = f.seq;
    S.seen.add(f.seq);
  }
  if (!p) return;
  S.pending.delete(f.id);
  p.li.dataset.seq = String(f.seq);
  setState(p.li, 'sent');
}

function markFailed(id) {
  const p = id && S.pending.get(id);
  if (!p) return;
  S.pending.delete(id);
  setState(p.li, 'not_sent');
}

function resendPending() {
  for (const [id, p] of S.pending) {
    if (!p.seq) send({ type: 'message', id, text: p.text });
  }
}

function newId() {
  const b = new Uint8Array(6);
  crypto.getRandomValues(b);
  S.sent += 1;
  return `c-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}-${S.sent}`;
}

function sendMessage(e) {
  e.preventDefault();
  const box = $('message');
  const text = box.value.trim();
  if (!text || S.state === 'ended' || S.state === 'idle') return;
  notice('');
  const id = newId();
  const li = addLine('chatter', text, Date.now());
  li.dataset.id = id;
  setState(li, 'sending');
  S.pending.set(id, { text, li, seq: 0 });
  box.value = '';
  stopTyping();
  send({ type: 'message', id, text });
  box.focus();
}

// ---------------------------------------------------------------- typing

function onInput() {
  if (S.state !== 'active') return;
  const hasText = $('message').value.trim() !== '';
  if (!hasText) {
    stopTyping();
    return;
  }
  if (!S.typingOn && send({ type: 'typing', on: true })) S.typingOn = true;
  clearTimeout(S.typingTimer);
  S.typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(S.typingTimer);
  if (S.typingOn) {
    S.typingOn = false;
    send({ type: 'typing', on: false });
  }
}

function showTheirTyping() {
  setT($('typing'), 'typing', { name: S.advocate || t('advocate') });
  $('typing').hidden = false;
  clearTimeout(S.theirTypingTimer);
  S.theirTypingTimer = setTimeout(hideTheirTyping, 15000);
}

function hideTheirTyping() {
  clearTimeout(S.theirTypingTimer);
  $('typing').hidden = true;
}

// ---------------------------------------------------------------- start / end

function startChat() {
  notice('');
  S.state = 'starting';
  S.token = null;
  S.lastSeq = 0;
  S.seen.clear();
  S.pending.clear();
  S.advocate = null;
  S.attempt = 0;
  $('log').replaceChildren();
  $('queue-info').hidden = true;
  hideTheirTyping();
  setT($('chat-title'), 'connecting');
  show('screen-chat');
  $('message').focus();
  if (!send(helloFrame())) connect(helloFrame);
}

function forgetToken() {
  S.token = null;
  try { sessionStorage.removeItem(TOKEN_KEY); } catch (_) { /* */ }
}

function endChat(reasonKey) {
  S.state = 'ended';
  forgetToken();
  clearTimeout(S.reconnectTimer);
  stopTyping();
  hideTheirTyping();
  S.pending.clear();
  $('conn-banner').hidden = true;
  $('confirm-end').hidden = true;
  $('end-chat').hidden = false;
  if (S.ws) {
    const ws = S.ws;
    S.ws = null;
    ws.onclose = null;
    ws.close();
  }
  setT($('ended-reason'), reasonKey);
  show('screen-ended');
  $('ended-title').focus();
}

function askEnd() {
  $('end-chat').hidden = true;
  $('confirm-end').hidden = false;
  $('confirm-end-no').focus();
}

function cancelEnd() {
  $('confirm-end').hidden = true;
  $('end-chat').hidden = false;
  $('end-chat').focus();
}

function confirmEnd() {
  send({ type: 'leave' });
  endChat('ended_chatter_left');
}

// ---------------------------------------------------------------- boot

function wire() {
  $('start').addEventListener('click', startChat);
  $('retry-chat').addEventListener('click', startChat);
  $('new-chat').addEventListener('click', showStart);
  $('composer').addEventListener('submit', sendMessage);
  $('message').addEventListener('input', onInput);
  $('message').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) sendMessage(e);
  });
  $('end-chat').addEventListener('click', askEnd);
  $('confirm-end-no').addEventListener('click', cancelEnd);
  $('confirm-end-yes').addEventListener('click', confirmEnd);
  $('reload').addEventListener('click', () => location.reload());
  $('language').addEventListener('change', async (e) => {
    try {
      await loadStrings(e.target.value);
    } catch (_) {
      e.target.value = S.lang;
    }
  });
  for (const id of ['offline-title', 'ended-title']) $(id).tabIndex = -1;
  S.pingTimer = setInterval(keepAlive, PING_EVERY_MS);
}

async function boot() {
  wire();
  try {
    const res = await fetch('/api/public/config', { credentials: 'omit', cache: 'no-store' });
    if (!res.ok) throw new Error(`config ${res.status}`);
    S.config = await res.json();
  } catch (_) {
    $('load-failed').hidden = false;
    return;
  }
  const c = S.config;
  if (typeof c.quick_exit_url === 'string' && /^https?:\/\//i.test(c.quick_exit_url)) {
    S.exitUrl = c.quick_exit_url;
    $('quick-exit').href = c.quick_exit_url;
  }
  if (c.page_title) document.title = c.page_title;
  $('program-name').textContent = c.program_name || '';
  for (const el of document.querySelectorAll('[data-emergency]')) {
    el.textContent = c.emergency || '';
    el.hidden = !c.emergency;
  }
  $('mandated-reporting').textContent = c.mandated_reporting || '';
  $('closed-now').hidden = c.open_now !== false;
  const languages = Array.isArray(c.languages) && c.languages.length ? c.languages : ['en'];
  const select = $('language');
  for (const code of languages) {
    const o = document.createElement('option');
    o.value = code;
    o.lang = code;
    o.textContent = languageName(code);
    select.append(o);
  }
  select.closest('.lang').hidden = languages.length < 2;
  let lang = pickLanguage(languages);
  try {
    await loadStrings(lang);
  } catch (_) {
    lang = languages[0];
    try { await loadStrings(lang); } catch (_) { $('load-failed').hidden = false; return; }
  }
  select.value = lang;
  renderContacts();
  let token = null;
  try { token = sessionStorage.getItem(TOKEN_KEY); } catch (_) { /* */ }
  if (token) {
    // A reload during a chat: pick it up again, with the whole transcript.
    S.token = token;
    S.state = 'starting';
    setT($('chat-title'), 'connecting');
    show('screen-chat');
    connect(resumeFrame);
  } else {
    showStart();
  }
}

boot();
