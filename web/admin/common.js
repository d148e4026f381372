// What the admin page's modules share: element look-up and building (DOM calls only, never
// innerHTML, so no name or text becomes markup) and JSON requests to Haven's API.

export const $ = (id) => document.getElementById(id);

/** Called when a request finds the session gone (the page shows its sign-in form). */
export const hooks = { unauthorized: () => {} };

// Every state-changing request is JSON from this origin (the server refuses anything else).
export async function api(method, path, body) {
  const options = { method, credentials: 'same-origin', cache: 'no-store', headers: {} };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const res = await fetch(path, options);
  let data = null;
  const type = res.headers.get('content-type') || '';
  if (type.includes('application/json')) data = await res.json();
  if (res.status === 401 && path !== '/api/staff/login' && path !== '/api/staff/password') {
    hooks.unauthorized();
  }
  return { ok: res.ok, status: res.status, data, res };
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}
