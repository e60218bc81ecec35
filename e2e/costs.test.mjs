// Money on the board, against a real daemon whose fake agents report usage (priced by
// bosun's table: claude-sonnet at $3 per million input tokens): every card's cost and
// every run's model, tokens and cost on the task page are the ledger's; the Costs page
// shows the ledger's totals by day and by profile and each budget's limit, spent,
// reserved and remaining; a task blocked by its budget waits with the queued ones, and
// Raise (on the Costs page and on the task page) lets a stopped or blocked task go on.
// At phone (375 px, no sideways scroll) and desktop sizes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, ROOT } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const MODEL = 'claude-sonnet-4-5';
const usage = (input_tokens) => ({ usage: { input_tokens } });

/** Dollars as the board shows them (api.js `money`). */
function money(usd) {
  if (usd > 0 && usd < 0.00005) return '<$0.0001';
  return usd > 0 && usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}
const runsCost = (t) => t.runs.reduce((a, r) => a + (r.cost_usd ?? 0), 0);

let h;
before(async () => {
  h = await start({
    // $0.30, then done.
    cheap: { model: MODEL, steps: [usage(100_000), { say: 'cheap done' }] },
    // $0.30 a report, three of them: a $0.50 budget stops it at the second.
    costly: { model: MODEL, steps: [usage(100_000), usage(100_000), usage(100_000), { say: 'costly done' }] },
  });
  writeFileSync(join(h.tmp, 'config/routing.toml'), '[budget]\ndaily = 50.0\n');
});
after(async () => { await h?.close(); });
mkdirSync(ARTIFACTS, { recursive: true });

/** A page at `viewport` that records page errors. */
async function open(viewport) {
  const ctx = await h.browser.newContext({ viewport });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { ctx, page, errors };
}

const noSideways = (page, width) => page.evaluate((w) => document.documentElement.scrollWidth <= w, width);

/** The Costs page shows what the ledger says: the total, each day's and each profile's row, each budget's figures. */
async function costsMatchTheLedger(page, width) {
  const days = await h.api('/api/costs?by=day');
  const profiles = await h.api('/api/costs?by=profile');
  const { budgets } = await h.api('/api/budgets');
  await page.locator('#cost-total', { hasText: money(days.total_usd) }).waitFor({ timeout: 10_000 });
  for (const [list, label] of [[days.rows, 'Cost by day'], [profiles.rows, 'Cost by profile']]) {
    const shown = page.getByRole('list', { name: label });
    assert.equal(await shown.locator('.bar-row').count(), list.length, label);
    for (const r of list) {
      const row = shown.locator(`.bar-row[data-key="${r.key}"]`);
      assert.equal(await row.locator('.bar-value').textContent(), money(r.cost_usd), `${label} ${r.key}`);
      assert.match(await row.locator('.bar-tokens').textContent(), new RegExp(`^${r.input_tokens.toLocaleString('en-US')} in · ${r.output_tokens} out · ${r.cached_tokens} cached · ${r.reports} report`));
    }
  }
  for (const b of budgets) {
    const item = page.locator(`.budget[data-budget="${b.name}"]`);
    assert.equal(await item.locator('.limit').textContent(), `${money(b.limit)} limit`, b.name);
    assert.equal(await item.locator('.spent').textContent(), `${money(b.spent)} spent`, b.name);
    assert.equal(await item.locator('.reserved').textContent(), `${money(b.reserved)} reserved`, b.name);
    assert.equal(await item.locator('.remaining').textContent(), `${money(b.remaining)} remaining`, b.name);
  }
  assert.ok(await noSideways(page, width), 'no sideways scroll on the Costs page');
}

