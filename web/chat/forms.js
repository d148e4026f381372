// Voluntary intake form and exit survey. Answers stay in memory until posted. Texts from
// /api/public/forms; the page's own words from #form-words (data-i18n).

const $ = (id) => document.getElementById(id);
const w = (k) => { const e = document.querySelector(`#form-words [data-i18n="${k}"]`); return e ? e.textContent : k; };
const cache = {};
const NET = { credentials: 'omit', cache: 'no-store' };
const open = {}; // form kind -> redraw
let pending = null; // intake waiting for a token
let startChat = () => {};
let intakeSlot = null;

function h(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k in e && typeof e[k] === typeof v) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
}

function load() {
  const l = document.documentElement.lang || 'en';
  cache[l] = cache[l] || fetch(`/api/public/forms?lang=${encodeURIComponent(l)}`, NET)
    .then((r) => (r.ok ? r.json() : {})).catch(() => ({}))
    .then((j) => { if (!j.intake && !j.survey) delete cache[l]; return j; });
  return cache[l];
}

const a = (href, key) => h('a', { href, target: '_blank', rel: 'noopener noreferrer', text: w(key) });
const links = (privacy) => h('p', {}, a(privacy || '/privacy', 'form_privacy'), ' · ', a('/forget', 'form_forget'));
const btn = (text, className = 'btn', type = 'button') => h('button', { type, className, text });
const idOf = (f, q, o) => `f-${f.form}-${q.id}${o ? `-${o.id}` : ''}`.replace(/[^\w-]/g, '_');

function build(f, privacy, onSubmit, onSkip) {
  const el = h('form', { id: `form-${f.form}`, className: 'f-form', autocomplete: 'off', noValidate: true, 'aria-labelledby': `f-${f.form}` },
    h('h2', { id: `f-${f.form}`, tabIndex: -1, text: f.title }), h('p', { text: f.intro }), h('p', { className: 'f-note', text: f.kept_note }));
  for (const q of f.questions) {
    const n = idOf(f, q);
    const hint = q.hint ? h('p', { id: `${n}-h`, className: 'f-note', text: q.hint }) : '';
    const err = h('p', { id: `${n}-e`, className: 'f-err', hidden: true });
    const by = `${hint ? `${n}-h ` : ''}${n}-e`;
    let box;
    if (q.options && q.options.length) {
      const opts = h('div', { className: `f-opts f-${q.kind}` });
      for (const o of q.options) {
        opts.append(h('label', { className: 'f-opt' },
          h('input', { type: q.kind === 'multi' ? 'checkbox' : 'radio', name: n, id: idOf(f, q, o), value: o.id }), ` ${o.label}`));
      }
      box = h('fieldset', { 'aria-describedby': by }, h('legend', { text: q.label }), hint, opts, err);
    } else {
      const input = h('input', {
        id: n, name: n, type: q.kind === 'email' ? 'email' : 'text', className: 'f-text', 'aria-describedby': by,
        maxLength: q.max_len || 10, inputMode: q.kind === 'zip' ? 'numeric' : null, spellcheck: 'false',
      });
      box = h('div', {}, h('label', { htmlFor: n, text: q.label }), hint, input, err);
    }
    box.className = 'f-q';
    box.dataset.q = q.id;
    el.append(box);
  }
  const skip = btn(f.skip, 'btn f-skip');
  skip.onclick = onSkip;
  el.append(h('p', { className: 'f-err f-alert', role: 'alert' }), h('div', { className: 'f-buttons' },
    btn(f.submit, 'btn', 'submit'), skip), links(privacy));
  el.onsubmit = (e) => {
    e.preventDefault();
    const answers = collect(el, f);
    if (answers) onSubmit(answers);
  };
  return el;
}

function fieldError(el, q, msg) {
  const box = el.querySelector(`[data-q="${CSS.escape(q)}"]`);
  if (box) {
    Object.assign(box.querySelector('.f-err'), { textContent: msg, hidden: false });
    box.querySelectorAll('input').forEach((i) => i.setAttribute('aria-invalid', 'true'));
    box.querySelector('input').focus();
  }
  el.querySelector('.f-alert').textContent = msg;
  return !!box;
}

