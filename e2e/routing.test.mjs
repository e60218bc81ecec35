// Routing on the board: the new-task form's model reaches the task (and its card);
// a task no routing rule matches waits in the Triage column, which is there only
// while something waits in it. At phone and desktop sizes, against a real daemon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, ROOT } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');

let h;

before(async () => {
  h = await start({ writer: { steps: [{ say: 'written' }] } });
  writeFileSync(join(h.tmp, 'config/routing.toml'), '[[route]]\nwhen = { tags = ["docs"] }\nagent = "writer"\n');
});

after(async () => { await h?.close(); });
mkdirSync(ARTIFACTS, { recursive: true });

for (const [label, viewport] of [['phone', { width: 375, height: 812 }], ['desktop', { width: 1280, height: 800 }]]) {
  test(`the form's model reaches the task and unmatched tasks wait in triage (${label})`, async () => {
    const ctx = await h.browser.newContext({ viewport });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(h.base);
    assert.equal(await page.locator('[data-column=triage]').count(), 0, 'no triage column while nothing waits there');

    await page.goto(`${h.base}/new`);
    await page.getByLabel('Title').fill(`Docs ${label}`);
    await page.getByLabel('Repository').fill(h.repo);
    await page.getByLabel('Tags').fill('docs');
    await page.getByLabel('Model').fill('haiku');
    await page.getByRole('button', { name: 'Create task' }).click();
    const card = page.locator('.card', { hasText: `Docs ${label}` });
    await card.waitFor({ timeout: 20_000 });
    const id = Number(await card.getAttribute('data-id'));
    const t = await h.waitTask(id, (t) => t.status === 'review', 'review');
    assert.deepEqual([t.agent, t.model, t.source, t.runs[0].model], ['writer', 'haiku', 'board', 'haiku']);
    await card.locator('.model', { hasText: 'haiku' }).waitFor();

    const lost = await h.createTask(`Unmatched ${label}`, undefined, { tags: ['backend'] });
    const triage = page.locator('[data-column=triage]');
    await triage.locator(`#task-${lost.id}`).waitFor({ timeout: 20_000 });
    await triage.getByText(/no routing rule matches it/).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, `routing-triage-${label}.png`) });
    h.bosun('retry', String(lost.id), '--agent', 'writer');
    await h.waitTask(lost.id, (t) => t.status === 'review', 'review');
    await triage.waitFor({ state: 'detached', timeout: 20_000 });
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
