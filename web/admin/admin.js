// Haven admin page: staff accounts, the audit log and (settings.js) the settings admins edit,
// over /api/admin/* (docs/protocol.md). Built with DOM calls only (no innerHTML), so no name or
// user name can become markup.

import { $, api, el, hooks } from './common.js';
import { loadSettings } from './settings.js';

const ROLES = ['advocate', 'supervisor', 'evaluator', 'admin'];

function show(view) {
  for (const id of ['login-view', 'password-view', 'enrol-view', 'recovery-view', 'forbidden-view', 'admin-view']) {
    $(id).hidden = id !== view;
  }
}

function status(text) {
  $('status').textContent = text;
}

hooks.unauthorized = () => show('login-view');

async function start() {
  const me = await api('GET', '/api/staff/me');
  if (!me.ok) return show('login-view');
  enter(me.data);
}

function enter(me) {
  $('me-bar').hidden = false;
  $('me-name').textContent = me.display_name;
  if (me.must_change_password) return show('password-view');
  if (me.needs_second_factor) return startEnrolment(true);
  if (me.role !== 'admin') {
    // Sent here from the console for a required step, which is now done: back to work.
    if (new URLSearchParams(location.search).get('then') === 'console') return location.replace('/console');
    return show('forbidden-view');
  }
  show('admin-view');
  loadStaff();
  loadAudit();
  loadSecurity();
  loadSettings({ status, changed: loadAudit });
}

async function startEnrolment(required) {
  const res = await api('POST', '/api/staff/2fa/setup', {});
  if (!res.ok) return status(res.data?.message || 'Could not start the set-up.');
  // The QR code is Haven's own SVG, shown as an image (never as markup).
  $('enrol-qr').src = 'data:image/svg+xml;base64,' + btoa(res.data.qr_svg);
  $('enrol-secret').textContent = res.data.secret;
  $('enrol-required').hidden = !required;
  $('enrol-error').textContent = '';
  show('enrol-view');
  $('enrol-code').focus();
}

async function loadSecurity() {
  const res = await api('GET', '/api/admin/settings/security');
  if (!res.ok) return;
  for (const box of document.querySelectorAll('input[name=require-2fa]')) {
    box.checked = res.data.require_2fa_roles.includes(box.value);
  }
}

async function loadStaff() {
  const res = await api('GET', '/api/admin/staff');
  if (!res.ok) return status(res.data?.message || 'Could not load the staff list.');
  const rows = $('staff-rows');
  rows.replaceChildren(...res.data.map(staffRow));
}

function staffRow(s) {
  const role = el('select', { 'aria-label': `Role of ${s.username}`, 'data-testid': 'role' });
  for (const r of ROLES) role.append(el('option', { value: r, text: r }));
  role.value = s.role;
  role.addEventListener('change', () => act(s, 'role', { role: role.value }, `Role of ${s.username} changed; their sessions ended.`));
  const name = el('input', { value: s.display_name, 'aria-label': `Display name of ${s.username}`, 'data-testid': 'display-name' });
  const max = el('input', { type: 'number', min: '0', max: '20', value: String(s.max_chats), 'aria-label': `Max chats of ${s.username} (0: default)`, 'data-testid': 'max-chats' });
  const state = s.disabled ? 'Disabled' : s.online ? `Online${s.available ? ', available' : ''}, ${s.load} chat(s)` : 'Offline';
  const actions = el('div', { class: 'actions' },
    el('button', { type: 'button', class: 'btn btn-small', text: 'Save', 'data-testid': 'save-profile',
      onclick: () => act(s, 'profile', { display_name: name.value, max_chats: Number(max.value) }, `Saved ${s.username}.`) }),
    s.disabled
      ? el('button', { type: 'button', class: 'btn btn-small', text: 'Enable', 'data-testid': 'enable',
          onclick: () => act(s, 'enable', {}, `${s.username} is enabled.`) })
      : el('button', { type: 'button', class: 'btn btn-small btn-danger', text: 'Disable', 'data-testid': 'disable',
          onclick: confirmFirst(`Confirm: disable ${s.username}`, () => act(s, 'disable', {}, `${s.username} is disabled; their sessions ended and their chats went back to the queue.`)) }),
    el('button', { type: 'button', class: 'btn btn-small', text: 'Reset password', 'data-testid': 'reset',
      onclick: confirmFirst(`Confirm: new password for ${s.username}`, () => reset(s)) }),
    el('button', { type: 'button', class: 'btn btn-small', text: 'End sessions', 'data-testid': 'revoke',
      onclick: () => act(s, 'revoke-sessions', {}, `Every session of ${s.username} ended.`) }),
  );
  if (s.totp_enabled) {
    actions.append(el('button', { type: 'button', class: 'btn btn-small', text: 'Reset two-step', 'data-testid': 'reset-2fa',
      onclick: confirmFirst(`Confirm: remove ${s.username}'s two-step sign-in`, () => act(s, 'reset-2fa', {}, `${s.username} must set up two-step sign-in again if required.`)) }));
  }
  return el('tr', { 'data-username': s.username, 'data-id': s.id },
    el('td', { text: s.username }),
    el('td', {}, name),
    el('td', {}, role),
    el('td', {}, max),
    el('td', { text: state, class: s.disabled ? 'state-off' : '', 'data-testid': 'state' }),
    el('td', {}, actions));
}

