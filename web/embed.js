/*
 * Haven chat widget. Add to a page with one tag:
 *   <script src="https://haven.example/embed.js" data-label="Chat with an advocate"
 *           data-color="#5b2a86" data-position="right" async></script>
 * It adds a button that opens Haven's chat page in a panel (an iframe from Haven's origin). The
 * host page passes nothing to Haven: no URL, no referrer, no cookie, no query string. When the
 * chatter uses Quick exit, the chat page asks this script to leave the host page as well.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src || window.__havenWidget) return;
  window.__havenWidget = true;

  var origin = new URL(script.src, location.href).origin;
  var data = script.dataset || {};
  var label = (data.label || 'Chat with an advocate').slice(0, 80);
  var color = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(data.color || '') ? data.color : '#5b2a86';
  var side = data.position === 'left' ? 'left' : 'right';

  // White or near-black text, whichever contrasts more with the chosen colour.
  function textColorFor(hex) {
    var h = hex.slice(1);
    if (h.length === 3) h = h.replace(/./g, '$&$&');
    var lum = [0, 2, 4].map(function (i) {
      var c = parseInt(h.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var l = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return (1.05 / (l + 0.05)) >= ((l + 0.05) / 0.05) ? '#ffffff' : '#111111';
  }

  function css(el, styles) {
    for (var k in styles) if (Object.prototype.hasOwnProperty.call(styles, k)) el.style[k] = styles[k];
    return el;
  }

  var button = document.createElement('button');
  button.type = 'button';
  button.id = 'haven-widget-button';
  button.textContent = label;
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', 'haven-widget-panel');
  css(button, {
    position: 'fixed', bottom: '16px', zIndex: '2147483646', padding: '12px 18px',
    border: '0', borderRadius: '24px', background: color, color: textColorFor(color),
    font: '600 16px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    boxShadow: '0 2px 8px rgba(0,0,0,.3)', cursor: 'pointer'
  });
  button.style[side] = '16px';

  var panel = document.createElement('div');
  panel.id = 'haven-widget-panel';
  panel.hidden = true;
  css(panel, {
    position: 'fixed', bottom: '72px', zIndex: '2147483647', width: '380px',
    maxWidth: 'calc(100vw - 16px)', height: '600px', maxHeight: 'calc(100vh - 88px)',
    background: '#fff', border: '2px solid ' + color, borderRadius: '10px',
    boxShadow: '0 4px 16px rgba(0,0,0,.35)', overflow: 'hidden', display: 'none',
    flexDirection: 'column'
  });
  panel.style[side] = '8px';

  var bar = document.createElement('div');
  css(bar, {
    display: 'flex', alignItems: 'center', justifyContent: 'space-between', flex: 'none',
    padding: '2px 4px 2px 12px', background: color, color: textColorFor(color),
    font: '600 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif'
  });
  var title = document.createElement('span');
  title.textContent = label;
  bar.appendChild(title);

  var close = document.createElement('button');
  close.type = 'button';
  close.id = 'haven-widget-close';
  close.textContent = '\u00d7';
  close.setAttribute('aria-label', 'Minimise chat');
  css(close, {
    padding: '0 10px', border: '0', background: 'transparent', color: 'inherit',
    font: '700 22px/1.4 system-ui, sans-serif', cursor: 'pointer'
  });
  bar.appendChild(close);

  var frame = null;

  function open() {
    if (!frame) {
      frame = document.createElement('iframe');
      frame.id = 'haven-widget-frame';
      frame.title = label;
      frame.src = origin + '/chat';
      frame.referrerPolicy = 'no-referrer';
      frame.setAttribute('allow', '');
      css(frame, { flex: '1 1 auto', width: '100%', border: '0' });
      panel.appendChild(frame);
    }
    panel.hidden = false;
    panel.style.display = 'flex';
    button.setAttribute('aria-expanded', 'true');
    frame.focus();
  }

  function hide() {
    panel.hidden = true;
    panel.style.display = 'none';
    button.setAttribute('aria-expanded', 'false');
    button.focus();
  }

  button.addEventListener('click', function () {
    if (panel.hidden) open();
    else hide();
  });
  close.addEventListener('click', hide);

  window.addEventListener('message', function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return;
    var msg = event.data;
    if (!msg || msg.type !== 'haven:quick-exit') return;
    var url = typeof msg.url === 'string' && /^https?:\/\//i.test(msg.url) ? msg.url : 'about:blank';
    // Leave at once: hide everything, then replace this page so Back does not return here.
    try { document.documentElement.style.visibility = 'hidden'; } catch (e) { /* */ }
    panel.remove();
    button.remove();
    location.replace(url);
  });

  function mount() {
    panel.appendChild(bar);
    document.body.appendChild(panel);
    document.body.appendChild(button);
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
