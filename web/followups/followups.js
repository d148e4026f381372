// /followups: the emails people left for a follow-up, for the role the program configured.
// Marking one done erases it at once (POST /api/followups/{id}/done).

import { api, deny, SignedOut, startSession } from '/stats/session.js';

const $ = (id) => document.getElementById(id);

function problem(text) {
  $('followups-error').textContent = text || '';
  $('followups-error').hidden = !text;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  return e;
}

function render(list) {
  const ul = $('followups');
  ul.replaceChildren();
  for (const f of list) {
    const li = el('li');
    li.dataset.testid = 'followup';
    const email = el('span', 'email', f.email);
    const purpose = el('span', 'purpose', f.purpose || '');
    const expires = el('span', 'muted', `Erased on ${f.expires_on}`);
    const done = el('button', 'btn done', 'Done: erase');
    done.type = 'button';
    done.setAttribute('aria-label', `Done: erase ${f.email}`);
    done.addEventListener('click', () => markDone(f, done));
    li.append(email, purpose, expires, done);
    ul.append(li);
  }
  $('followups-status').textContent = list.length
    ? `${list.length} follow-up request${list.length === 1 ? '' : 's'}.`
    : 'No follow-up requests.';
}

async function load() {
  problem('');
  try {
    const res = await api('/api/followups');
    if (res.status === 403) {
      deny(); // only the role the program configured for follow-ups (and admins) may
      return;
    }
    if (!res.ok) {
      problem(`The follow-up requests could not be loaded (${res.status}).`);
      return;
    }
    const body = await res.json();
    render(body.followups || []);
  } catch (e) {
    if (!(e instanceof SignedOut)) problem('Haven could not be reached. Check the connection and try again.');
  }
}

async function markDone(f, button) {
  button.disabled = true;
  problem('');
  try {
    const res = await api(`/api/followups/${encodeURIComponent(f.id)}/done`, { method: 'POST' });
    if (!res.ok && res.status !== 404) {
      problem(`That request could not be marked done (${res.status}).`);
      button.disabled = false;
      return;
    }
  } catch (e) {
    if (!(e instanceof SignedOut)) problem('Haven could not be reached. Check the connection and try again.');
    button.disabled = false;
    return;
  }
  await load();
  $('followups-status').textContent = `Erased. ${$('followups-status').textContent}`;
}

startSession(null, load, () => {
  $('followups').replaceChildren();
  $('followups-status').textContent = '';
  problem('');
});
