// The login page, shown whenever the API answers 401: paste a token (`bosun token
// create`, or the daemon's own `<data-dir>/token`) and it is exchanged for this
// browser's session cookie. Pairing (`bosun pair`, a QR code) logs a phone in without it.
import { api, h, fill, closeStream } from './api.js';

/** Shows the login page in `root`; `why` is the daemon's reason, if any. */
export function loginPage(root, why) {
  closeStream();
  document.body.classList.add('logged-out');
  // The call that was refused said so in the notice box too: this page says it once.
  document.getElementById('notice')?.replaceChildren();
  // A first visit needs no reason (the API's own, for programs, names headers); an
  // ended session is worth saying.
  if (why && why.startsWith('authentication required')) why = null;
  const input = h('input', { id: 'login-token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'button primary' }, 'Log in');
  async function submit(e) {
    e.preventDefault();
    button.disabled = true;
    error.hidden = true;
    try {
      await api('/api/login', { method: 'POST', body: { token: input.value.trim() } });
      // A fresh start: the stream and every page reload with the new session.
      location.reload();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      button.disabled = false;
    }
  }
  fill(root,
    h('h1', {}, 'Log in to bosun'),
    why ? h('p', { class: 'muted', id: 'login-why' }, why) : null,
    h('form', { class: 'login', onsubmit: submit },
      h('label', { for: 'login-token' }, 'Token'),
      input,
      h('p', { class: 'muted' }, 'Paste a token from ', h('code', {}, 'bosun token create'), ', or pair this device: run ', h('code', {}, 'bosun pair'), ' and scan its QR code.'),
      error,
      button));
  input.focus();
}
