// Haven's shared WebSocket client, used by the console (and meant for the chatter page):
// JSON framing, an application-level heartbeat that notices a dead connection, and reconnection
// with back-off. It knows nothing of chats or staff; the page decides what a frame means and
// whether a closed socket should come back.
//
//   import { Socket } from '/shared/socket.js';
//   const socket = new Socket('/ws/console', {
//     onOpen: () => {},                 // connected (first time and after every reconnect)
//     onFrame: (frame) => {},           // every parsed JSON object except the heartbeat's `pong`
//     onDown: async (info) => true,     // the socket closed: return true to reconnect with
//                                       // back-off, false to stay down (info: {code, reason, dead})
//   });
//   socket.start();  socket.send({type: 'status', available: true});  socket.stop();
//
// Heartbeat: every `pingEveryMs` (default 5 s) it sends `{"type":"ping"}` (both Haven sockets
// answer `pong`). If nothing at all arrives for `deadAfterMs` (default 15 s) the connection counts
// as dead even though the browser has not noticed (a phone that changed networks, a proxy that
// dropped it silently): the socket is abandoned and `onDown` is called with `dead: true`.
// Back-off: `firstDelayMs` (0.5 s) doubling to `maxDelayMs` (10 s); reset by a successful open.
// A frame that is not a JSON object is ignored (the server never sends one).

const DEFAULTS = {
  pingEveryMs: 5000,
  deadAfterMs: 15000,
  firstDelayMs: 500,
  maxDelayMs: 10000,
};

/** Absolute ws:// or wss:// URL for a path on this page's origin. */
export function socketUrl(path) {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  return `${scheme}${location.host}${path}`;
}

export class Socket {
  constructor(path, handlers, options = {}) {
    this.path = path;
    this.handlers = handlers;
    this.options = { ...DEFAULTS, ...options };
    this.ws = null;
    this.attempt = 0;
    this.stopped = true;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.lastHeard = 0;
  }

  /** Opens the socket (again). Any current socket is closed first. */
  start() {
    this.stopped = false;
    this.detach();
    clearTimeout(this.retryTimer);
    const ws = new WebSocket(socketUrl(this.path));
    this.ws = ws;
    this.lastHeard = Date.now();
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.lastHeard = Date.now();
      this.beat();
      if (this.handlers.onOpen) this.handlers.onOpen();
    };
    // Assigned as a property (not addEventListener) so that test instrumentation that wraps
    // the `onmessage` setter sees every frame.
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return;
      if (frame.type === 'pong') return;
      this.handlers.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.down({ code: event.code, reason: event.reason, dead: false });
    };
  }

  /** True when the socket is open and the frame was handed to it. */
  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  get connected() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  /** Closes the socket and does not reconnect until `start()`. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.detach();
  }

  beat() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > this.options.deadAfterMs) {
        this.down({ code: 0, reason: '', dead: true });
        return;
      }
      this.send({ type: 'ping' });
    }, Math.min(this.options.pingEveryMs, this.options.deadAfterMs / 3));
  }

  detach() {
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = null;
    ws.onclose = null;
    ws.onmessage = null;
    try { ws.close(); } catch (_) { /* already closed */ }
  }

  async down(info) {
    this.detach();
    if (this.stopped) return;
    let again = true;
    try { again = await this.handlers.onDown(info); } catch (_) { again = true; }
    if (!again || this.stopped || this.ws) return;
    const delay = Math.min(this.options.maxDelayMs, this.options.firstDelayMs * 2 ** this.attempt);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => { if (!this.stopped) this.start(); }, delay);
  }
}
