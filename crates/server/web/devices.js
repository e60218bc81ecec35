// The Devices page (`/devices`, admin): who has access (paired browsers and tokens,
// with when each was last seen) and revoking them, pairing a new phone (a QR code of a
// single-use link), and logging this browser out. The page is a list of sections:
// another part of the board adds its own with `addSection` (settings, notifications).
import { api, h, fill, act, notify, closeStream } from './api.js';

const sections = [];

/** Adds a section to the Devices page: `render(container)` fills it, and may return a cleanup. */
export function addSection(title, render) {
  sections.push({ title, render });
}

export function devicesPage(root) {
  const cleanups = [];
  fill(root, h('h1', {}, 'Devices'), ...sections.map(({ title, render }) => {
    const body = h('div', { class: 'section-body' });
    const id = `section-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
    const out = render(body);
    if (typeof out === 'function') cleanups.push(out);
    return h('section', { class: 'panel-section', 'aria-labelledby': id }, h('h2', { id }, title), body);
  }));
  return () => cleanups.forEach((c) => c());
}

function when(ts) {
  return ts ? new Date(ts).toLocaleString() : 'never';
}

addSection('This browser', (el) => {
  (async () => {
    try {
      const me = await api('/api/me');
      fill(el,
        h('p', {}, 'Signed in as ', h('strong', { id: 'me-name' }, me.name), ` (${me.scope})`),
        me.kind === 'session'
          ? h('button', { type: 'button', class: 'button', id: 'logout', onclick: (e) => act(e.currentTarget, async () => {
            await api('/api/logout', { method: 'POST' });
            closeStream();
            location.assign('/');
          }) }, 'Log out')
          : null);
    } catch (e) { fill(el, h('p', { class: 'notice error' }, e.message)); }
  })();
});

addSection('Pair a new phone', (el) => {
  const out = h('div', { class: 'pairing', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'button primary', id: 'pair' }, 'Pair a new phone');
  button.addEventListener('click', () => act(button, async () => {
    const p = await api('/api/pairings', { method: 'POST' });
    fill(out,
      p.qr_svg ? h('img', { class: 'qr', alt: 'QR code of the pairing link', width: 240, height: 240, src: `data:image/svg+xml;base64,${btoa(p.qr_svg)}` }) : null,
      h('p', {}, 'Scan it with the phone\u2019s camera, or open this link on it:'),
      h('p', {}, h('code', { id: 'pair-url' }, p.url)),
      h('p', { class: 'muted' }, `Valid until ${new Date(p.expires_at).toLocaleTimeString()}, single use (scope: ${p.scope}).`));
  }));
  fill(el, button, out);
});

addSection('Devices and tokens', (el) => {
  async function load() {
    try {
      const devices = await api('/api/devices');
      fill(el, h('ul', { class: 'devices' }, devices.map((d) => h('li', { class: 'device', dataset: { id: d.id } },
        h('p', {}, h('strong', {}, d.name), ' ', h('span', { class: 'badge' }, d.kind), ' ', h('span', { class: 'muted' }, d.scope),
          d.local ? h('span', { class: 'muted' }, ' (this machine\u2019s CLI)') : null,
          d.current ? h('span', { class: 'muted' }, ' (this browser)') : null),
        h('p', { class: 'meta muted' }, `created ${when(d.created_at)}, last seen ${when(d.last_seen_at)}`),
        d.local || d.current ? null : h('button', { type: 'button', class: 'button danger', onclick: (e) => act(e.currentTarget, async () => {
          await api(`/api/devices/${d.id}`, { method: 'DELETE' });
          notify(`Revoked ${d.name}`);
          load();
        }) }, `Revoke ${d.name}`)))));
    } catch (e) { fill(el, h('p', { class: 'notice error' }, e.message)); }
  }
  load();
});
