// What a new user tripped over on the board, in a real browser at phone and laptop
// sizes: dependencies read "After T-1, T-2" as links; card clocks say what they count
// ("ran 5s", "queued 3m"); Reply says a new run starts when the agent left no session;
// a discarded task has no Changes tab; a command in an ask shows every line (and each
// carriage return); error banners show whole below the sticky header, wherever the page
// is scrolled; and a worktree a rebase left conflicted offers "Reply and resolve conflicts".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, start } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const SIZES = [{ width: 375, height: 812 }, { width: 1280, height: 800 }];
const COMMAND = 'echo hello\nrm -rf ~/important\rcurl evil.example';

let h;

before(async () => {
  h = await start({
    writer: { steps: [{ write: { path: '{now_ns}.txt', content: 'work\n' } }] },
    readme: { steps: [{ write: { path: 'README.md', content: "# agent's readme\n" } }] },
    asker: { interactive: true, steps: [{ read_prompt: true }, { ask: { id: 'e1', tool: 'Bash', kind: 'command', command: COMMAND } }] },
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => { await h?.close(); });

async function open(size, path) {
  const ctx = await h.browser.newContext({ viewport: size });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(h.base + path);
  return { ctx, page, errors };
}

/** Asserts the error banner is on screen whole, below the header, and on top at its first line. */
async function bannerVisible(page, size, text) {
  const banner = page.locator('.notice.error', { hasText: text });
  await banner.waitFor();
  const got = await banner.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const head = document.querySelector('header.top').getBoundingClientRect();
    const hit = (x, y) => el.contains(document.elementFromPoint(x, y));
    return { top: r.top, bottom: r.bottom, headBottom: head.bottom, centre: hit(r.left + r.width / 2, r.top + r.height / 2), firstLine: hit(r.left + 16, r.top + 12), scrolled: el.scrollTop };
  });
  assert.ok(got.top >= got.headBottom - 0.5, `below the header: ${JSON.stringify(got)}`);
  assert.ok(got.bottom <= size.height, `inside the viewport: ${JSON.stringify(got)}`);
  assert.ok(got.centre && got.firstLine, `nothing covers it: ${JSON.stringify(got)}`);
  assert.equal(got.scrolled, 0, 'its first line shows');
}

for (const size of SIZES) {
  const tag = `${size.width}x${size.height}`;

  test(`dependencies, card clocks, Reply's promise and no diff once discarded, at ${tag}`, async () => {
    const a = await h.createTask(`First ${tag}`, 'writer');
    const b = await h.createTask(`Second ${tag}`, 'writer');
    for (const x of [a, b]) await h.waitTask(x.id, (y) => y.status === 'review', 'review');
    const c = await h.createTask(`After both ${tag}`, 'writer', { after: [a.id, b.id] });
    const { ctx, page, errors } = await open(size, `/tasks/${c.id}`);

    const deps = page.locator('.task-head .deps');
    await deps.waitFor();
    assert.equal(await deps.innerText(), `After T-${a.id}, T-${b.id}`);
    assert.deepEqual(await deps.locator('a').evaluateAll((as) => as.map((x) => x.getAttribute('href'))), [`/tasks/${a.id}`, `/tasks/${b.id}`]);
    await deps.getByRole('link', { name: `T-${b.id}` }).click();
    await page.locator(`#task-status[data-status=review]`).waitFor();
    assert.equal(new URL(page.url()).pathname, `/tasks/${b.id}`);

    // A fake (`command`) agent leaves no session: Reply starts a new run, as the CLI says.
    assert.ok((await h.api(`/api/tasks/${b.id}`)).runs.every((r) => !r.session_id));
    assert.match(await page.locator('#reply-text').getAttribute('placeholder'), /starts a new run/);
    await page.getByRole('tab', { name: 'Changes' }).waitFor();

    // Cards say what their clock counts.
    await page.goto(`${h.base}/`);
    const clock = (id) => page.locator(`.card[data-id="${id}"] .clock`);
    await clock(c.id).waitFor();
    assert.match(await clock(c.id).innerText(), /^queued \d/);
    assert.match(await clock(b.id).innerText(), /^ran \d/);
    await page.screenshot({ path: join(ARTIFACTS, `first-use-board-${tag}.png`), fullPage: true });

    // Discarded, its branch is gone: nothing to diff.
    await h.api(`/api/tasks/${a.id}/discard`, { method: 'POST', body: { yes: true } });
    await page.goto(`${h.base}/tasks/${a.id}`);
    await page.locator('#task-status[data-status=discarded]').waitFor();
    assert.equal(await page.getByRole('tab', { name: 'Changes' }).count(), 0);
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test(`an error from the New form shows whole below the header, at ${tag}`, async () => {
    const { ctx, page, errors } = await open(size, '/new');
    await page.locator('#f-title').fill('Nowhere');
    await page.locator('#f-repo').fill('/nonexistent');
    await page.getByRole('button', { name: 'Create task' }).click();
    await bannerVisible(page, size, 'nonexistent');
    await page.screenshot({ path: join(ARTIFACTS, `first-use-error-${tag}.png`) });
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test(`a multi-line command in an ask shows every line, at ${tag}`, async () => {
    const t = await h.createTask(`Ask ${tag}`, 'asker');
    await h.waitTask(t.id, (x) => x.status === 'needs_input', 'needs_input');
    const shown = 'echo hello\nrm -rf ~/important\\r\ncurl evil.example';
    const { ctx, page, errors } = await open(size, '/approvals');
    const inbox = page.locator('.ask', { hasText: `T-${t.id}` }).locator('code.cmd');
    await inbox.waitFor();
    assert.equal(await inbox.innerText(), shown);
    await page.screenshot({ path: join(ARTIFACTS, `first-use-ask-${tag}.png`), fullPage: true });

    await page.goto(`${h.base}/tasks/${t.id}`);
    const pending = page.locator('.pending code.cmd');
    await pending.waitFor();
    assert.equal(await pending.innerText(), shown);
    const asked = page.locator('.ev-approval_request code.cmd');
    await asked.waitFor();
    // Timeline rows off screen are not rendered (content-visibility): as a reader
    // scrolls to it, and the browser renders it on its next frames.
    await asked.scrollIntoViewIfNeeded();
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
    assert.equal(await asked.innerText(), shown);
    await h.api(`/api/tasks/${t.id}/deny`, { method: 'POST', body: { reason: 'no' } });
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test(`a worktree a rebase left conflicted offers Reply and resolve conflicts, at ${tag}`, async () => {
    const t = await h.createTask(`Readme ${tag}`, 'readme');
    await h.waitTask(t.id, (x) => x.status === 'review', 'review');
    writeFileSync(join(h.repo, 'README.md'), `# the user's readme ${tag}\n`);
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', 'commit', '-qam', `user moves main ${tag}`], { cwd: h.repo });
    await assert.rejects(h.api(`/api/tasks/${t.id}/rebase`, { method: 'POST', body: {} }), /stopped on conflicts in: README\.md/);

    const { ctx, page, errors } = await open(size, `/tasks/${t.id}`);
    const resolve = page.getByRole('button', { name: 'Reply and resolve conflicts' });
    await resolve.waitFor();
    assert.match(await page.locator('#resolve-note').innerText(), /conflicts in README\.md/);
    await page.locator('#reply-text').fill('keep both readmes');
    // A plain reply is refused with a long message: it shows whole, from its first line,
    // though the page is scrolled to its bottom.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    await bannerVisible(page, size, 'no agent runs in it');
    await page.screenshot({ path: join(ARTIFACTS, `first-use-conflict-${tag}.png`) });
    assert.equal((await h.api(`/api/tasks/${t.id}`)).runs.length, 1);

    await resolve.click();
    await page.getByText('Reply sent.').waitFor();
    await h.waitTask(t.id, (x) => x.runs.length === 2, 'given a resolving run');
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
