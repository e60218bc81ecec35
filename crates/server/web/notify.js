// The Notifications page (/notifications): the channels notifications go to with how
// their last delivery went, "Send test", and Web Push on this device (subscribe with
// bosun's VAPID key, then hand the subscription to the daemon).
import { api, h, act, fill, notify } from './api.js';

/** Registers the service worker (push needs it); resolves to its registration or null. */
export async function registerWorker() {
  if (!('serviceWorker' in navigator)) return null;
  try {
    return await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch {
    return null;
  }
}

function b64urlToBytes(s) {
  const pad = '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob((s + pad).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function enablePush() {
  if (!('PushManager' in window)) throw new Error('this browser has no Web Push (on iOS: add the board to the home screen first)');
  const reg = await registerWorker();
  if (!reg) throw new Error('the service worker could not be registered');
  await navigator.serviceWorker.ready;
  if ((await Notification.requestPermission()) !== 'granted') throw new Error('notifications are not allowed for this site');
  const { key } = await api('/api/push/key');
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64urlToBytes(key) });
  await api('/api/push/subscriptions', { method: 'POST', body: { ...sub.toJSON(), label: navigator.userAgent.slice(0, 80) } });
}

export function notificationsPage(root) {
  const list = h('ul', { class: 'asks channels', 'aria-label': 'Channels' });
  const push = h('button', { type: 'button', class: 'button primary', onclick: (e) => act(e.currentTarget, async () => { await enablePush(); await load(); }, 'Push is on for this device.') }, 'Enable push on this device');
  const test = h('button', { type: 'button', class: 'button', onclick: (e) => act(e.currentTarget, async () => {
    const results = await api('/api/notify/test', { method: 'POST' });
    const failed = results.filter((r) => !r.ok);
    if (!results.length) notify('No channels yet: add one with `bosun notify add`.', 'error');
    else if (failed.length) notify(failed.map((r) => `${r.name}: ${r.error}`).join('; '), 'error');
    else notify(`Test sent to ${results.length} channel${results.length === 1 ? '' : 's'}.`);
    await load();
  }) }, 'Send test');
  fill(root, h('h1', {}, 'Notifications'),
    h('p', { class: 'hint' }, 'Where bosun tells you a task needs you, is ready for review, failed or merged. Add channels with ', h('code', {}, 'bosun notify add'), '.'),
    h('div', { class: 'actions' }, push, test), list);
  async function load() {
    try {
      const channels = await api('/api/notify/channels');
      fill(list, ...channels.map((c) => h('li', { class: 'ask channel', dataset: { channel: c.id } },
        h('p', { class: 'ask-what' }, h('strong', {}, c.name), ' ', h('span', { class: 'agent' }, c.kind)),
        h('p', { class: c.last_result && c.last_result !== 'ok' ? 'reason' : 'hint' },
          c.last_result ? `Last: ${c.last_result} (${new Date(c.last_at).toLocaleString()})` : 'Nothing sent yet.'))));
      if (!channels.length) fill(list, h('li', { class: 'empty' }, 'No channels: nothing notifies you yet.'));
    } catch (e) {
      // Channels are an admin's to see and change; push on this device is not.
      if (e.status === 403) fill(list, h('li', { class: 'empty' }, 'Channels are managed with an admin token (bosun notify ls).'));
      else notify(e.message, 'error');
    }
  }
  load();
  return () => {};
}
