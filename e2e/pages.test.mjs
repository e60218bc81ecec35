// Board pages at phone and laptop size, in a real browser against a real daemon: an
// unknown task gets a not-found page with the way back (not an empty task page and
// errors), and dollars are rounded wherever the board shows them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAKE, start } from './harness.mjs';

const SIZES = [{ width: 375, height: 812 }, { width: 1280, height: 800 }];

let h;

before(async () => {
  h = await start({});
  // Priced from the table (gpt-5: 1.25 in, 10 out per million tokens): 0.0064725 in all,
  // the last event alone 0.0000125.
  const script = join(h.tmp, 'priced.jsonl');
  const usage = (input_tokens, output_tokens) => JSON.stringify({ usage: { input_tokens, output_tokens } });
  writeFileSync(script, [usage(1000, 0), usage(0, 521), usage(10, 0)].join('\n') + '\n');
  writeFileSync(join(h.tmp, 'config/agents/priced.md'),
    `---\nname: priced\nruntime: command\nmodel: gpt-5.5\ncommand: ${JSON.stringify([FAKE, '--script', script])}\n---\nSpend a little.\n`);
});

after(async () => { await h?.close(); });

/** A page at `size` that records page errors and console errors. */
async function open(size) {
  const ctx = await h.browser.newContext({ viewport: size });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { ctx, page, errors };
}

for (const size of SIZES) {
  const tag = `${size.width}x${size.height}`;

  test(`an unknown task at ${tag} is a not-found page with the way back`, async () => {
    const { ctx, page, errors } = await open(size);
    await page.goto(`${h.base}/tasks/9999`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.getByText('There is no task T-9999.').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Timeline' }).count(), 0, 'no task page around it');
    assert.equal(await page.getByLabel('Steer').count(), 0);
    await page.getByRole('link', { name: 'Back to the board' }).click();
    await page.getByRole('search', { name: 'Filter tasks' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
    // The one 404 is the API's answer about T-9999; nothing else went wrong.
    assert.deepEqual(errors.filter((e) => !/status of 404/.test(e)), []);
    assert.ok(errors.length <= 1, errors.join('\n'));
    await ctx.close();
  });

  test(`dollars are rounded on the board at ${tag}`, async () => {
    const t = await h.createTask(`Spend at ${tag}`, 'priced');
    const done = await h.waitTask(t.id, (x) => x.status === 'review', 'review');
    assert.ok(Math.abs(done.runs[0].cost_usd - 0.0064725) < 1e-12, 'the API keeps the full figure');
    const { ctx, page, errors } = await open(size);
    await page.goto(`${h.base}/`);
    await page.locator(`.card[data-id="${t.id}"] .cost`, { hasText: /^\$0\.0065$/ }).waitFor();
    await page.goto(`${h.base}/tasks/${t.id}`);
    await page.locator('.task-head .cost', { hasText: /^\$0\.0065$/ }).waitFor();
    await page.locator('.runs td', { hasText: /^\$0\.0065$/ }).waitFor();
    await page.getByRole('tab', { name: 'Timeline' }).click();
    const timeline = page.getByRole('list', { name: 'Events' });
    await timeline.getByText('· $0.0052').waitFor();
    await timeline.getByText('· <$0.0001').waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /0\.00647|\$0\.0000/);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
