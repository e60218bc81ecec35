// Pairing a phone, in chromium at 375×812: a browser with no session gets the login
// page; opening the link `bosun pair` prints logs it in and the board is live; the same
// link a second time is refused with a page saying so; `bosun devices revoke` of that
// browser's session logs it out (its event stream ends, the next call shows the login
// page). Also: pasting a token on the login page logs a browser in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, start } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const PHONE = { width: 375, height: 812 };

let h;

before(async () => {
  h = await start({ quick: { steps: [{ say: 'done' }] } });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await h?.close();
});

test('pairing logs a phone in once, the board is live, revoking logs it out', async () => {
  const ctx = await h.browser.raw.newContext({ viewport: PHONE });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  // No session yet: the login page.
  await page.goto(h.base + '/');
  await page.getByRole('heading', { name: 'Log in to bosun' }).waitFor();

  const { url } = JSON.parse(h.bosun('pair', '--json', '--name', 'test phone'));
  assert.match(url, /\/pair\?code=bosun_/);
  // A link preview (a chat app fetching the URL) uses nothing up: GET only shows a button.
  const preview = await fetch(url);
  assert.equal(preview.status, 200);
  assert.match(await preview.text(), /Log this browser in/);
  await page.goto(url);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(h.base + '/');
  assert.equal(new URL(page.url()).pathname, '/', 'sent on to the board');
  await page.getByRole('search', { name: 'Filter tasks' }).waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'paired-375x812.png'), fullPage: true });

  // Live: a task added from the CLI appears without a reload.
  const task = JSON.parse(h.bosun('add', 'Added from the desk', '--agent', 'quick', '--repo', h.repo, '--json'));
  await page.locator(`#task-${task.id}`).waitFor();

  const devices = JSON.parse(h.bosun('devices', '--json'));
  const phone = devices.find((d) => d.kind === 'session' && d.name === 'test phone');
  assert.ok(phone, JSON.stringify(devices));
  assert.equal(phone.scope, 'operate');
  assert.ok(!('hash' in phone) && !Object.values(phone).some((v) => String(v).startsWith('bosun_')), 'no secret is listed');

  // The same link again, in another browser: refused with a page that says why.
  const other = await h.browser.raw.newContext({ viewport: PHONE });
  const second = await other.newPage();
  await second.goto(url);
  const [res] = await Promise.all([
    second.waitForResponse((r) => r.request().method() === 'POST'),
    second.getByRole('button', { name: 'Log in' }).click(),
  ]);
  assert.equal(res.status(), 410);
  assert.equal(res.headers()['cache-control'], 'no-store');
  assert.match(await second.locator('#pair-message').textContent(), /already used/);
  await second.getByRole('heading', { name: 'Pairing refused' }).waitFor();
  await other.close();

  // Revoked: the open board is logged out (no reload from the test).
  h.bosun('devices', 'revoke', String(phone.id));
  await page.getByRole('heading', { name: 'Log in to bosun' }).waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(ARTIFACTS, 'logged-out-375x812.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a pasted token logs a browser in; the Devices page pairs and logs out', async () => {
  const ctx = await h.browser.raw.newContext({ viewport: PHONE });
  const page = await ctx.newPage();
  await page.goto(h.base + '/devices');
  await page.getByRole('heading', { name: 'Log in to bosun' }).waitFor();
  await page.getByLabel('Token').fill('bosun_not_a_token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not a valid token' }).waitFor();

  const made = JSON.parse(h.bosun('token', 'create', '--name', 'pasted', '--scope', 'admin', '--json'));
  await page.getByLabel('Token').fill(made.token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Devices', exact: true }).waitFor();
  await page.locator('#me-name').filter({ hasText: 'pasted' }).waitFor();

  await page.getByRole('button', { name: 'Pair a new phone' }).click();
  const shown = await page.locator('#pair-url').textContent();
  assert.match(shown, /\/pair\?code=bosun_/);
  await page.locator('img.qr').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'devices-375x812.png'), fullPage: true });

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in to bosun' }).waitFor();
  const sessions = JSON.parse(h.bosun('devices', '--json')).filter((d) => d.kind === 'session' && d.name === 'pasted');
  assert.deepEqual(sessions, [], 'logging out revoked the session');

  // Logged in again with the token, then the token revoked: the session made from it
  // ends with it (a leaked token pasted into a browser keeps no access).
  await page.getByLabel('Token').fill(made.token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Log in to bosun' }).waitFor({ state: 'detached' });
  await page.goto(h.base + '/devices');
  await page.locator('#me-name').filter({ hasText: 'pasted' }).waitFor();
  h.bosun('devices', 'revoke', String(made.device.id));
  await page.goto(h.base + '/devices');
  await page.getByRole('heading', { name: 'Log in to bosun' }).waitFor();
  const left = JSON.parse(h.bosun('devices', '--json')).filter((d) => d.name === 'pasted');
  assert.deepEqual(left, [], 'neither the token nor its session is left');
  await ctx.close();
});
