/*
 * The console's shared script (loaded by the layout on every page): helpers for page scripts —
 * the session's CSRF token (from the <meta name="csrf-token">) and a JSON POST that sends it.
 */
'use strict';
window.wechatBotConsole = {
  csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  },
  async postJson(url, body) {
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': this.csrf() },
      body: JSON.stringify(body ?? {}),
    });
    return { status: res.status, body: await res.json().catch(() => ({})) };
  },
  async getJson(url) {
    const res = await fetch(url, { credentials: 'same-origin' });
    return { status: res.status, body: await res.json().catch(() => ({})) };
  },
};
