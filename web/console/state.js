// The console's state, in memory only: nothing about chats is ever written to the browser's
// storage. The staff session is the HttpOnly cookie set by POST /api/staff/login.

export const S = {
  me: null,
  socket: null,
  available: false,
  load: 0,
  capacity: 0,
  service: { open_now: true, queue_full: false },
  queues: [],
  canned: [],
  advocates: [],
  queue: [],
  // How many wait in all; `queue` holds only the oldest of them.
  queueTotal: 0,
  knownQueue: null,
  overview: { chats: [], queues: [] },
  chats: new Map(),
  active: null,
  nextN: 1,
  sent: 0,
  loggingOut: false,
  replaced: false,
  expired: false,
  reassignTimer: 0,
  dialogChat: null,
  dialogMode: 'transfer',
  claiming: null,
  mayReadTranscripts: false,
};

/** Sends a frame on the console socket; false when it is not connected. */
export function send(frame) {
  return !!S.socket && S.socket.send(frame);
}

export function queueName(id) {
  const q = S.queues.find((x) => x.id === id);
  return q ? q.name : id;
}

/** Roles that answer chats on the console (the server enforces the same). */
export function canChat(role) {
  return role === 'advocate' || role === 'supervisor' || role === 'admin';
}

export function oversees(role) {
  return role === 'supervisor' || role === 'admin';
}
