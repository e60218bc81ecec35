// Web Push on the board in real Chromium: the service worker registers at the root
// scope and is active; a push delivered to it (CDP's ServiceWorker.deliverPushMessage,
// the same event a push service causes) is shown with Approve/Deny; clicking (through
// the worker's test hook, which runs the same `clicked` function as
// `notificationclick`) opens the task page, or, for Approve, presses the single-use
// link so the agent continues. Not covered: a real push service, and the platform's
// own click dispatch (headless Chromium shows no notification UI to click).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { start } from './harness.mjs';

let h;
let ntfy;
const published = [];

before(async () => {
  h = await start({ asker: { interactive: true, steps: [{ read_prompt: true }, { ask: { id: 'p1', tool: 'Bash', kind: 'command', command: 'make deploy' } }, { write: { path: 'x.txt', content: 'x\n' } }] } });
  // A fake ntfy server: records what bosun publishes (the action links it carries).
  ntfy = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { published.push(JSON.parse(body)); res.end('{}'); });
  });
  await new Promise((r) => ntfy.listen(0, '127.0.0.1', r));
});

after(async () => { ntfy?.close(); await h?.close(); });

async function until(what, fn, timeout = 20_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Asks the page's service worker to click the notification tagged `tag`. */
function click(page, tag, action = '') {
  return page.evaluate(([tag, action]) => new Promise((ok) => {
    navigator.serviceWorker.addEventListener('message', (e) => ok(e.data), { once: true });
    navigator.serviceWorker.controller.postMessage({ type: 'click', tag, action });
  }), [tag, action]);
}

test('the service worker shows pushes and its clicks open the task or press the link', async () => {
  await h.api('/api/notify/channels', { method: 'POST', body: { kind: 'ntfy', url: `http://127.0.0.1:${ntfy.address().port}/t`, public_topic_ok: true } });
  const t = await h.createTask('Deploy', 'asker');
  await h.waitTask(t.id, (x) => x.status === 'needs_input', 'needs_input');
  const msg = await until('bosun to publish the ask', () => published.find((m) => m.title.includes(`T-${t.id}`)));
  const approve = msg.actions.find((a) => a.label === 'Approve').url;

  const ctx = await h.browser.newContext({ viewport: { width: 375, height: 812 } });
  await ctx.grantPermissions(['notifications'], { origin: h.base });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(h.base + '/');
  const reg = await until('the worker to be activated', () => page.evaluate(async () => {
    const r = await navigator.serviceWorker.ready;
    return r.active?.state === 'activated' ? { scope: r.scope, state: r.active.state, script: r.active.scriptURL } : null;
  }));
  assert.deepEqual(reg, { scope: h.base + '/', state: 'activated', script: h.base + '/sw.js' });
  await page.reload(); // now controlled by the worker
  await until('the worker to control the page', () => page.evaluate(() => !!navigator.serviceWorker.controller));

  // The board is installable (manifest, icons, start URL, display): Chromium says why not, if not.
  const cdp0 = await ctx.newCDPSession(page);
  const { installabilityErrors } = await cdp0.send('Page.getInstallabilityErrors');
  // (A Playwright context is incognito, which alone keeps an app from being installed.)
  assert.deepEqual(installabilityErrors.filter((e) => e.errorId !== 'in-incognito'), []);
  const manifest = await cdp0.send('Page.getAppManifest');
  assert.deepEqual(manifest.errors, []);

  // A push, as bosun sends it (the payload of crates/notify/src/webpush.rs), to the real worker.
  const cdp = await ctx.newCDPSession(page);
  const registrations = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
  await cdp.send('ServiceWorker.enable');
  const id = await until('the registration id', () => registrations.find((r) => r.scopeURL === h.base + '/')?.registrationId);
  const payload = { delivery: 'bosun-d9', title: `T-${t.id} needs you: Deploy`, body: 'The agent asks to run: make deploy', url: `/tasks/${t.id}`,
    tasks: [t.id], actions: [{ action: 'approve', title: 'Approve', url: approve }, { action: 'deny', title: 'Deny', url: approve.replace(/.$/, 'x') }] };
  // Delivered again until shown: CDP drops a push that reaches a worker between runs
  // (just after a navigation), where a push service would retry. Same tag: one notification.
  const push = (p) => until(`the notification ${p.delivery}`, async () => {
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: h.base, registrationId: id, data: JSON.stringify(p) });
    const end = Date.now() + 2_000;
    while (Date.now() < end) {
      const n = await page.evaluate(async (tag) => {
        const r = await navigator.serviceWorker.ready;
        const n = await r.getNotifications({ tag });
        return n.length ? { title: n[0].title, body: n[0].body, actions: n[0].actions.map((a) => a.title) } : null;
      }, p.delivery);
      if (n) return n;
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  });
  const shown = await push(payload);
  assert.deepEqual(shown, { title: payload.title, body: payload.body, actions: ['Approve', 'Deny'] });

  // A tap on the notification's body opens the task page (this very window navigates,
  // so the worker's answer is not waited for: the page's new URL is).
  await page.evaluate(() => navigator.serviceWorker.controller.postMessage({ type: 'click', tag: 'bosun-d9', action: '' }));
  await page.waitForURL(`${h.base}/tasks/${t.id}`);
  await until('the worker to control the task page', () => page.evaluate(() => !!navigator.serviceWorker.controller));
  await page.getByRole('heading', { name: /Deploy/ }).first().waitFor();

  // Approve on the notification presses the link: the agent continues.
  await push({ ...payload, delivery: 'bosun-d10' });
  assert.deepEqual(await click(page, 'bosun-d10', 'approve'), { pressed: 'approve' });
  await h.waitTask(t.id, (x) => x.status === 'review', 'review');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the Notifications page lists channels with their last result and sends a test', async () => {
  const ctx = await h.browser.newContext({ viewport: { width: 375, height: 812 } });
  const page = await ctx.newPage();
  await page.goto(h.base + '/notifications');
  await page.getByRole('heading', { name: 'Notifications' }).waitFor();
  const item = page.locator('li.channel').first();
  await item.waitFor();
  assert.match(await item.textContent(), /ntfy 127\.0\.0\.1/);
  const before = published.length;
  await page.getByRole('button', { name: 'Send test' }).click();
  await page.getByText('Test sent to 1 channel.').waitFor();
  assert.equal(published.length, before + 1);
  assert.equal(published.at(-1).title, 'bosun test notification');
  await page.getByText(/^Last: ok/).waitFor();
  await ctx.close();
});
