// Review like a pull request, in a real browser at phone and laptop sizes, against a
// real daemon and the scripted fake agent: the board leads with what needs you (and
// approves from the card), the review page is diff first (+/− counts, line comments
// sent as one "Request changes" the agent's next prompt carries, a merge through the
// confirm sheet), conflicts have a way forward (a run that leaves markers is refused
// a commit; the agent resolves them), search and
// filters live in the URL, done tasks are out of the way, editing a queued task's
// agent changes who runs it, and axe-core finds no serious or critical violation.
// Screenshots of each page land in test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, start } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const SIZES = [{ width: 375, height: 812 }, { width: 1280, height: 800 }];
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const GIT = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com'];

let h;
const script = (name, steps) => writeFileSync(join(h.tmp, `${name}.jsonl`), steps.map((s) => JSON.stringify(s)).join('\n') + '\n');

before(async () => {
  h = await start((tmp) => ({
    // Asks to run a command, then waits until answered.
    asker: { interactive: true, steps: [{ read_prompt: true }, { ask: { id: 'a1', tool: 'Bash', kind: 'command', command: 'cargo test --workspace' } }, { say: 'tests ran' }] },
    // Its script is written by each test (`script`).
    coder: { steps: [{ say: 'no script yet' }] },
    readme: { steps: [{ write: { path: 'README.md', content: '# the agent readme\n' } }] },
    gated: { max_concurrent: 1, steps: [{ say: 'holding the slot' }, { wait_file: join(tmp, 'open-gate') }] },
    quick: { steps: [{ say: 'quick did it' }] },
    idle: { steps: [{ say: 'nothing to change' }] },
  }));
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => { await h?.close(); });

/** A page at `size` (CSP bypassed so the audit can inject axe-core) that records page errors. */
async function open(size, path) {
  const ctx = await h.browser.newContext({ viewport: size, bypassCSP: true, reducedMotion: 'reduce' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(h.base + path);
  return { ctx, page, errors };
}

/** axe-core on the page as it is: no serious or critical violation. */
async function audit(page, what) {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`));
  assert.deepEqual(found, [], `axe on ${what}`);
}

const git = (...args) => execFileSync('git', [...GIT, ...args], { cwd: h.repo }).toString().trim();

for (const size of SIZES) {
  const tag = `${size.width}x${size.height}`;

  test(`the board leads with what needs you, and approves from the card, at ${tag}`, async () => {
    const other = await h.createTask(`Reviewable ${tag}`, 'idle');
    await h.waitTask(other.id, (t) => t.status === 'review', 'review');
    const ask = await h.createTask(`Run the tests ${tag}`, 'asker');
    await h.waitTask(ask.id, (t) => t.status === 'needs_input', 'needs input');
    const { ctx, page, errors } = await open(size, '/');
    const first = page.locator('.board-body .card').first();
    await first.locator('.card-ask code.cmd', { hasText: 'cargo test --workspace' }).waitFor();
    assert.equal(await first.getAttribute('data-id'), String(ask.id), 'the ask comes before everything else');
    const bottom = await page.locator(`.card[data-id="${ask.id}"]`).evaluate((el) => el.getBoundingClientRect().bottom);
    assert.ok(bottom <= size.height, `on the first screen (${bottom}px)`);
    await page.waitForFunction(() => /^\(\d+\) bosun$/.test(document.title)); // the tab title counts what needs you
    await page.screenshot({ path: join(ARTIFACTS, `review-board-${tag}.png`), fullPage: true });
    assert.ok(await page.evaluate((w) => document.documentElement.scrollWidth <= w, size.width), 'no sideways scroll on the board');
    await audit(page, `the board at ${tag}`);
    // The approvals inbox with the ask waiting, in a second tab.
    const inbox = await ctx.newPage();
    await inbox.goto(`${h.base}/approvals`);
    await inbox.locator('.ask code.cmd', { hasText: 'cargo test --workspace' }).waitFor();
    await inbox.screenshot({ path: join(ARTIFACTS, `review-approvals-${tag}.png`), fullPage: true });
    await audit(inbox, `approvals at ${tag}`);
    await inbox.close();
    if (size.width >= 900) {
      // Desktop shortcuts: ? lists them; j moves to the first card, a approves its ask.
      await page.keyboard.press('?');
      const keys = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await keys.waitFor();
      await audit(page, `the shortcuts at ${tag}`);
      await page.keyboard.press('Escape');
      await keys.waitFor({ state: 'detached' });
      await page.keyboard.press('j');
      assert.equal(await page.evaluate(() => document.activeElement.closest('.card')?.dataset.id), String(ask.id));
      await page.keyboard.press('a');
    } else {
      await first.getByRole('button', { name: `Approve T-${ask.id}` }).click();
    }
    await h.waitTask(ask.id, (t) => t.status === 'review', 'review after the approval');
    await page.locator(`.card[data-id="${ask.id}"][data-status=review]`).waitFor();

    // And its empty state.
    await page.goto(`${h.base}/approvals`);
    await page.getByText('No agent is waiting for an answer.').waitFor();
    await audit(page, `empty approvals at ${tag}`);
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test(`review: counts, a line comment becomes the next prompt, merge through the sheet, at ${tag}`, async () => {
    const src = `src/one_${size.width}.rs`;
    script('coder', [
      { write: { path: src, content: 'pub fn one() -> u32 {\n    1\n}\n' } },
      { write: { path: `notes-${size.width}.md`, content: `# notes\nsee ${src}\n` } },
      { say: 'Added one() and documented it.' },
    ]);
    const t = await h.createTask(`Add one ${tag}`, 'coder');
    await h.waitTask(t.id, (x) => x.status === 'review', 'review');
    const { ctx, page, errors } = await open(size, `/tasks/${t.id}`);
    const nav = page.getByRole('navigation', { name: 'Changed files' });
    const lib = nav.locator('li', { hasText: src });
    await lib.waitFor();
    assert.equal((await lib.locator('.stat').innerText()).trim(), '+3 −0');
    assert.equal((await nav.locator('li', { hasText: `notes-${size.width}.md` }).locator('.stat').innerText()).trim(), '+2 −0');
    await page.locator('.summary', { hasText: 'Added one() and documented it.' }).waitFor();
    await page.locator('.diff-table .hljs-keyword', { hasText: 'pub' }).first().waitFor(); // highlighted as Rust
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= size.width, `no sideways scroll (${width}px)`);
    await page.screenshot({ path: join(ARTIFACTS, `review-page-${tag}.png`), fullPage: true });
    // Side by side only where the screen is wide enough.
    const sideBySide = page.getByRole('button', { name: 'Side by side' });
    if (size.width >= 1000) {
      await sideBySide.click();
      await page.locator('.diff-table.split td.code.add', { hasText: 'pub fn one' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, `review-split-${tag}.png`), fullPage: true });
      assert.ok(await page.evaluate((w) => document.documentElement.scrollWidth <= w, size.width), 'no sideways scroll split');
      // Back by keyboard (every action is reachable by keyboard).
      await sideBySide.focus();
      await page.keyboard.press('Enter');
      assert.equal(await sideBySide.getAttribute('aria-pressed'), 'false');
      await page.locator('.diff-table.unified td.code.add', { hasText: 'pub fn one' }).waitFor();
    } else {
      assert.equal(await sideBySide.count(), 0, 'a phone is unified only');
    }
    // "Viewed" collapses a file, and this browser remembers it.
    const notes = page.locator('section.file', { hasText: `notes-${size.width}.md` });
    await notes.getByLabel('Viewed').check();
    assert.equal(await notes.locator('.file-toggle').getAttribute('aria-expanded'), 'false');
    await page.reload();
    await nav.locator('li', { hasText: `notes-${size.width}.md` }).getByText('✓ viewed').waitFor();
    assert.equal(await notes.getByLabel('Viewed').isChecked(), true);
    assert.equal(await notes.locator('.file-toggle').getAttribute('aria-expanded'), 'false');
    await audit(page, `the review page at ${tag}`);

    // A comment on line 2 of the Rust file and an overall note: one reply; the next run's prompt has them.
    script('coder', [{ echo_env: ['BOSUN_PROMPT'] }]);
    await page.getByRole('button', { name: `Comment on ${src} line 2` }).click();
    await page.getByRole('textbox', { name: `Comment on ${src} line 2` }).fill('return 2 instead');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await page.getByLabel('Overall note').fill('Nearly there.');
    await page.getByRole('button', { name: 'Request changes (1 comment)' }).click();
    await h.waitTask(t.id, (x) => x.status === 'review' && x.runs.length === 2, 'reviewed again');
    const events = await h.api(`/api/tasks/${t.id}/events?after=0&limit=1000`);
    const prompt = events.map((e) => e.text || '').find((x) => x.startsWith('BOSUN_PROMPT='));
    assert.ok(prompt?.includes('Nearly there.') && prompt.includes(`${src}:2:\n>     1\nreturn 2 instead`), prompt);

    // Merge with the merge strategy and an edited message: a merge commit.
    await page.locator('#task-status[data-status=review]').waitFor();
    await page.getByRole('button', { name: 'Merge…' }).click();
    const sheet = page.getByRole('dialog', { name: `Merge T-${t.id} into main` });
    await sheet.getByRole('radio', { name: /Merge commit/ }).check();
    await sheet.getByLabel('Commit message').fill(`Land one ${tag}`);
    await page.screenshot({ path: join(ARTIFACTS, `review-merge-sheet-${tag}.png`) });
    await audit(page, `the merge sheet at ${tag}`);
    await sheet.getByRole('button', { name: 'Merge into main' }).click();
    await page.locator('#task-status[data-status=done]').waitFor();
    assert.equal(git('log', '-1', '--format=%s', 'main'), `Land one ${tag}`);
    await page.getByRole('button', { name: 'Archive' }).click();
    await page.getByText(`Archived T-${t.id}`).waitFor();
    assert.ok((await h.api(`/api/tasks/${t.id}`)).archived_at, 'archived');
    assert.equal(git('rev-list', '--parents', '-n1', 'main').split(' ').length, 3, 'a merge commit');
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test(`a conflict is listed and the agent resolves it, then it merges, at ${tag}`, async () => {
    script('readme', [{ write: { path: 'README.md', content: `# the agent readme ${tag}\n` } }]);
    const t = await h.createTask(`Readme ${tag}`, 'readme');
    await h.waitTask(t.id, (x) => x.status === 'review', 'review');
    writeFileSync(join(h.repo, 'README.md'), `# the user readme ${tag}\n`);
    git('commit', '-qam', `the user moves main ${tag}`);
    const { ctx, page, errors } = await open(size, `/tasks/${t.id}`);
    const box = page.getByRole('region', { name: 'Conflicts with main' });
    await box.locator('.conflict-files code', { hasText: 'README.md' }).waitFor();
    await box.locator('summary', { hasText: 'Both sides' }).click();
    await box.locator('.sides .diff-table td.code.add', { hasText: `the user readme ${tag}` }).waitFor();
    await box.locator('.sides .diff-table td.code.add', { hasText: `the agent readme ${tag}` }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, `review-conflict-${tag}.png`), fullPage: true });
    // A resolving run that leaves the markers: refused a commit, saying so.
    script('readme', [{ say: 'I looked at it' }]);
    await box.getByRole('button', { name: 'Ask the agent to resolve' }).click();
    await page.locator('#task-status[data-status=failed]').waitFor({ timeout: 20_000 });
    await page.locator('.task-head .reason', { hasText: 'conflict markers remain in: README.md; bosun committed nothing' }).waitFor();
    const mid = page.getByRole('region', { name: 'Conflicts in the worktree' });
    await mid.locator('.conflict-files code', { hasText: 'README.md' }).waitFor();
    // The resolving run: both sides kept, the rebase finished.
    script('readme', [
      { write: { path: 'README.md', content: `# both readmes ${tag}\n` } },
      { run: ['git', 'add', 'README.md'] },
      { run: ['git', ...GIT, '-c', 'core.editor=true', 'rebase', '--continue'] },
    ]);
    await mid.getByRole('button', { name: 'Ask the agent to resolve' }).click();
    await h.waitTask(t.id, (x) => x.status === 'review' && x.runs.length === 3, 'resolved');
    await page.locator('.conflicts').waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Merge…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Merge into main' }).click();
    await page.locator('#task-status[data-status=done]').waitFor();
    assert.equal(execFileSync('git', ['show', 'main:README.md'], { cwd: h.repo }).toString(), `# both readmes ${tag}\n`);
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test(`search and filters survive a reload, done tasks are out of the way, an edited agent runs, at ${tag}`, async () => {
    const holder = await h.createTask(`Hold the slot ${tag}`, 'gated');
    await h.waitTask(holder.id, (x) => x.status === 'running', 'running');
    const waiting = await h.createTask(`Edit me ${tag}`, 'gated', { tags: ['later'] });
    const finished = await h.createTask(`Finished ${tag}`, 'idle');
    await h.waitTask(finished.id, (x) => x.status === 'review', 'review');
    await h.api(`/api/tasks/${finished.id}/merge`, { method: 'POST', body: {} });

    const { ctx, page, errors } = await open(size, '/');
    await page.locator(`.card[data-id="${waiting.id}"]`).waitFor();
    assert.equal(await page.locator(`.card[data-id="${finished.id}"]`).count(), 0, 'done is out of the way');
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'board-search', '/ focuses the search');
    await page.keyboard.type(`edit me ${tag}`);
    await page.locator(`.card[data-id="${holder.id}"]`).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Show done' }).click();
    assert.match(page.url(), /[?&]q=edit\+me/);
    await page.reload();
    await page.locator(`.card[data-id="${waiting.id}"]`).waitFor();
    assert.equal(await page.getByRole('searchbox', { name: 'Search tasks' }).inputValue(), `edit me ${tag}`);
    assert.equal(await page.locator(`.card[data-id="${holder.id}"]`).count(), 0, 'the search survived the reload');
    assert.equal(await page.getByRole('button', { name: 'Show done' }).getAttribute('aria-pressed'), 'true');
    await page.getByRole('searchbox', { name: 'Search tasks' }).fill(`finished ${tag}`);
    await page.locator(`.card[data-id="${finished.id}"][data-status=done]`).waitFor();

    // Edit the queued task's agent: quick runs it, not gated.
    await page.goto(`${h.base}/tasks/${waiting.id}`);
    await page.locator('#task-status[data-status=queued]').waitFor();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Agent', { exact: true }).selectOption('quick');
    await page.screenshot({ path: join(ARTIFACTS, `review-edit-${tag}.png`), fullPage: true });
    await page.getByRole('button', { name: 'Save' }).click();
    const ran = await h.waitTask(waiting.id, (x) => x.status === 'review', 'run by the edited agent');
    assert.equal(ran.runs[0].agent, 'quick');
    writeFileSync(join(h.tmp, 'open-gate'), '');
    await h.waitTask(holder.id, (x) => x.status === 'review', 'released');
    execFileSync('rm', ['-f', join(h.tmp, 'open-gate')]);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
