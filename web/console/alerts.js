// Getting a tired advocate's attention while the console is in the background: a short tone
// (WebAudio, no file), a "(n)" title badge, and opt-in desktop notifications. A notification
// says only that something happened (a new chatter, a new message), never who or what: the
// screen may be seen by others.

import { $ } from './dom.js';
import { t } from './i18n.js';

let audio = null;
let unseen = 0;
let notifyOn = false;

export function unlockAudio() {
  if (audio) return;
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try { audio = new Ctx(); } catch (_) { audio = null; }
}

function beep() {
  if (!$('sound').checked || !audio) return;
  try {
    const ctx = audio;
    if (ctx.state === 'suspended') ctx.resume();
    const now = ctx.currentTime;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(880, now);
    osc.frequency.setValueAtTime(660, now + 0.12);
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.3);
    osc.connect(gain).connect(ctx.destination);
    osc.start(now);
    osc.stop(now + 0.32);
  } catch (_) { /* sound is a nicety */ }
}

export function renderTitle() {
  document.title = unseen ? `(${unseen}) ${t('title')}` : t('title');
}

/**
 * Something needs the advocate. `kind` is 'chatter' (someone queued or was given to them) or
 * 'message'. Only while the tab is hidden.
 */
export function attention(kind) {
  if (!document.hidden) return;
  unseen += 1;
  renderTitle();
  beep();
  notify(kind);
}

function notify(kind) {
  if (!notifyOn || !('Notification' in window) || Notification.permission !== 'granted') return;
  try {
    // No body: no chatter's words or details on a lock screen or a shared monitor. One tag so
    // a burst of messages replaces the notification rather than stacking.
    const n = new Notification(t(kind === 'message' ? 'notify_message' : 'notify_chatter'), {
      tag: 'haven-console',
      renotify: true,
      silent: true,
    });
    n.onclick = () => { window.focus(); n.close(); };
  } catch (_) { /* some browsers only notify from a service worker */ }
}

export function renderNotifyButton() {
  const b = $('notify');
  const supported = 'Notification' in window;
  const denied = supported && Notification.permission === 'denied';
  b.hidden = !supported;
  b.setAttribute('aria-pressed', String(notifyOn));
  b.textContent = t(denied ? 'notify_blocked' : notifyOn ? 'notify_on' : 'notify_off');
  b.disabled = denied;
}

async function toggleNotify() {
  if (notifyOn) {
    notifyOn = false;
  } else if (Notification.permission === 'granted') {
    notifyOn = true;
  } else if (Notification.permission !== 'denied') {
    const answer = await Notification.requestPermission();
    notifyOn = answer === 'granted';
  }
  renderNotifyButton();
}

export function wireAlerts(onVisible) {
  $('sound').addEventListener('change', unlockAudio);
  $('notify').addEventListener('click', () => { unlockAudio(); toggleNotify(); });
  document.addEventListener('pointerdown', unlockAudio, { once: true });
  document.addEventListener('keydown', unlockAudio, { once: true });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    unseen = 0;
    renderTitle();
    onVisible();
  });
  renderNotifyButton();
}
