// Haven chatter page. Plain module; its socket is the one the console uses too. Stores nothing
// but the resume token, and only in sessionStorage. See docs/frontend.md and docs/protocol.md.

import { Socket } from '/shared/socket.js';
import * as forms from './forms.js';
import { solve } from './proof.js';

const TOKEN_KEY = 'haven_token';
const SHIFT_WINDOW_MS = 5000;
const TYPING_IDLE_MS = 3000;

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
  shiftCount: 0,
  shiftTimer: 0,
  // From the config (`page`); the safe defaults apply until it has loaded.
  escapeKey: 'unless_typing',
  forgetOnPagehide: true,
  escArmed: false, // a first Escape left the message box; the next one exits
  unseen: 0, // lines that arrived while the person was reading back
  // In the widget: is its panel open (embed.js says), and advocate lines not yet seen there.
  inWidget: window.top !== window.self,
  widgetOpen: true,
  unread: 0,
  dutyTimer: 0,
};

// The neutral site is in the HTML already (the server writes it into the link).
if (/^https?:\/\//i.test($('quick-exit').href)) S.exitUrl = $('quick-exit').href;

// --- quick exit (first, always on)

function quickExit(event) {
  if (event) event.preventDefault();
  if (S.exiting) return;
  S.exiting = true;
  const url = S.exitUrl;
  // Blank at once: nothing of the chat stays on screen while the next page loads.
  document.title = '';
  document.body.replaceChildren();
  try {
    if (S.token) socket.send({ type: 'leave', reason: 'quick_exit' });
    socket.stop();
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
    if (S.escapeKey === 'off') return;
    const box = $('message');
    if (S.escapeKey === 'unless_typing' && !S.escArmed && box.value.trim() !== '') {
      // A stray Escape while writing must not end the chat: leave the box; a second exits.
      S.escArmed = true;
      e.preventDefault();
      box.blur();
      notice(t('escape_again'));
      return;
    }
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
window.addEventListener('pagehide', () => {
  // Leaving (a link, Back, closing the tab): Back must never bring the chat back; and without
  // its token the chat is over, so tell the advocate now.
  if (S.forgetOnPagehide && !S.exiting && S.token) {
    send({ type: 'leave' });
    forgetToken();
  }
});
window.addEventListener('message', (e) => {
  // From embed.js: the panel opened or closed, or Quick exit on the host page.
  if (!S.inWidget || e.source !== window.parent || !e.data) return;
  if (e.data.type === 'haven:widget') {
    S.widgetOpen = !!e.data.open;
    if (S.widgetOpen) setUnread(0);
  } else if (e.data.type === 'haven:quick-exit-request') {
    quickExit();
  }
});
window.addEventListener('pageshow', (e) => {
  // Restored from the back/forward cache: show nothing of the chat, leave again.
  if (e.persisted) {
    S.exiting = false;
    quickExit();
  }
});

// --- strings

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
  $('privacy-link').href = `/privacy?lang=${encodeURIComponent(S.lang)}`;
  if (S.config) applyProgramTexts();
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

// --- screens

const SCREENS = ['screen-loading', 'screen-resume', 'screen-start', 'screen-offline', 'screen-chat', 'screen-ended'];

function show(screen) {
  for (const id of SCREENS) $(id).hidden = id !== screen;
}

function notice(text) {
  const el = $('notice');
  el.textContent = text || '';
  el.hidden = !text;
}

// The program's own words in the page's language (the server fills in the fallbacks).
function programText() {
  const c = S.config || {};
  return (c.texts && c.texts[S.lang]) || (c.texts && c.texts[c.lang]) || {};
}

function link(href, text) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  return a;
}

function applyProgramTexts() {
  const p = programText();
  const dial = S.config.dial || {};
  if (p.page_title) document.title = p.page_title;
  $('program-name').textContent = p.program_name || '';
  for (const el of document.querySelectorAll('[data-emergency]')) {
    el.replaceChildren();
    const text = p.emergency || '';
    const at = dial.emergency ? text.indexOf(dial.emergency) : -1;
    // The number in the sentence becomes the link (never a number the sentence does not say).
    if (at >= 0) {
      el.append(text.slice(0, at), link(`tel:${dial.emergency}`, dial.emergency), text.slice(at + dial.emergency.length));
    } else el.append(text);
    el.hidden = !text;
  }
  $('mandated-reporting').textContent = p.mandated_reporting || '';
  $('offline-note').textContent = p.offline_note || '';
  for (const ul of document.querySelectorAll('[data-contacts]')) {
    ul.replaceChildren();
    if (p.hotline_phone) {
      const li = document.createElement('li');
      const label = document.createElement('span');
      setT(label, 'call');
      const digits = p.hotline_phone.replace(/[^0-9+]/g, '');
      li.append(label, ': ', link(`tel:${digits}`, p.hotline_phone));
      ul.append(li);
    }
    if (p.hotline_text) {
      const li = document.createElement('li');
      if (dial.sms && p.hotline_text.includes(dial.sms)) {
        const body = dial.sms_body ? `?&body=${encodeURIComponent(dial.sms_body)}` : '';
        li.append(link(`sms:${dial.sms}${body}`, p.hotline_text));
      } else {
        li.textContent = p.hotline_text;
      }
      ul.append(li);
    }
  }
  renderDuty();
}

// Open or closed now, and when the chat opens next, in the chatter's own time zone.
function renderDuty() {
  const c = S.config;
  const el = $('duty');
  if (c.open_now && c.on_duty) setT(el, 'duty_on');
  else if (c.open_now) setT(el, 'duty_busy');
  else if (typeof c.next_open_at === 'number') {
    let when;
    try {
      when = new Intl.DateTimeFormat(S.lang, {
        weekday: 'long', hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
      }).format(new Date(c.next_open_at));
    } catch (_) {
      when = new Date(c.next_open_at).toLocaleString();
    }
    setT(el, 'duty_closed_next', { when });
  } else setT(el, 'duty_closed');
}

function showStart() {
  S.state = 'idle';
  show('screen-start');
  clearTimeout(S.dutyTimer);
  S.dutyTimer = setTimeout(refreshDuty, 60000);
}

// Who is on duty changes while the start screen waits: ask again now and every minute.
async function refreshDuty() {
  clearTimeout(S.dutyTimer);
  if (S.state !== 'idle' || $('screen-start').hidden) return;
  try {
    const c = await getConfig();
    for (const k of ['open_now', 'on_duty', 'next_open_at']) S.config[k] = c[k];
    renderDuty();
  } catch (_) { /* offline: keep what is shown */ }
  S.dutyTimer = setTimeout(refreshDuty, 60000);
}

// --- socket

// Back-off and dead-connection detection are the shared module's; a reconnect resumes.
const socket = new Socket('/ws/chat', {
  onOpen: () => socket.send(S.token ? resumeFrame() : helloFrame()),
  onFrame: (frame) => handle(frame),
  onDown: () => {
    if (S.exiting || S.state === 'ended' || S.state === 'idle') return false;
    connectionLost();
    return true;
  },
}, { pingEveryMs: 15000, deadAfterMs: 45000 });

function send(frame) {
  return socket.send(frame);
}

// This socket's proof-of-work challenge and its solution, when the server asks for one.
const proof = { challenge: null, nonce: null };

function helloFrame() {
  const frame = { type: 'hello', v: 1, language: S.lang, intake: forms.helloIntake() };
  if (proof.nonce) frame.proof = proof.nonce;
  return frame;
}

// A new socket's challenge: solve it, then (re)send the hello it was asked for.
async function onChallenge(f) {
  proof.challenge = f.challenge;
  proof.nonce = null;
  const nonce = await solve(f.challenge, f.bits);
  if (proof.challenge !== f.challenge) return;
  proof.nonce = nonce;
  if (S.state === 'starting' && !S.token) send(helloFrame());
}

function resumeFrame() {
  return { type: 'resume', v: 1, token: S.token, last_seq: S.lastSeq };
}

function connectionLost() {
  $('conn-banner').hidden = false;
  stopTyping();
  hideTheirTyping();
}

// --- frames

function handle(f) {
  switch (f.type) {
    case 'challenge':
      onChallenge(f);
      break;
    case 'welcome':
      S.token = f.token;
      try { sessionStorage.setItem(TOKEN_KEY, f.token); } catch (_) { /* private mode */ }
      $('conn-banner').hidden = true;
      if (S.state === 'starting') S.state = 'queued';
      forms.sendIntake(f.token);
      resendPending();
      break;
    case 'queued':
      // Back in the queue (a transfer, a lost advocate): nobody is typing any more.
      S.state = 'queued';
      S.advocate = null;
      hideTheirTyping();
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
  // The frame's contacts are in the default language: the page shows its own.
  const reason = ['no_advocates', 'outside_hours', 'queue_full', 'busy'].includes(f.reason) ? f.reason : 'no_advocates';
  setT($('offline-reason'), `offline_${reason}`);
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
      // The server names the message and when to try again.
      if (f.id) setTimeout(resendPending, f.retry_after_ms > 0 ? f.retry_after_ms : 2000);
      break;
    case 'not_assigned':
    case 'already_started':
    case 'proof_required':
      // The hello that raced the challenge: it goes again once the challenge is solved.
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
  place(li, seq, from === 'chatter');
  if (from === 'advocate') countUnread();
  return li;
}

function atBottom() {
  const box = $('log-scroll');
  return box.scrollHeight - box.scrollTop - box.clientHeight < 40;
}

function toBottom() {
  const box = $('log-scroll');
  box.scrollTop = box.scrollHeight;
  S.unseen = 0;
  $('new-messages').hidden = true;
}

// A line's place: its seq; a note follows the lines seen before it; unacked lines come last.
function orderOf(li) {
  if (li.dataset.seq) return Number(li.dataset.seq);
  if (li.dataset.order) return Number(li.dataset.order);
  return Infinity;
}

function insertInOrder(li) {
  const log = $('log');
  const mine = orderOf(li);
  let before = null;
  if (mine !== Infinity) {
    for (const other of log.children) {
      if (other !== li && orderOf(other) > mine) { before = other; break; }
    }
  }
  if (li.nextSibling !== before || li.parentNode !== log) log.insertBefore(li, before);
}

// Keeps the view still while the person reads back (a pill counts what is new instead).
function place(li, seq, mine) {
  const reading = !atBottom();
  if (seq) li.dataset.seq = String(seq);
  insertInOrder(li);
  if (!reading || mine) {
    toBottom();
  } else {
    S.unseen += 1;
    setT($('new-messages'), 'new_messages', { count: S.unseen });
    $('new-messages').hidden = false;
  }
}

// Widget: counts (never text) of advocate lines while the panel is minimised or hidden.
function countUnread() {
  if (S.inWidget && (!S.widgetOpen || document.hidden)) setUnread(S.unread + 1);
}

function setUnread(n) {
  S.unread = n;
  if (S.inWidget) {
    try { window.parent.postMessage({ type: 'haven:unread', count: n }, '*'); } catch (_) { /* */ }
  }
}

function addSystem(key, vars) {
  const li = document.createElement('li');
  li.className = 'msg msg-note';
  li.dataset.testid = 'system-note';
  const p = document.createElement('p');
  p.className = 'text';
  setT(p, key, vars);
  li.append(p);
  li.dataset.order = String(S.lastSeq + 0.5);
  place(li, 0, false);
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
        setSeq(p.li, f.seq);
        setState(p.li, 'sent');
        S.pending.delete(id);
        return;
      }
    }
    const li = addLine('chatter', f.text, f.at, f.seq);
    setState(li, 'sent');
    return;
  }
  hideTheirTyping();
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
  lines_dropped: 'sys_lines_dropped',
};

