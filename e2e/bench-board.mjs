// Board figures for BENCHMARKS.md (a script, not a test: nothing is asserted):
// how long the board takes to show 1,000 tasks, how long one live change takes to
// reach its card, and how long a 5,000-line diff takes to open on the review page.
// Run after `cargo build -p bosun`: `node e2e/bench-board.mjs`.
import { join } from 'node:path';
import { start } from './harness.mjs';

const TASKS = 1000;
const LINES = 5000;
const RUNS = 5;

const h = await start((tmp) => ({
  // One at a time, held: the other tasks stay queued.
  held: { max_concurrent: 1, steps: [{ wait_file: { path: join(tmp, 'never'), timeout_ms: 600000 } }] },
  big: { steps: [{ write: { path: 'big.rs', content: Array.from({ length: LINES }, (_, i) => `fn f${i}() -> u32 { ${i} }`).join('\n') + '\n' } }] },
}));
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  for (let i = 0; i < TASKS; i++) await h.api('/api/tasks', { method: 'POST', body: { title: `Task number ${i} with a title of some length`, agent: 'held', tags: ['bench'] } });
  const big = await h.createTask('A big file', 'big');
  await h.waitTask(big.id, (t) => t.status === 'review', 'review', 120_000);

  const ctx = await h.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const board = [];
  const live = [];
  for (let r = 0; r < RUNS; r++) {
    await page.goto(`${h.base}/`);
    await page.waitForFunction((n) => document.querySelectorAll('.card').length >= n, TASKS, { timeout: 60_000 });
    // From navigation start (module loading and the list request included) to the cards.
    board.push(await page.evaluate(() => performance.now()));
    // A live change to one queued task (its priority), until its card shows it moved.
    const id = 500 + r;
    const t0 = await page.evaluate((i) => { window.__mark = document.getElementById(`task-${i}`); return performance.now(); }, id);
    await h.api(`/api/tasks/${id}/edit`, { method: 'POST', body: { priority: 10 + r } });
    await page.waitForFunction((i) => document.getElementById(`task-${i}`) !== window.__mark, id);
    live.push((await page.evaluate(() => performance.now())) - t0);
  }
  const diff = [];
  const firstRows = [];
  for (let r = 0; r < RUNS; r++) {
    await page.goto(`${h.base}/tasks/${big.id}`);
    // Over 400 lines: collapsed until asked; its name in the files list opens it.
    const open = page.getByRole('navigation', { name: 'Changed files' }).getByRole('button', { name: 'big.rs' });
    await open.waitFor();
    const t0 = await page.evaluate(() => performance.now());
    await open.click();
    await page.waitForFunction(() => document.querySelector('.diff-table tr.dl'), null, { timeout: 60_000 });
    firstRows.push((await page.evaluate(() => performance.now())) - t0);
    await page.waitForFunction((n) => document.querySelectorAll('.diff-table tr.dl').length >= n, LINES, { timeout: 60_000 });
    diff.push((await page.evaluate(() => performance.now())) - t0);
  }
  console.log(`| board with ${TASKS} tasks, navigation to cards | ${median(board).toFixed(0)} ms (median of ${RUNS}) |`);
  console.log(`| one live change to its card (edit → SSE → card) | ${median(live).toFixed(0)} ms |`);
  console.log(`| ${LINES}-line diff, opened from the files list to its first lines shown | ${median(firstRows).toFixed(0)} ms |`);
  console.log(`| ${LINES}-line diff, opened from the files list to every line rendered and highlighted | ${median(diff).toFixed(0)} ms |`);
  // One full render of the board (the List view toggle: every card built and laid out).
  await page.goto(`${h.base}/`);
  await page.waitForFunction((n) => document.querySelectorAll('.card').length >= n, TASKS, { timeout: 60_000 });
  const renders = [];
  for (let r = 0; r < RUNS; r++) {
    renders.push(await page.evaluate(() => {
      const b = [...document.querySelectorAll('button')].find((x) => x.textContent === 'List view');
      const t = performance.now();
      b.click();
      void document.body.offsetHeight; // layout included
      return performance.now() - t;
    }));
  }
  console.log(`| board with ${TASKS} tasks, one full render and layout | ${median(renders).toFixed(0)} ms |`);
  await ctx.close();
} finally {
  await h.close();
}
