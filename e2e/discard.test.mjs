// Discard on the task page, in a real browser at phone and laptop sizes: work that
// would be lost is named and confirmed first (and "Keep it" keeps it); a task with
// nothing to lose goes at once. The board shows discarded tasks as done, and archived
// ones leave the columns and the list, live and after a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, start } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const SIZES = [{ width: 375, height: 812 }, { width: 1280, height: 800 }];

let h;

before(async () => {
  h = await start({
    writer: { steps: [{ write: { path: '{now_ns}.txt', content: 'precious\n' } }] },
    idle: { steps: [{ say: 'nothing to change' }] },
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => { await h?.close(); });

const branches = () => execFileSync('git', ['branch', '--list', 'bosun/*', '--format=%(refname:short)'], { cwd: h.repo }).toString().trim().split('\n').filter(Boolean);

for (const size of SIZES) {
  const tag = `${size.width}x${size.height}`;
  test(`discard asks before losing work, and archived tasks leave the board, at ${tag}`, async () => {
    const t = await h.createTask(`Keep or drop ${tag}`, 'writer');
    const t2 = await h.createTask(`Nothing to lose ${tag}`, 'idle');
    const kept = await h.createTask(`Still here ${tag}`, 'idle');
    for (const x of [t, t2, kept]) await h.waitTask(x.id, (y) => y.status === 'review', 'review');
    const ctx = await h.browser.newContext({ viewport: size });
    const errors = [];
    const board = await ctx.newPage();
    board.on('pageerror', (e) => errors.push(String(e)));
    await board.goto(`${h.base}/`);
    await board.locator(`.card[data-id="${t.id}"][data-status=review]`).waitFor();

    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${h.base}/tasks/${t.id}`);
    const status = (s) => page.locator(`#task-status[data-status=${s}]`).waitFor({ timeout: 20_000 });
    await status('review');
    const branch = (await h.api(`/api/tasks/${t.id}`)).branch;

    // Work would be lost: asked first, and "Keep it" keeps it.
    await page.getByRole('button', { name: 'Discard' }).click();
    const ask = page.getByRole('alertdialog');
    await ask.getByText(`Discarding T-${t.id} loses 1 commit on ${branch} not in main (1 file changed).`).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, `discard-${tag}.png`), fullPage: true });
    await ask.getByRole('button', { name: 'Keep it' }).click();
    await ask.waitFor({ state: 'detached' });
    assert.equal((await h.api(`/api/tasks/${t.id}`)).status, 'review');
    assert.ok(branches().includes(branch), 'the branch is still there');

    await page.getByRole('button', { name: 'Discard' }).click();
    await ask.getByRole('button', { name: 'Discard anyway' }).click();
    await page.getByText('Discarded.').waitFor(); // the answer: worktree and branch removed
    await status('discarded');
    assert.equal(await page.getByRole('button', { name: 'Discard' }).count(), 0);
    assert.ok(!branches().includes(branch), 'the branch is gone');

    // Nothing to lose: discarded at once, no question.
    await page.goto(`${h.base}/tasks/${t2.id}`);
    await status('review');
    await page.getByRole('button', { name: 'Discard' }).click();
    await status('discarded');
    assert.equal(await page.getByRole('alertdialog').count(), 0);

    // The board (never reloaded) shows both among the finished; archived, they leave it.
    await board.getByRole('button', { name: 'Show done' }).click();
    const done = board.locator('[data-column=done]');
    await done.locator(`.card[data-id="${t.id}"][data-status=discarded]`).waitFor();
    await done.locator(`.card[data-id="${t2.id}"][data-status=discarded]`).waitFor();
    await h.api('/api/archive', { method: 'POST', body: { ids: [t.id, t2.id] } });
    await board.locator(`.card[data-id="${t.id}"]`).waitFor({ state: 'detached' });
    await board.locator(`.card[data-id="${t2.id}"]`).waitFor({ state: 'detached' });
    await board.getByRole('button', { name: 'List view' }).click();
    const list = board.getByRole('list', { name: 'Tasks' });
    await list.locator(`.card[data-id="${kept.id}"]`).waitFor();
    assert.equal(await list.locator(`.card[data-id="${t.id}"], .card[data-id="${t2.id}"]`).count(), 0, 'not in the list view');
    await board.reload();
    await list.locator(`.card[data-id="${kept.id}"]`).waitFor();
    assert.equal(await list.locator(`.card[data-id="${t.id}"], .card[data-id="${t2.id}"]`).count(), 0, 'not after a reload');
    await board.getByRole('button', { name: 'List view' }).click(); // back to columns for the next size
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