function onAck(f) {
  const p = S.pending.get(f.id);
  if (typeof f.seq === 'number') {
    if (f.seq > S.lastSeq) S.lastSeq = f.seq;
    S.seen.add(f.seq);
  }
  if (!p) return;
  S.pending.delete(f.id);
  setSeq(p.li, f.seq);
  setState(p.li, 'sent');
}

// A line that learnt its seq moves to its place among the others.
function setSeq(li, seq) {
  li.dataset.seq = String(seq);
  insertInOrder(li);
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

// --- typing

function onInput() {
  if (S.escArmed) {
    S.escArmed = false;
    notice('');
  }
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

// --- start / end

function startChat() {
  notice('');
  S.state = 'starting';
  S.token = null;
  S.lastSeq = 0;
  S.seen.clear();
  S.pending.clear();
  S.advocate = null;
  S.unseen = 0;
  $('new-messages').hidden = true;
  $('log').replaceChildren();
  $('queue-info').hidden = true;
  hideTheirTyping();
  setT($('chat-title'), 'connecting');
  show('screen-chat');
  $('message').focus();
  if (!send(helloFrame())) socket.start();
}

function resumeChat() {
  S.state = 'starting';
  setT($('chat-title'), 'connecting');
  show('screen-chat');
  $('message').focus();
  socket.start();
}

function forgetToken() {
  S.token = null;
  try { sessionStorage.removeItem(TOKEN_KEY); } catch (_) { /* */ }
}

function endChat(reasonKey) {
  const token = S.token; // for the exit survey, never after a purge
  S.state = 'ended';
  forgetToken();
  stopTyping();
  hideTheirTyping();
  S.pending.clear();
  $('conn-banner').hidden = true;
  $('confirm-end').hidden = true;
  $('end-chat').hidden = false;
  socket.stop();
  setT($('ended-reason'), reasonKey);
  forms.offerSurvey($('ended-form'), reasonKey === 'ended_purged' ? null : token);
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
  setUnread(0);
  endChat('ended_chatter_left');
}

// --- boot

function wire() {
  $('start').addEventListener('click', startChat);
  $('retry-chat').addEventListener('click', startChat);
  $('new-chat').addEventListener('click', () => {
    showStart();
    refreshDuty();
  });
  $('composer').addEventListener('submit', sendMessage);
  $('message').addEventListener('input', onInput);
  $('message').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) sendMessage(e);
  });
  $('end-chat').addEventListener('click', askEnd);
  $('confirm-end-no').addEventListener('click', cancelEnd);
  $('confirm-end-yes').addEventListener('click', confirmEnd);
  $('reload').addEventListener('click', () => location.reload());
  $('resume-continue').addEventListener('click', resumeChat);
  $('resume-leave').addEventListener('click', () => quickExit());
  $('new-messages').addEventListener('click', toBottom);
  $('log-scroll').addEventListener('scroll', () => {
    if (atBottom()) {
      S.unseen = 0;
      $('new-messages').hidden = true;
    }
  });
  // The page is as tall as the visible area, so the composer stays above the keyboard.
  const vv = window.visualViewport;
  if (vv) {
    const fit = () => {
      const keep = atBottom();
      // × scale: a pinch-zoom must not shrink the layout.
      document.documentElement.style.setProperty('--app-h', `${Math.round(vv.height * vv.scale)}px`);
      if (keep) $('log-scroll').scrollTop = $('log-scroll').scrollHeight;
    };
    vv.addEventListener('resize', fit);
    fit();
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && S.widgetOpen) setUnread(0);
  });
  $('language').addEventListener('change', async (e) => {
    try {
      await loadStrings(e.target.value);
    } catch (_) {
      e.target.value = S.lang;
    }
  });
  for (const id of ['offline-title', 'ended-title', 'resume-title']) $(id).tabIndex = -1;
}

