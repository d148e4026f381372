// Signing in and out. A session that ends while chats are open (expiry, logout elsewhere)
// brings the sign-in form over the page without discarding anything: chats, drafts and the
// open tab stay in memory and reconnect after signing in again. Roles without a console
// (evaluators) are sent to their own page, never into a reconnect loop.

import { $ } from './dom.js';
import { t } from './i18n.js';
import { S, canChat } from './state.js';
import { unlockAudio } from './alerts.js';

let hooks = { connect() {}, forget() {} };

/** `connect` opens the socket; `forget` drops every chat (another person signed in). */
export function sessionHooks(h) {
  hooks = h;
}

export function showLogin(expired) {
  $('login-view').hidden = false;
  $('app-view').hidden = true;
  $('me-bar').hidden = true;
  $('no-console').hidden = true;
  $('login-expired').hidden = !expired;
  $('login-error').hidden = true;
  $('password').value = '';
  $('code').value = '';
  $('code-row').hidden = true;
  if (S.me && expired) $('username').value = S.me.username;
  ($('username').value ? $('password') : $('username')).focus();
}

export function showApp() {
  $('login-view').hidden = true;
  $('no-console').hidden = true;
  $('app-view').hidden = false;
  $('me-bar').hidden = false;
}

/** A signed-in role without a console: evaluators go to /stats; anyone else is told so. */
export function noConsole() {
  if (S.socket) S.socket.stop();
  if (S.me && S.me.role === 'evaluator') {
    location.replace('/stats');
    return;
  }
  $('login-view').hidden = true;
  $('app-view').hidden = true;
  $('me-bar').hidden = true;
  $('no-console').hidden = false;
  $('no-console-title').focus();
}

function loginError(text) {
  const p = $('login-error');
  p.textContent = text;
  p.hidden = false;
}

/** Connects when this person may use the console, else shows where they belong. */
export function enter() {
  // A temporary password to replace or a required second factor to set up: the account page
  // does both, then sends the person back here.
  if (S.me && (S.me.must_change_password || S.me.needs_second_factor)) {
    location.replace('/admin?then=console');
    return;
  }
  if (!canChat(S.me && S.me.role)) {
    noConsole();
    return;
  }
  hooks.connect();
}

async function login(e) {
  e.preventDefault();
  unlockAudio();
  const username = $('username').value.trim();
  const password = $('password').value;
  if (!username || !password) {
    loginError(t('err_missing'));
    return;
  }
  const credentials = { username, password };
  const code = $('code').value.trim();
  if (!$('code-row').hidden && code) credentials.code = code;
  $('login-submit').disabled = true;
  try {
    const res = await fetch('/api/staff/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
      credentials: 'same-origin',
    });
    if (!res.ok) {
      let body = {};
      try { body = await res.json(); } catch (_) { /* not JSON */ }
      const key = `err_${body.code}`;
      const text = t(key) !== key ? t(key) : body.message || t('err_signin_status', { status: res.status });
      // The password was right; the account asks for its second factor too.
      if (body.code === 'second_factor_required' || body.code === 'invalid_second_factor') {
        $('code-row').hidden = false;
        $('code').value = '';
        if (body.code === 'invalid_second_factor') loginError(text);
        else $('login-error').hidden = true;
        $('code').focus();
        return;
      }
      loginError(text);
      $('password').select();
      return;
    }
    const me = await res.json();
    if (S.me && S.me.id !== me.id) hooks.forget();
    S.me = me;
    $('password').value = '';
    $('code').value = '';
    $('code-row').hidden = true;
    S.expired = false;
    S.replaced = false;
    enter();
  } catch (_) {
    loginError(t('err_network'));
  } finally {
    $('login-submit').disabled = false;
  }
}

async function logout() {
  S.loggingOut = true;
  try {
    await fetch('/api/staff/logout', { method: 'POST', credentials: 'same-origin' });
  } catch (_) { /* the local state goes anyway */ }
  if (S.socket) S.socket.stop();
  hooks.forget();
  S.me = null;
  S.loggingOut = false;
  $('username').value = '';
  showLogin(false);
}

/** 'in' (S.me filled), 'out', or 'unknown' (Haven unreachable). */
export async function checkSession() {
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

export function wireSession() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('no-console-logout').addEventListener('click', logout);
}
