/*
 * Haven chat widget. Add to a page with one tag:
 *   <script src="https://haven.example/embed.js" data-label="Chat with an advocate"
 *           data-color="#5b2a86" data-position="right" data-exit-label="Quick exit" async></script>
 * It adds a button that opens Haven's chat page in a panel (an iframe from Haven's origin). The
 * host page passes nothing to Haven: no URL, no referrer, no cookie, no query string. When the
 * chatter uses Quick exit, the chat page asks this script to leave the host page as well.
 * On a small screen the panel covers the whole screen. While it is minimised the button shows
 * how many advocate messages are unread (a count only, also in the page title) and a Quick exit
 * button; Shift pressed three times on the host page leaves too, once the chat has been opened.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src || window.__havenWidget) return;
  window.__havenWidget = true;

  var origin = new URL(script.src, location.href).origin;
  var data = script.dataset || {};
  var label = (data.label || 'Chat with an advocate').slice(0, 80);
  var exitLabel = (data.exitLabel || 'Quick exit').slice(0, 40);
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

  // The unread count, beside the label.
  var badge = document.createElement('span');
  badge.id = 'haven-widget-unread';
  badge.hidden = true;
  css(badge, {
    display: 'none', marginLeft: '8px', padding: '0 7px', borderRadius: '10px',
    background: '#fff', color: '#111', font: '700 14px/1.4 system-ui, sans-serif'
  });
  button.appendChild(badge);

  // Quick exit while minimised (shown once the chat has been opened).
  var exitButton = document.createElement('a');
  exitButton.id = 'haven-widget-exit';
  exitButton.href = 'about:blank';
  exitButton.textContent = exitLabel;
  exitButton.hidden = true;
  css(exitButton, {
    position: 'fixed', bottom: '72px', zIndex: '2147483646', padding: '8px 14px',
    borderRadius: '18px', background: '#a3161a', color: '#fff', textDecoration: 'none',
    font: '700 15px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    boxShadow: '0 2px 8px rgba(0,0,0,.3)', display: 'none'
  });
  exitButton.style[side] = '16px';

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
  var exitUrl = 'about:blank';
  var unread = 0;
  var hostTitle = document.title;
  // A phone: a narrow window, or a narrow screen (a host page without a viewport meta tag).
  function small() {
    return Math.min(window.innerWidth || 9999, (window.screen && window.screen.width) || 9999) <= 600;
  }

  // Full screen on a phone; a floating panel elsewhere.
  function layout() {
    var full = small();
    css(panel, full ? {
      top: '0', bottom: '0', left: '0', right: '0', width: '100%', maxWidth: '100%',
      height: 'auto', maxHeight: 'none', borderRadius: '0', border: '0'
    } : {
      top: 'auto', bottom: '72px', left: 'auto', right: 'auto', width: '380px',
      maxWidth: 'calc(100vw - 16px)', height: '600px', maxHeight: 'calc(100vh - 88px)',
      borderRadius: '10px', border: '2px solid ' + color
    });
    if (!full) panel.style[side] = '8px';
    var open = !panel.hidden;
    // The launcher stays out of the way of a full-screen panel (the bar has its own close).
    button.style.display = full && open ? 'none' : '';
    var showExit = !!frame && !open;
    exitButton.hidden = !showExit;
    exitButton.style.display = showExit ? 'inline-block' : 'none';
  }

  function tellFrame(message) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage(message, origin);
  }

  function setUnread(n) {
    unread = n > 0 ? Math.min(n, 99) : 0;
    badge.textContent = unread ? String(unread) : '';
    badge.hidden = unread === 0;
    badge.style.display = unread ? 'inline-block' : 'none';
    button.setAttribute('aria-label', unread ? label + ' (' + unread + ' unread)' : label);
    // Only a number in the host page's title, never any text of the chat.
    var prefix = /^\(\d+\) /;
    var base = document.title.replace(prefix, '');
    if (base !== hostTitle.replace(prefix, '')) hostTitle = base;
    document.title = unread ? '(' + unread + ') ' + hostTitle : hostTitle;
  }

  // Leaves the host page for the neutral site, ending the chat as a quick exit.
  function quickExit(event) {
    if (event) event.preventDefault();
    tellFrame({ type: 'haven:quick-exit-request' });
    leave(exitUrl);
  }

  function leave(url) {
    try { document.documentElement.style.visibility = 'hidden'; } catch (e) { /* */ }
    document.title = '';
    // A moment for the chat page to send its `leave`; the page is hidden meanwhile.
    setTimeout(function () {
      panel.remove();
      button.remove();
      exitButton.remove();
      location.replace(url);
    }, frame ? 150 : 0);
  }

  function open() {
    if (!frame) {
      frame = document.createElement('iframe');
      frame.id = 'haven-widget-frame';
      frame.title = label;
      frame.src = origin + '/chat';
      frame.referrerPolicy = 'no-referrer';
      frame.setAttribute('allow', '');
      css(frame, { flex: '1 1 auto', width: '100%', border: '0' });
      frame.addEventListener('load', function () {
        tellFrame({ type: 'haven:widget', open: !panel.hidden });
      });
      panel.appendChild(frame);
    }
    panel.hidden = false;
    panel.style.display = 'flex';
    button.setAttribute('aria-expanded', 'true');
    layout();
    setUnread(0);
    tellFrame({ type: 'haven:widget', open: true });
    frame.focus();
  }

  function hide() {
    panel.hidden = true;
    panel.style.display = 'none';
    button.setAttribute('aria-expanded', 'false');
    layout();
    tellFrame({ type: 'haven:widget', open: false });
    button.focus();
  }

  button.addEventListener('click', function () {
    if (panel.hidden) open();
    else hide();
  });
  close.addEventListener('click', hide);
  exitButton.addEventListener('click', quickExit);
  window.addEventListener('resize', layout);

  function httpUrl(url) {
    return typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null;
  }

  // Only Haven's own iframe is listened to: its origin and its window.
  window.addEventListener('message', function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return;
    var msg = event.data;
    if (!msg || typeof msg.type !== 'string') return;
    if (msg.type === 'haven:quick-exit') {
      // Leave at once: hide everything, then replace this page so Back does not return here.
      var url = httpUrl(msg.url) || exitUrl;
      try { document.documentElement.style.visibility = 'hidden'; } catch (e) { /* */ }
      panel.remove();
      button.remove();
      exitButton.remove();
      location.replace(url);
    } else if (msg.type === 'haven:exit-url') {
      exitUrl = httpUrl(msg.url) || exitUrl;
      exitButton.href = exitUrl;
    } else if (msg.type === 'haven:unread') {
      var n = Number(msg.count);
      setUnread(panel.hidden && n > 0 && n === Math.floor(n) ? n : 0);
    }
  });

  // Shift pressed three times on the host page (nothing else between, within 5 s).
  var shifts = 0;
  var shiftTimer = 0;
  document.addEventListener('keydown', function (e) {
    if (!frame) return;
    if (e.key !== 'Shift') { shifts = 0; return; }
    if (e.repeat) return;
    shifts += 1;
    clearTimeout(shiftTimer);
    if (shifts >= 3) { shifts = 0; quickExit(e); return; }
    shiftTimer = setTimeout(function () { shifts = 0; }, 5000);
  }, true);

  function mount() {
    panel.appendChild(bar);
    document.body.appendChild(panel);
    document.body.appendChild(exitButton);
    document.body.appendChild(button);
    layout();
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