// A button that asks for a second click (with a clear label) before it does something that
// cannot be undone; no browser dialog.
function confirmFirst(label, action) {
  return (event) => {
    const button = event.currentTarget;
    if (button.dataset.armed === 'yes') return action();
    button.dataset.armed = 'yes';
    button.textContent = label;
  };
}

async function act(s, what, body, done) {
  const res = await api('POST', `/api/admin/staff/${s.id}/${what}`, body);
  status(res.ok ? done : (res.data?.message || 'That did not work.'));
  loadStaff();
  loadAudit();
}

function showTemporary(username, password) {
  const box = $('temporary');
  box.replaceChildren(
    `Temporary password for ${username} (shown once; hand it over in person or by phone; it must be changed at the first login): `,
    el('code', { text: password, 'data-testid': 'temporary-password' }));
  box.hidden = false;
}

async function reset(s) {
  const res = await api('POST', `/api/admin/staff/${s.id}/reset-password`, {});
  if (!res.ok) return status(res.data?.message || 'That did not work.');
  showTemporary(s.username, res.data.temporary_password);
  status(`New temporary password for ${s.username}; their sessions ended.`);
  loadAudit();
}

async function loadAudit() {
  const action = $('audit-action').value;
  const query = action ? `?action=${encodeURIComponent(action)}` : '';
  const res = await api('GET', `/api/admin/audit${query}`);
  if (!res.ok) return;
  const byId = new Map([...$('staff-rows').querySelectorAll('tr')].map((tr) => [tr.dataset.id, tr.dataset.username]));
  $('audit-rows').replaceChildren(...res.data.map((e) => el('tr', { 'data-testid': 'audit-row' },
    el('td', { text: new Date(e.at * 1000).toISOString().replace('T', ' ').slice(0, 19) }),
    el('td', { text: e.action }),
    el('td', { text: e.actor ? (byId.get(e.actor) || e.actor) : '—' }),
    el('td', { text: e.target ? (byId.get(e.target) || e.target) : '' }),
    el('td', { text: e.attempted_username || '' }),
    el('td', { text: e.detail || '' }))));
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { username: $('username').value, password: $('password').value };
  if (!$('code-row').hidden && $('code').value.trim()) body.code = $('code').value.trim();
  const res = await api('POST', '/api/staff/login', body);
  if (!res.ok) {
    // Ask for the second step, keeping the password for the next submit.
    if (res.data?.code === 'second_factor_required') {
      $('code-row').hidden = false;
      $('code').focus();
    } else {
      $('password').value = '';
    }
    $('code').value = '';
    $('login-error').textContent = res.data?.message || 'Sign-in failed.';
    return;
  }
  $('password').value = '';
  $('code').value = '';
  $('code-row').hidden = true;
  $('login-error').textContent = '';
  enter(res.data);
});

$('enrol-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const res = await api('POST', '/api/staff/2fa/confirm', { code: $('enrol-code').value.trim() });
  $('enrol-code').value = '';
  if (!res.ok) {
    $('enrol-error').textContent = res.data?.message || 'That did not work.';
    return;
  }
  $('recovery-codes').replaceChildren(...res.data.recovery_codes.map((c) => el('li', { text: c })));
  show('recovery-view');
});

$('recovery-done').addEventListener('click', () => {
  $('recovery-codes').replaceChildren();
  start();
});

$('setup-2fa').addEventListener('click', () => startEnrolment(false));

$('security-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const roles = [...document.querySelectorAll('input[name=require-2fa]:checked')].map((b) => b.value);
  const res = await api('POST', '/api/admin/settings/security', { require_2fa_roles: roles });
  status(res.ok ? 'Saved: the roles checked must use two-step sign-in from now on.' : (res.data?.message || 'That did not work.'));
  loadAudit();
});

$('password-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const res = await api('POST', '/api/staff/password', {
    current_password: $('current-password').value, new_password: $('new-password').value });
  if (!res.ok) {
    $('password-error').textContent = res.data?.message || 'That did not work.';
    return;
  }
  $('current-password').value = '';
  $('new-password').value = '';
  start();
});

$('add-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const username = $('add-username').value.trim();
  const res = await api('POST', '/api/admin/staff', {
    username, display_name: $('add-display').value, role: $('add-role').value });
  if (!res.ok) return status(res.data?.message || 'That did not work.');
  showTemporary(username, res.data.temporary_password);
  status(`Added ${username}.`);
  $('add-username').value = '';
  $('add-display').value = '';
  loadStaff();
  loadAudit();
});

$('audit-form').addEventListener('submit', (event) => {
  event.preventDefault();
  loadAudit();
});

$('audit-export').addEventListener('click', async () => {
  const action = $('audit-action').value;
  const res = await api('POST', '/api/admin/audit/export', action ? { action } : {});
  if (!res.ok) return status('The export did not work.');
  const url = URL.createObjectURL(await res.res.blob());
  const link = el('a', { href: url, download: 'haven-audit.csv' });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
  status('Audit log exported.');
  loadAudit();
});

$('logout').addEventListener('click', async () => {
  await api('POST', '/api/staff/logout');
  $('me-bar').hidden = true;
  show('login-view');
});

start();
