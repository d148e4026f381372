// /forget: a chatter erases a form submission with its deletion code. Anonymous: no cookie, no
// storage, `credentials: 'omit'`. Haven answers the same neutral sentence whether or not the
// code matched (no oracle), and so does this page.

const $ = (id) => document.getElementById(id);
const NET = { credentials: 'omit', cache: 'no-store' };
let strings = {};
let exitUrl = 'about:blank';

const t = (key) => (typeof strings[key] === 'string' ? strings[key] : key);

function quickExit(e) {
  if (e) e.preventDefault();
  document.title = '';
  document.body.replaceChildren();
  location.replace(exitUrl);
}

async function loadStrings(lang) {
  const res = await fetch(`/forget/i18n/${encodeURIComponent(lang)}.json`, NET);
  if (!res.ok) throw new Error(`strings ${res.status}`);
  strings = await res.json();
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.title = t('title');
  const answer = $('answer');
  if (answer.dataset.key) answer.textContent = t(answer.dataset.key);
}

function say(key, text) {
  const answer = $('answer');
  answer.dataset.key = text ? '' : key;
  answer.textContent = text || t(key);
  answer.hidden = false;
}

async function submit(e) {
  e.preventDefault();
  const input = $('code');
  const code = input.value.trim();
  if (!code) {
    say('empty');
    input.focus();
    return;
  }
  $('forget-submit').disabled = true;
  try {
    const res = await fetch('/api/forget', {
      ...NET,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    if (res.ok) {
      // The code leaves the screen: nothing of it stays for the next person at this device.
      input.value = '';
      say('done');
    } else if (res.status === 429) {
      say('too_many');
    } else {
      say('failed');
    }
  } catch (_) {
    say('failed');
  } finally {
    $('forget-submit').disabled = false;
  }
}

function pick(available) {
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const lower = String(tag).toLowerCase();
    if (available.includes(lower)) return lower;
    if (available.includes(lower.split('-')[0])) return lower.split('-')[0];
  }
  return available[0] || 'en';
}

async function boot() {
  $('quick-exit').addEventListener('click', quickExit);
  window.addEventListener('keydown', (e) => { if (e.key === 'Escape') quickExit(e); }, true);
  $('forget-form').addEventListener('submit', submit);
  let config = {};
  try {
    const res = await fetch('/api/public/config', NET);
    if (res.ok) config = await res.json();
  } catch (_) { /* the page works in English without it */ }
  if (typeof config.quick_exit_url === 'string' && /^https?:\/\//i.test(config.quick_exit_url)) {
    exitUrl = config.quick_exit_url;
    $('quick-exit').href = exitUrl;
  }
  $('program-name').textContent = config.program_name || '';
  const languages = Array.isArray(config.languages) && config.languages.length ? config.languages : ['en'];
  const select = $('language');
  for (const code of languages) {
    const o = document.createElement('option');
    o.value = code;
    o.lang = code;
    try { o.textContent = new Intl.DisplayNames([code], { type: 'language' }).of(code); } catch (_) { o.textContent = code; }
    select.append(o);
  }
  select.closest('.lang').hidden = languages.length < 2;
  select.addEventListener('change', () => loadStrings(select.value).catch(() => {}));
  const lang = pick(languages);
  select.value = lang;
  await loadStrings(lang).catch(() => loadStrings('en').catch(() => {}));
}

boot();
