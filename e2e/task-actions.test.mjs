// The task page's buttons, each in a real browser against a real daemon with fake
// agents: Deny with a reason, Approve with "Always allow", Reply (a new run), Retry (a
// failed task), Stop and Interrupt (a running task waiting on a gate file).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { start } from './harness.mjs';

let h;

before(async () => {
  h = await start((tmp) => ({
    asker: {
      interactive: true,
      steps: [
        { read_prompt: true },
        { ask: { id: 'a1', tool: 'Bash', kind: 'command', command: 'rm -rf build' } },
        { ask: { id: 'a2', tool: 'Bash', kind: 'command', command: 'make all' } },
        { say: 'asked twice' },
      ],
    },
    quick: { steps: [{ say: 'quick work' }] },
    broken: { steps: [{ say: 'about to fail' }, { exit: 1 }] },
    gated: { steps: [{ say: 'waiting at the gate' }, { wait_file: join(tmp, 'never') }, { say: 'passed the gate' }] },
  }));
});

after(async () => { await h?.close(); });

/** A page on task `id` that records page errors. */
async function open(id) {
  const ctx = await h.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${h.base}/tasks/${id}`);
  const timeline = page.getByRole('list', { name: 'Events' });
  const status = (s) => page.locator(`#task-status[data-status=${s}]`).waitFor({ timeout: 20_000 });
  return { ctx, page, errors, timeline, status };
}

test('deny with a reason, then approve with "always allow", on the task page', async () => {
  const t = await h.createTask('Ask twice', 'asker');
  const { ctx, page, errors, timeline, status } = await open(t.id);
  const first = page.locator('.ask', { hasText: 'rm -rf build' });
  await first.waitFor({ timeout: 20_000 });
  await first.getByLabel('Reason to deny Bash').fill('not today');
  await first.getByRole('button', { name: 'Deny' }).click();
  await timeline.getByText('denied: not today').waitFor();
  const second = page.locator('.ask', { hasText: 'make all' });
  await second.waitFor();
  await second.getByLabel('Always allow').check();
  await second.getByRole('button', { name: 'Approve' }).click();
  await timeline.getByText(/^approved$/).waitFor();
  await timeline.getByText('asked twice').waitFor();
  await status('review');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('an agent that cannot take messages gets no steer box, and says why', async () => {
  const t = await h.createTask('Deaf but busy', 'gated');
  const { ctx, page, errors, timeline, status } = await open(t.id);
  await timeline.getByText('waiting at the gate').waitFor({ timeout: 20_000 });
  await status('running');
  await page.getByText('takes no messages while it runs').waitFor();
  assert.equal(await page.getByLabel('Steer').isVisible(), false, 'no steer box for an agent that cannot hear it');
  await page.getByRole('button', { name: 'Stop' }).click();
  await status('stopped');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('reply to a task in review starts a new run', async () => {
  const t = await h.createTask('Quick one', 'quick');
  await h.waitTask(t.id, (x) => x.status === 'review', 'review');
  const { ctx, page, errors, status } = await open(t.id);
  await status('review');
  await page.getByLabel('Reply').fill('one more thing');
  await page.getByRole('button', { name: 'Reply' }).click();
  const back = await h.waitTask(t.id, (x) => x.runs.length === 2 && x.status === 'review', 'in review after a second run');
  assert.equal(back.runs.length, 2);
  await page.getByRole('cell', { name: '#' + back.runs[1].id }).waitFor();
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('retry a failed task', async () => {
  const t = await h.createTask('Doomed', 'broken');
  await h.waitTask(t.id, (x) => x.status === 'failed', 'failed');
  const { ctx, page, errors, status } = await open(t.id);
  await status('failed');
  await page.getByRole('button', { name: 'Retry' }).click();
  const again = await h.waitTask(t.id, (x) => x.runs.length === 2 && x.status === 'failed', 'failed twice');
  await page.getByRole('cell', { name: '#' + again.runs[1].id }).waitFor();
  await status('failed');
  assert.deepEqual(errors, []);
  await ctx.close();
});

for (const verb of ['Stop', 'Interrupt']) {
  test(`${verb.toLowerCase()} a running task`, async () => {
    const t = await h.createTask(`Gated for ${verb}`, 'gated');
    const { ctx, page, errors, timeline } = await open(t.id);
    await timeline.getByText('waiting at the gate').waitFor({ timeout: 20_000 });
    await page.locator('#task-status[data-status=running]').waitFor();
    await page.getByRole('button', { name: verb, exact: true }).click();
    await page.locator('#task-status:is([data-status=stopped], [data-status=interrupted])').waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Retry' }).waitFor();
    assert.equal(await timeline.getByText('passed the gate').count(), 0);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
