// The staff session for the small staff pages (/stats, /followups): the login form when Haven
// says 401, a "not for your role" view, and Logout on every view once signed in. The markup
// (ids login-view, login-form, username, password, login-error, login-submit, denied-view,
// me-bar, me-name, logout) is the same on each page.

const $ = (id) => document.getElementById(id);

const TEXT = {
  missing: 'Enter your user name and password.',
  invalid_credentials: 'Wrong user name or password.',
  too_many_requests: 'Too many sign-in attempts. Wait a few minutes and try again.',
  network: 'Haven could not be reached. Check the connection and try again.',
};

/** Thrown by `api` when the session has ended, so the page shows the login form. */
export class SignedOut extends Error {}

/** JSON from Haven with the session cookie; 401 shows the login form again. */
export async function api(path, options = {}) {
  const res = await fetch(path, { credentials: 'same-origin', cache: 'no-store', ...options });
  if (res.status === 401) {
    showLogin();
    throw new SignedOut('signed out');
  }
  return res;
}

let onSignedIn = () => {};
let onSignedOut = () => {};
let roles = null;

function show(view) {
  for (const id of ['login-view', 'denied-view', 'app-view']) $(id).hidden = id !== view;
}

function showLogin() {
  onSignedOut();
  $('me-bar').hidden = true;
  show('login-view');
  $('username').focus();
}

/** Haven refused this account (403): say so, keeping Logout on screen. */
export function deny() {
  show('denied-view');
  $('denied-title').focus();
}

function signedIn(me) {
  $('me-name').textContent = `${me.display_name} (${me.role})`;
  $('me-bar').hidden = false;
  if (roles && !roles.includes(me.role)) {
    deny();
    return;
  }
  show('app-view');
  onSignedIn(me);
}

async function login(e) {
  e.preventDefault();
  const error = $('login-error');
  const username = $('username').value.trim();
  const password = $('password').value;
  error.hidden = true;
  if (!username || !password) {
    error.textContent = TEXT.missing;
    error.hidden = false;
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
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      error.textContent = TEXT[body.code] || body.message || `Sign-in failed (${res.status}).`;
      error.hidden = false;
      $('password').select();
      return;
    }
    $('password').value = '';
    signedIn(body);
  } catch (_) {
    error.textContent = TEXT.network;
    error.hidden = false;
  } finally {
    $('login-submit').disabled = false;
  }
}

async function logout() {
  try {
    await fetch('/api/staff/logout', { method: 'POST', credentials: 'same-origin' });
  } catch (_) { /* the session ends on the server anyway when it expires */ }
  showLogin();
}

/**
 * Start the page: `allowed` roles (null: any, the server decides) see the app view and
 * `ready(me)` runs; others see the denied view. `wipe()` runs whenever the session ends, to clear what was on screen.
 */
export async function startSession(allowed, ready, wipe) {
  roles = allowed;
  onSignedIn = ready;
  onSignedOut = wipe;
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  try {
    const res = await fetch('/api/staff/me', { credentials: 'same-origin', cache: 'no-store' });
    if (res.ok) {
      signedIn(await res.json());
      return;
    }
  } catch (_) { /* show the login form */ }
  showLogin();
}
