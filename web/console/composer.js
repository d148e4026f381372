// The composer of each chat: sending (with a client id Haven acknowledges), the typing
// indicator (only on/off, never the draft), and the "/" shortcut to canned responses.

import { S, send } from './state.js';
import { addLine, setDelivery, chatError } from './chats.js';
import { showCanned, hideCanned, cannedKey } from './canned.js';

const TYPING_IDLE_MS = 3000;

function newId() {
  const b = new Uint8Array(6);
  crypto.getRandomValues(b);
  S.sent += 1;
  return `a-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}-${S.sent}`;
}

export function sendMessage(c) {
  const text = c.box.value.trim();
  if (!text || c.state !== 'open') return;
  chatError(c, '');
  hideCanned(c);
  const id = newId();
  const li = addLine(c, 'advocate', text, Date.now(), 0, true);
  li.dataset.id = id;
  setDelivery(li, 'sending');
  c.pending.set(id, { text, li, seq: 0 });
  c.box.value = '';
  stopTyping(c);
  send({ type: 'message', chat_id: c.id, id, text });
  c.box.focus();
}

export function onComposerInput(c) {
  const v = c.box.value;
  if (v.startsWith('/')) showCanned(c, v.slice(1));
  else hideCanned(c);
  if (c.state !== 'open') return;
  if (!v.trim() || v.startsWith('/')) {
    stopTyping(c);
    return;
  }
  if (!c.typingOn && send({ type: 'typing', chat_id: c.id, on: true })) c.typingOn = true;
  clearTimeout(c.typingTimer);
  c.typingTimer = setTimeout(() => stopTyping(c), TYPING_IDLE_MS);
}

export function onComposerKey(c, e) {
  if (cannedKey(c, e)) return;
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    sendMessage(c);
  }
}

/** After a canned response is inserted: the same as typing it. */
export function composerChanged(c) {
  onComposerInput(c);
}

export function stopTyping(c) {
  clearTimeout(c.typingTimer);
  if (c.typingOn) {
    c.typingOn = false;
    send({ type: 'typing', chat_id: c.id, on: false });
  }
}

/** The socket dropped: our typing indicator is gone on the server side too. */
export function forgetTyping(c) {
  clearTimeout(c.typingTimer);
  c.typingOn = false;
}

