// Small DOM and formatting helpers shared by the console's modules.

export const $ = (id) => document.getElementById(id);

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** "42 s", "3 min", "1 h 5 min" since a Unix-ms time. */
export function since(ms) {
  const s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function clock(at) {
  return new Date(at || Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function humanKey(k) {
  const s = String(k).replace(/[_-]+/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Shows a chatter's intake answers (keys as given by the program's form). */
export function fillIntake(dl, intake) {
  dl.replaceChildren();
  const entries = intake && typeof intake === 'object' ? Object.entries(intake) : [];
  for (const [k, v] of entries) dl.append(el('dt', '', humanKey(k)), el('dd', '', String(v)));
  dl.hidden = entries.length === 0;
}

// Live "waiting for" counters: any element with data-since.
setInterval(() => {
  for (const w of document.querySelectorAll('[data-since]')) w.textContent = since(Number(w.dataset.since));
}, 1000);