async function getConfig() {
  const res = await fetch('/api/public/config', { credentials: 'omit', cache: 'no-store' });
  if (!res.ok) throw new Error(`config ${res.status}`);
  return res.json();
}

async function boot() {
  wire();
  try {
    S.config = await getConfig();
  } catch (_) {
    $('load-failed').hidden = false;
    return;
  }
  const c = S.config;
  if (typeof c.quick_exit_url === 'string' && /^https?:\/\//i.test(c.quick_exit_url)) {
    S.exitUrl = c.quick_exit_url;
    $('quick-exit').href = c.quick_exit_url;
  }
  if (c.page) {
    S.forgetOnPagehide = c.page.forget_on_pagehide !== false;
    if (['always', 'unless_typing', 'off'].includes(c.page.escape_key)) S.escapeKey = c.page.escape_key;
  }
  if (S.inWidget) {
    // The host page needs the neutral site for its own Quick exit (minimised, Shift ×3).
    try { window.parent.postMessage({ type: 'haven:exit-url', url: S.exitUrl }, '*'); } catch (_) { /* */ }
  }
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
  forms.offerIntake($('start-form'), startChat);
  let token = null;
  try { token = sessionStorage.getItem(TOKEN_KEY); } catch (_) { /* */ }
  if (token) {
    // A reload, Back, a restored tab: someone else may hold the phone. Nothing until chosen.
    S.token = token;
    show('screen-resume');
    $('resume-title').focus();
  } else {
    showStart();
  }
}

boot();
