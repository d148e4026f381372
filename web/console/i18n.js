// The console's own words, one JSON file per language in /console/i18n/. `t(key, vars)` looks a
// string up in the chosen language, falling back to English; `{name}` placeholders are filled
// from `vars`. Static HTML marks its strings with data-i18n (text), data-i18n-label
// (aria-label) and data-i18n-title (title), filled by `applyStatic`.

export const LANGUAGES = { en: 'English', es: 'Español' };

const loaded = {};
let current = 'en';

async function load(lang) {
  if (loaded[lang]) return loaded[lang];
  const res = await fetch(`/console/i18n/${lang}.json`, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`language ${lang}: ${res.status}`);
  loaded[lang] = await res.json();
  return loaded[lang];
}

/** The first of the browser's languages the console has, else English. */
export function preferred() {
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES[base]) return base;
  }
  return 'en';
}

export function language() {
  return current;
}

export async function setLanguage(lang) {
  const want = LANGUAGES[lang] ? lang : 'en';
  await load('en');
  try { await load(want); current = want; } catch (_) { current = 'en'; }
  document.documentElement.lang = current;
  applyStatic();
}

export function t(key, vars) {
  const table = loaded[current] || {};
  let s = table[key] ?? (loaded.en || {})[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function applyStatic(root = document) {
  for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll('[data-i18n-label]')) e.setAttribute('aria-label', t(e.dataset.i18nLabel));
  for (const e of root.querySelectorAll('[data-i18n-title]')) e.title = t(e.dataset.i18nTitle);
  document.title = t('title');
}
