// The Sources page at phone and laptop size, against a real daemon and a small fake
// Notion API (the endpoints `source add` and a sync use, with the documented
// shapes and headers): the source is listed with what it watches and how its last
// sync went; Sync now makes a task of a ready page; a sync that fails shows Notion's
// reason on the page, and the task page links back to its Notion page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BOSUN, start } from './harness.mjs';

const DB = '1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718';
const DS = '99999999-aaaa-4bbb-8ccc-dddddddddddd';
const TOKEN = 'secret-token';
const pages = [];
let down = false;
let h;
let fake;

/** A fake Notion: refuses a wrong token or a missing Notion-Version as Notion does. */
function notion(req, res) {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const send = (status, json) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(json)); };
    if (down) return send(503, { object: 'error', status: 503, code: 'service_unavailable', message: 'Notion is unavailable, please try again later.' });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { object: 'error', status: 401, code: 'unauthorized', message: 'API token is invalid.' });
    if (req.headers['notion-version'] !== '2026-03-11') return send(400, { object: 'error', status: 400, code: 'missing_version', message: 'Notion-Version header failed validation.' });
    const url = new URL(req.url, 'http://x');
    const page = (p) => ({ object: 'page', id: p.id, last_edited_time: p.edited, in_trash: false, url: `https://www.notion.so/${p.id.replaceAll('-', '')}`,
      properties: { Name: { type: 'title', title: [{ plain_text: p.title }] }, Status: { type: 'status', status: { name: p.status } } } });
    if (url.pathname === '/v1/users/me') return send(200, { object: 'user', id: 'bot-1', type: 'bot' });
    if (url.pathname === `/v1/databases/${DB}`) return send(200, { object: 'database', id: DB, data_sources: [{ id: DS, name: 'Tasks' }] });
    if (url.pathname === `/v1/data_sources/${DS}`) return send(200, { object: 'data_source', id: DS, properties: { Name: { type: 'title' }, Status: { type: 'status' } } });
    if (url.pathname === `/v1/data_sources/${DS}/query`) {
      const want = JSON.parse(body).filter?.and?.[0]?.status?.equals ?? JSON.parse(body).filter?.status?.equals;
      return send(200, { object: 'list', results: pages.filter((p) => p.status === want).map(page), has_more: false, next_cursor: null });
    }
    const m = url.pathname.match(/^\/v1\/pages\/([^/]+)(\/markdown)?$/);
    const p = m && pages.find((x) => x.id === m[1]);
    if (m && !p) return send(404, { object: 'error', status: 404, code: 'object_not_found', message: 'Could not find page.' });
    if (m && m[2]) return send(200, { object: 'page_markdown', id: p.id, markdown: `Do ${p.title}.`, truncated: false, unknown_block_ids: [] });
    if (m && req.method === 'PATCH') { p.status = JSON.parse(body).properties.Status.status.name; return send(200, page(p)); }
    if (m) return send(200, page(p));
    if (url.pathname === '/v1/comments') return send(200, req.method === 'POST' ? { object: 'comment', id: `c-${Date.now()}` } : { object: 'list', results: [], has_more: false, next_cursor: null });
    send(404, { object: 'error', status: 404, code: 'invalid_request_url', message: 'Invalid request URL.' });
  });
}

before(async () => {
  fake = createServer(notion);
  await new Promise((ok) => fake.listen(0, '127.0.0.1', ok));
  h = await start({ quick: { steps: [{ say: 'quick work' }] } }, { env: { NOTION_TOKEN: TOKEN } });
  const api = `http://127.0.0.1:${fake.address().port}`;
  // Not h.bosun (synchronous): the fake answers from this process's event loop.
  await promisify(execFile)(BOSUN, ['source', 'add', 'notion', '--database', DB, '--token-env', 'NOTION_TOKEN', '--repo', h.repo, '--interval', '3600', '--api', api, '--webhook'],
    { env: { ...process.env, HOME: `${h.tmp}/home`, BOSUN_URL: h.base, BOSUN_DATA_DIR: `${h.tmp}/data` } });
});

after(async () => { await h?.close(); fake?.close(); });

for (const size of [{ width: 375, height: 812 }, { width: 1280, height: 800 }]) {
  const tag = `${size.width}x${size.height}`;
  test(`the Sources page at ${tag}: listed, Sync now makes a task, a failure says why`, async () => {
    const ctx = await h.browser.newContext({ viewport: size });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    pages.push({ id: `00000000-0000-4000-8000-00000000000${size.width === 375 ? 1 : 2}`, title: `Ready at ${tag}`, status: 'Ready', edited: new Date().toISOString() });
    down = false;
    await page.goto(`${h.base}/sources`);
    const item = page.locator('.source').first();
    await item.getByText(`database ${DB} where Status is “Ready”`).waitFor({ timeout: 20_000 });
    await item.getByRole('button', { name: 'Sync now' }).click();
    await page.getByText(/New tasks: T-\d+|Synced: no new task/).waitFor({ timeout: 20_000 });
    const tasks = await h.api('/api/tasks');
    const mine = tasks.find((t) => t.title === `Ready at ${tag}`);
    assert.ok(mine, 'the ready page became a task');
    await item.getByText(/Last sync .*: ok/).waitFor();
    // Its webhook: the URL to give Notion, and what it waits for.
    await item.locator('.hook code').first().getByText(`${h.base}/hooks/sources/1`).waitFor();
    await item.locator('.hook').getByText('bosun source verification-token 1').waitFor();
    // The task page links back to the page it came from.
    await page.goto(`${h.base}/tasks/${mine.id}`);
    const back = page.getByRole('link', { name: `Notion "Ready at ${tag}"` });
    await back.waitFor({ timeout: 20_000 });
    assert.match(await back.getAttribute('href'), /^https:\/\/www\.notion\.so\//);
    // Notion down: the failure is on the page, with Notion's reason.
    down = true;
    await page.goto(`${h.base}/sources`);
    await page.locator('.source').first().getByRole('button', { name: 'Sync now' }).click();
    await page.locator('.source .reason').getByText(/Last sync failed.*Notion/).waitFor({ timeout: 30_000 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= size.width, `no sideways scrolling (${width}px)`);
    await page.screenshot({ path: `test-artifacts/sources-${tag}.png`, fullPage: true });
    down = false;
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
