// The web board end to end: a real `bosun serve` with the scripted fake agent, driven
// in Debian's chromium by playwright-core at a phone and a laptop size. Writes
// screenshots of the board, a task page and the approvals inbox to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, start } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const SIZES = [{ width: 375, height: 812 }, { width: 1280, height: 800 }];

let h, tmp, base, browser;

/** An interactive fake agent: says hello, runs a command, asks, waits to be steered, writes `file`. */
function agent(name, file) {
  const steps = [
    { read_prompt: true },
    { say: 'Starting on it' },
    { emit: { type: 'tool_call', kind: 'command', name: 'Bash', command: 'ls -la' } },
    { emit: { type: 'tool_result', kind: 'command', output: 'README.md\n', exit_code: 0 } },
    { ask: { id: 'a1', tool: 'Bash', kind: 'command', command: 'rm -rf build' } },
    { listen: 1 },
    { write: { path: file, content: `written by ${name}\n` } },
    { usage: { input_tokens: 1200, output_tokens: 300, cost_usd: 0.0123 } },
  ];
  return { steps, interactive: true };
}

before(async () => {
  h = await start({ 'worker-375': agent('worker-375', 'phone.txt'), 'worker-1280': agent('worker-1280', 'laptop.txt') });
  ({ tmp, base, browser } = h);
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await h?.close();
});

/** Records, in the page, every status each board card shows (to prove it changes live). */
function recordStatuses() {
  window.__loadedOnce = true;
  window.__seen = {};
  const scan = () => {
    for (const c of document.querySelectorAll('.card[data-id]')) {
      const seen = (window.__seen[c.dataset.id] ||= []);
      if (seen[seen.length - 1] !== c.dataset.status) seen.push(c.dataset.status);
    }
  };
  new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true });
  scan();
}

for (const size of SIZES) {
  const tag = `${size.width}x${size.height}`;
  test(`the board at ${tag}: create, follow, approve, steer, diff, merge`, async () => {
    const ctx = await browser.newContext({ viewport: size });
    const errors = [];
    const board = await ctx.newPage();
    board.on('pageerror', (e) => errors.push(String(e)));
    await board.goto(base + '/');
    await board.getByRole('search', { name: 'Filter tasks' }).waitFor();
    await board.evaluate(recordStatuses);

    // Create the task from the form in a second tab; the first keeps watching the board.
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(base + '/');
    await page.getByRole('link', { name: 'New task' }).click();
    await page.getByLabel('Title').fill(`Greet from ${tag}`);
    await page.getByLabel('What to do').fill('Write a greeting file.');
    await page.getByLabel('Repository').fill(join(tmp, 'app'));
    await page.getByLabel('Repository').dispatchEvent('change');
    await page.getByLabel('Agent').selectOption(`worker-${size.width}`);
    await page.getByLabel('Tags').fill('web, demo');
    await page.getByRole('button', { name: 'Create task' }).click();
    const card = page.locator('.card', { hasText: `Greet from ${tag}` });
    await card.waitFor();
    const id = Number(await card.getAttribute('data-id'));
    assert.ok(id > 0);

    // The task page: events appear live; the ask waits for us.
    await card.getByRole('link').click();
    assert.equal(new URL(page.url()).pathname, `/tasks/${id}`);
    const timeline = page.getByRole('list', { name: 'Events' });
    await timeline.getByText('Starting on it').waitFor();
    await timeline.getByText('ls -la').waitFor();
    await page.getByRole('heading', { name: 'Waiting for you' }).waitFor();

    // The approvals inbox: approve in one tap.
    await page.getByRole('link', { name: /^Approvals/ }).click();
    const ask = page.locator('.ask', { hasText: 'rm -rf build' });
    await ask.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, `approvals-${tag}.png`), fullPage: true });
    await ask.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('No agent is waiting for an answer.').waitFor();

    // Back on the task page (history, no reload): the answer shows up live; steer it.
    await page.goBack();
    await timeline.getByText(/^approved$/).waitFor();
    await page.getByLabel('Steer').fill('please keep it short');
    await page.getByRole('button', { name: 'Send' }).click();
    await timeline.getByText('heard: please keep it short').waitFor();
    await page.locator('#task-status[data-status=review]').waitFor();
    await page.getByRole('tab', { name: 'Changes' }).click();
    const file = size.width === 375 ? 'phone.txt' : 'laptop.txt';
    await page.getByRole('navigation', { name: 'Changed files' }).getByRole('button', { name: file }).click();
    await page.locator('.diff-table td.code.add', { hasText: `written by worker-${size.width}` }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, `task-${tag}.png`), fullPage: true });
    await page.getByRole('button', { name: 'Merge…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Merge into main' }).click();
    await page.locator('#task-status[data-status=done]').waitFor();

    // The board tab saw it all live, without reloading (done tasks behind their toggle).
    await board.getByRole('button', { name: 'Show done' }).click();
    await board.locator(`.card[data-id="${id}"][data-status=done]`).waitFor();
    const { seen, loaded } = await board.evaluate((i) => ({ seen: window.__seen[i], loaded: window.__loadedOnce }), String(id));
    assert.equal(loaded, true, 'the board was not reloaded');
    const order = ['queued', 'running', 'review', 'done'].map((s) => seen.indexOf(s));
    assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), `board statuses in order: ${seen}`);
    await board.screenshot({ path: join(ARTIFACTS, `board-${tag}.png`), fullPage: true });
    assert.deepEqual(errors, []);
    const log = execFileSync('git', ['log', '--format=%s', 'main'], { cwd: join(tmp, 'app') }).toString();
    assert.match(log, new RegExp(`Greet from ${tag}`));
    await ctx.close();
  });
}