// The answers in the API's shape, or null (errors shown).
function collect(el, f) {
  el.querySelectorAll('.f-q .f-err').forEach((e) => { e.hidden = true; });
  el.querySelectorAll('input').forEach((e) => e.removeAttribute('aria-invalid'));
  const answers = {};
  let ok = true;
  for (const q of f.questions) {
    const inputs = [...el.querySelectorAll(`[name="${idOf(f, q)}"]`)];
    const chosen = inputs.filter((i) => i.checked).map((i) => i.value);
    if (q.options && q.options.length) {
      if (chosen.length) answers[q.id] = q.kind === 'multi' ? chosen : chosen[0];
      continue;
    }
    const v = inputs[0].value.trim();
    if (!v) continue;
    const bad = (q.kind === 'zip' && !/^\d{5}(-\d{4})?$/.test(v) && 'form_bad_zip')
      || (q.kind === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) && 'form_bad_email');
    if (bad && ok) ok = !fieldError(el, q.id, w(bad));
    answers[q.id] = v;
  }
  return ok ? answers : null;
}

// A language switch redraws an open form, keeping what was given.
new MutationObserver(() => Object.values(open).forEach((draw) => draw()))
  .observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });

function mount(kind, slot, onSubmit, onSkip) {
  let el = null;
  const draw = async () => {
    const data = await load();
    const f = data[kind];
    if (!f || open[kind] !== draw) return;
    const old = el;
    el = build(f, data.privacy_url, (answers) => onSubmit(f, answers, el), onSkip);
    old?.querySelectorAll('input').forEach((i) => Object.assign(el.querySelector(`#${i.id}`) || {}, { checked: i.checked, value: i.value }));
    slot.replaceChildren(el);
    if (!old && kind === 'intake') el.querySelector('h2').focus();
  };
  open[kind] = draw;
  return draw();
}

// Start screen: a button opening the intake form; Submit and Skip both go on to `start`.
export async function offerIntake(slot, start) {
  startChat = start;
  intakeSlot = slot;
  delete open.intake;
  slot.replaceChildren();
  if (!(await load()).intake) return;
  const button = btn(w('form_offer'), 'btn f-offer');
  button.onclick = () => mount('intake', slot, (f, answers) => {
    pending = { f, answers };
    startChat();
  }, () => startChat());
  slot.replaceChildren(button);
}

// For `hello`: the intake as the advocate reads it (id → labels). Resets the start screen.
export function helloIntake() {
  if (intakeSlot) offerIntake(intakeSlot, startChat);
  $('form-receipt')?.replaceChildren();
  if (!pending) return undefined;
  const out = {};
  for (const q of pending.f.questions) {
    const v = pending.answers[q.id];
    const label = (id) => ((q.options || []).find((o) => o.id === id) || { label: id }).label;
    if (v != null) out[q.id] = [].concat(v).map(label).join(', ').slice(0, 200);
  }
  return out;
}

// After `welcome`: post the intake once, with the chat's token.
export async function sendIntake(token) {
  if (!pending || !token) return;
  const { f, answers } = pending;
  pending = null;
  const result = await post('intake', token, f, answers);
  $('form-receipt')?.replaceChildren(receipt(result, f));
}

async function post(kind, token, f, answers) {
  try {
    const res = await fetch(`/api/forms/${kind}`, {
      ...NET, method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, version: f.version, answers }),
    });
    const body = await res.json().catch(() => ({}));
    return res.ok ? body : { error: body.message || w('form_failed'), field: body.field };
  } catch (_) {
    return { error: w('form_failed') };
  }
}

function receipt(result, f) {
  const box = h('div', { className: 'f-receipt', role: 'status', tabIndex: -1 });
  box.append(h('p', result.error ? { className: 'f-err', text: result.error } : { text: w('form_thanks') }));
  if (result.stored && result.deletion_code) {
    const code = h('code', { className: 'f-code', text: result.deletion_code });
    const done = h('span');
    const copy = btn(w('form_copy'));
    // Clipboard refused: select the code to copy by hand.
    copy.onclick = () => navigator.clipboard.writeText(result.deletion_code)
      .then(() => { done.textContent = w('form_copied'); }, () => getSelection().selectAllChildren(code));
    box.append(h('p', {}, `${w('form_code')} `, code, ' ', copy, ' ', done), h('p', { text: f.deletion_note }));
  }
  if (!result.error) box.append(links());
  return box;
}

// Ended screen: the survey after a normal end (`token` proves the chat existed).
export async function offerSurvey(slot, token) {
  delete open.survey;
  slot.replaceChildren();
  if (!token) return;
  await mount('survey', slot, async (f, answers, el) => {
    const submit = el.querySelector('[type=submit]');
    submit.disabled = true;
    const result = await post('survey', token, f, answers);
    submit.disabled = false;
    if (result.error) {
      if (!fieldError(el, result.field, result.error)) submit.focus();
      return;
    }
    delete open.survey;
    const r = receipt(result, f);
    slot.replaceChildren(r);
    r.focus();
  }, () => {
    delete open.survey;
    slot.replaceChildren();
    $('new-chat')?.focus();
  });
}
