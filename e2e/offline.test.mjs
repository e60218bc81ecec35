// The board says when it is offline, in chromium at 375×812: while the daemon is
// stopped a banner says the board does not answer and what is shown may be out of
// date; once the daemon is back the banner goes by itself and the board is live again
// (a task added meanwhile appears without a reload).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, start } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');

let h;

before(async () => {
  h = await start({ quick: { steps: [{ say: 'done' }] } });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await h?.close();
});

test('a stopped daemon shows an offline banner that goes once it is back', async () => {
  const ctx = await h.browser.newContext({ viewport: { width: 375, height: 812 } });
  const page = await ctx.newPage();
  await page.goto(h.base + '/');
  await page.getByRole('search', { name: 'Filter tasks' }).waitFor();
  const banner = page.locator('#connection');
  assert.equal(await banner.isVisible(), false, 'no banner while the daemon answers');

  await h.stopDaemon();
  await banner.waitFor({ state: 'visible' });
  assert.match(await banner.textContent(), /Offline: the daemon does not answer\. Reconnecting/);
  assert.ok(await page.evaluate(() => document.body.classList.contains('offline')));
  await page.screenshot({ path: join(ARTIFACTS, 'offline-375x812.png'), fullPage: true });

  await h.startDaemon();
  await banner.waitFor({ state: 'hidden', timeout: 30_000 });
  assert.equal(await page.evaluate(() => document.body.classList.contains('offline')), false);
  // Live again: a task made after the restart shows up without a reload.
  const task = await h.createTask('After the restart', 'quick');
  await page.locator(`#task-${task.id}`).waitFor();
  await ctx.close();
});
