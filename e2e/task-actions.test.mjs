// The task page's buttons, each in a real browser against a real daemon with fake
// agents: Deny with a reason, Approve with "Always allow", Reply (a new run), Retry (a
// failed task), Stop and Interrupt (a running task waiting on a gate file), and what
// Reply and Retry say they will do to a stopped task (continue its session, start over).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
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
    // A second ask arrives while the first is being answered (after the gate file).
    asks2: {
      interactive: true,
      steps: [
        { read_prompt: true },
        { emit: { type: 'approval_request', id: 'b1', tool: 'Bash', kind: 'command', command: 'rm -rf dist' } },
        { wait_file: join(tmp, 'second-ask') },
        { emit: { type: 'approval_request', id: 'b2', tool: 'Bash', kind: 'command', command: 'make dist' } },
        { wait_file: join(tmp, 'never') },
      ],
    },
    quick: { steps: [{ say: 'quick work' }] },
    broken: { steps: [{ say: 'about to fail' }, { exit: 1 }] },
    gated: { steps: [{ say: 'waiting at the gate' }, { wait_file: join(tmp, 'never') }, { say: 'passed the gate' }] },
    sessioned: { steps: [{ emit: { type: 'session', session_id: 'sess-1' } }, { say: 'in session' }, { wait_file: join(tmp, 'never') }] },
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

test('a reason being typed survives another ask arriving, and is the one sent', async () => {
  const t = await h.createTask('Ask while typing', 'asks2');
  const { ctx, page, errors, timeline } = await open(t.id);
  const first = page.locator('.ask', { hasText: 'rm -rf dist' });
  await first.waitFor({ timeout: 20_000 });
  const reason = first.getByLabel('Reason to deny Bash');
  await reason.fill('not this one');
  writeFileSync(join(h.tmp, 'second-ask'), '');
  await page.locator('.ask', { hasText: 'make dist' }).waitFor({ timeout: 20_000 });
  // The live update re-read the asks: the first one's element, and its text, stayed.
  assert.equal(await reason.inputValue(), 'not this one');
  await first.getByRole('button', { name: 'Deny' }).click();
  await timeline.getByText('not this one').waitFor();
  const events = await h.api(`/api/tasks/${t.id}/events`);
  const answer = events.find((e) => e.type === 'approval' && e.id === 'b1');
  assert.equal(answer?.allow, false);
  assert.equal(answer?.message, 'not this one');
  await h.api(`/api/tasks/${t.id}/stop`, { method: 'POST', body: {} });
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

test('a stopped task says Reply continues its session and Retry starts over, and Reply does', async () => {
  const withSession = await h.createTask('Stopped in session', 'sessioned');
  const without = await h.createTask('Stopped without', 'gated');
  for (const t of [withSession, without]) {
    await h.waitTask(t.id, (x) => x.status === 'running' && x.runs[0]?.pid, 'running');
    await h.api(`/api/tasks/${t.id}/stop`, { method: 'POST', body: {} });
  }
  await h.waitTask(withSession.id, (x) => x.status === 'stopped' && x.runs[0].session_id === 'sess-1', 'stopped with its session');

  const { ctx, page, errors, status } = await open(without.id);
  await status('stopped');
  await page.locator('#next-run', { hasText: 'left no session to continue' }).waitFor();
  await page.getByRole('button', { name: 'Retry: start over' }).waitFor();
  await page.goto(`${h.base}/tasks/${withSession.id}`);
  await status('stopped');
  await page.locator('#next-run', { hasText: "Reply continues the agent's session with your message; Retry starts over in a new session." }).waitFor();
  await page.getByRole('button', { name: 'Retry: start over' }).waitFor();
  assert.match(await page.getByLabel('Reply').getAttribute('placeholder'), /continues its session/);
  await page.getByLabel('Reply').fill('carry on');
  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  const back = await h.waitTask(withSession.id, (x) => x.runs.length === 2, 'continued');
  assert.equal(back.resume, true, 'its next run continues the session');
  await status('running');
  await h.api(`/api/tasks/${withSession.id}/stop`, { method: 'POST', body: {} });
  assert.deepEqual(errors, []);
  await ctx.close();
});