for (const [label, viewport] of [['phone', { width: 375, height: 812 }], ['desktop', { width: 1280, height: 800 }]]) {
  test(`cards, runs and the Costs page show the ledger's figures; Raise lets a task go on (${label})`, async () => {
    const { ctx, page, errors } = await open(viewport);
    const cheap = await h.createTask(`Cheap ${label}`, 'cheap');
    const costly = await h.createTask(`Costly ${label}`, 'costly', { budget: 0.5 });
    await h.waitTask(cheap.id, (t) => t.status === 'review', 'review');
    let stopped = await h.waitTask(costly.id, (t) => t.status === 'needs_input', 'stopped by its budget');
    assert.match(stopped.status_reason, /^stopped: budget `task T-\d+`: \$0\.60 spent/);

    // Every card's cost is its runs' sum.
    await page.goto(h.base);
    for (const t of [await h.api(`/api/tasks/${cheap.id}`), stopped]) {
      await page.locator(`#task-${t.id} .cost`, { hasText: money(runsCost(t)) }).waitFor({ timeout: 10_000 });
    }
    assert.ok(await noSideways(page, viewport.width), 'no sideways scroll on the board');

    // The task page: each run's model, tokens and cost.
    await page.goto(`${h.base}/tasks/${stopped.id}`);
    const run = stopped.runs[0];
    const row = page.locator(`.runs tr[data-run="${run.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.equal(await row.locator('.run-model').textContent(), MODEL);
    assert.equal(await row.locator('.run-cost').textContent(), money(run.cost_usd));
    assert.equal(await row.locator('.run-tokens').textContent(), `${run.input_tokens.toLocaleString('en-US')} in · ${run.output_tokens} out · ${run.cached_tokens} cached`);
    assert.ok(await noSideways(page, viewport.width), 'no sideways scroll on the task page');

    // The Costs page, its Raise on the stopped task's budget.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Costs' }).click();
    await costsMatchTheLedger(page, viewport.width);
    await page.screenshot({ path: join(ARTIFACTS, `costs-${label}.png`), fullPage: true });
    const mine = page.locator(`.budget[data-budget="task T-${stopped.id}"]`);
    await mine.getByLabel(`New budget for T-${stopped.id} in dollars`).fill('5');
    await mine.getByRole('button', { name: 'Raise' }).click();
    const done = await h.waitTask(stopped.id, (t) => t.status === 'review', 'review after the raise');
    assert.equal(done.budget, 5);
    assert.equal(done.runs.length, 2);
    // The page follows: the new spend, the ledger's total still the runs' sum.
    const all = await h.api('/api/tasks');
    const ledger = await h.api('/api/costs?by=task');
    assert.ok(Math.abs(ledger.total_usd - all.reduce((a, t) => a + runsCost(t), 0)) < 1e-9, 'the ledger is the runs\' sum');
    await page.locator('#cost-total', { hasText: money(ledger.total_usd) }).waitFor({ timeout: 10_000 });
    await costsMatchTheLedger(page, viewport.width);

    // A task its own budget blocks waits with the queued ones, and starts once raised
    // from its page.
    const blocked = await h.createTask(`Blocked ${label}`, 'cheap', { budget: 0 });
    const b = await h.waitTask(blocked.id, (t) => t.status === 'blocked', 'blocked by its budget');
    assert.equal(b.waiting.budget, `task T-${blocked.id}`);
    await page.goto(h.base);
    const card = page.locator(`[data-column=queued] #task-${blocked.id}, .list #task-${blocked.id}`);
    await card.waitFor({ timeout: 10_000 });
    assert.match(await card.textContent(), /blocked by budget `task T-\d+`/);
    assert.equal(await card.locator('.reason.note', { hasText: 'blocked by budget' }).count(), 1, 'said as a wait, not as a failure');
    await page.goto(`${h.base}/tasks/${blocked.id}`);
    await page.getByLabel(`New budget for T-${blocked.id} in dollars`).fill('1');
    await page.getByRole('button', { name: 'Raise' }).click();
    await page.locator('#task-status[data-status=review]').waitFor({ timeout: 20_000 });
    assert.equal((await h.api(`/api/tasks/${blocked.id}`)).runs.length, 1);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
