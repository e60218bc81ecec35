// The board's service worker (served at /sw.js, scope /): shows bosun's Web Push
// messages, with Approve/Deny buttons when the message carries action links, and on a
// click either presses the link (a single-use capability: POST it) or opens the task.
// No caching: the board is live or it says it is offline.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

/** The notification options for a push payload from bosun (see crates/notify/src/webpush.rs). */
function options(p) {
  return {
    body: p.body || '',
    tag: p.delivery || undefined,
    icon: '/assets/icon.svg',
    data: { url: p.url || '/', actions: Object.fromEntries((p.actions || []).map((a) => [a.action, a.url])) },
    actions: (p.actions || []).map((a) => ({ action: a.action, title: a.title })),
    requireInteraction: (p.actions || []).length > 0,
  };
}

self.addEventListener('push', (e) => {
  let p = {};
  try { p = e.data ? e.data.json() : {}; } catch { p = { title: 'bosun', body: e.data ? e.data.text() : '' }; }
  e.waitUntil(self.registration.showNotification(p.title || 'bosun', options(p)));
});

/** What a click on `notification` (with `action`, '' for the body) does; the tests call this too. */
async function clicked(notification, action) {
  const data = notification.data || {};
  const link = action && data.actions ? data.actions[action] : undefined;
  notification.close();
  if (link) {
    const res = await fetch(link, { method: 'POST', credentials: 'omit' });
    if (res.ok) return { pressed: action };
    // Used, expired or already answered: show the page saying so.
    return openPage(link);
  }
  return openPage(new URL(data.url || '/', self.location.origin).href);
}

/** Focuses a board window on `url`, or opens one. */
async function openPage(url) {
  const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const w of wins) {
    if (new URL(w.url).origin === self.location.origin && 'navigate' in w) {
      // Focusing is allowed only while handling a click (not from the test hook).
      try { await w.focus(); } catch { /* not allowed here */ }
      await w.navigate(url);
      return { opened: url };
    }
  }
  await self.clients.openWindow(url);
  return { opened: url };
}

self.addEventListener('notificationclick', (e) => e.waitUntil(clicked(e.notification, e.action)));

// Test hook, same code path: `{type: 'click', tag, action}` clicks the shown
// notification with that tag as the platform would; the answer says what it did.
self.addEventListener('message', (e) => {
  if (!e.data || e.data.type !== 'click') return;
  e.waitUntil((async () => {
    let out;
    try {
      const shown = await self.registration.getNotifications({ tag: e.data.tag });
      out = shown.length ? await clicked(shown[0], e.data.action || '') : { error: 'no such notification' };
    } catch (err) {
      out = { error: String(err) };
    }
    e.source.postMessage(out);
  })());
});
