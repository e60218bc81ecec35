// What a queued task waits for, on the board: its card and its task page say it
// ("Waiting: solo 1/1 running"), live, and stop saying it once it starts. At phone
// and desktop sizes, against a real daemon with fake agents.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, ROOT } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');

let h;

before(async () => {
  h = await start((tmp) => ({
    solo: { max_concurrent: 1, steps: [{ wait_file: join(tmp, 'gate') }, { say: 'through' }] },
  }));
});

after(async () => { await h?.close(); });
mkdirSync(ARTIFACTS, { recursive: true });

for (const [label, viewport] of [['phone', { width: 375, height: 812 }], ['desktop', { width: 1280, height: 800 }]]) {
  test(`a queued task's card and page say what it waits for (${label})`, async () => {
    const gate = join(h.tmp, 'gate');
    const first = await h.createTask(`First ${label}`, 'solo');
    await h.waitTask(first.id, (t) => t.status === 'running', 'running');
    const ctx = await h.browser.newContext({ viewport });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(h.base);
    // Created while the board is open: the wait arrives live.
    const second = await h.createTask(`Second ${label}`, 'solo');
    const card = page.locator(`#task-${second.id}`);
    await card.getByText('Waiting: solo 1/1 running').waitFor({ timeout: 20_000 });
    assert.equal(await card.getAttribute('data-status'), 'queued');
    await page.screenshot({ path: join(ARTIFACTS, `waits-card-${label}.png`) });

    await card.getByRole('link').click();
    await page.locator('#task-status[data-status=queued]').waitFor();
    await page.getByText('Waiting: solo 1/1 running').waitFor();

    writeFileSync(gate, '');
    await page.locator('#task-status[data-status=review]').waitFor({ timeout: 20_000 });
    assert.equal(await page.getByText(/^Waiting:/).count(), 0, 'a started task waits for nothing');
    await h.waitTask(first.id, (t) => t.status === 'review', 'review');
    rmSync(gate);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
