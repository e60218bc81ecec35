// Non-code work on the board, in a real browser at phone and laptop sizes, against a
// real daemon and the scripted fake agent: a scratch task's deliverables are shown for
// what they are (and its Changes tab is them against the run before) — the Markdown report rendered (and sanitized: its script and event
// handlers never run, even with the page's CSP bypassed), the CSV as a table, the
// image as an image — with no sideways scroll at 375 px, and Accept copies them into
// a folder and closes the task. axe-core finds no serious or critical violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, start } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const SIZES = [{ width: 375, height: 812 }, { width: 1280, height: 800 }];
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
// A 1×1 PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const REPORT = [
  '# Pricing analysis',
  '',
  'Acme undercuts Globex on every tier. ' + 'averyveryverylongunbrokenwordthatwouldwidenthepage'.repeat(4),
  '',
  '| Vendor | Starter | Team | Business | Enterprise | Notes on the pricing page and what it leaves out |',
  '|---|---|---|---|---|---|',
  '| Acme | $10 | $25 | $60 | call us | annual billing only, seats sold in packs of five |',
  '',
  '<script>window.__owned = "script"</script>',
  '<img src="nope.png" onerror="window.__owned = \'onerror\'">',
  '<a href="javascript:window.__owned = \'link\'">click me</a>',
  '',
  '![the chart](chart.png)',
  '',
].join('\n');

let h;

before(async () => {
  h = await start({
    analyst: {
      steps: [
        { write: { path: 'report.md', content: REPORT } },
        { write: { path: 'data/prices.csv', content: 'vendor,price,"note, quoted"\nAcme,10,"says ""cheap"""\nGlobex,12,\n' } },
        { run: ['sh', '-c', `echo ${PNG} | base64 -d > chart.png`] },
        { emit: { type: 'deliverable', path: 'report.md', description: 'The pricing analysis' } },
      ],
    },
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => { await h?.close(); });

/** axe-core on the page as it is: no serious or critical violation. */
async function audit(page, what) {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`));
  assert.deepEqual(found, [], `axe on ${what}`);
}

for (const size of SIZES) {
  const tag = `${size.width}x${size.height}`;

  test(`a scratch task's deliverables are rendered, sanitized, and accepted at ${tag}`, async () => {
    const task = await h.api('/api/tasks', { method: 'POST', body: { title: `Competitor pricing ${tag}`, agent: 'analyst' } });
    await h.waitTask(task.id, (t) => t.status === 'review', 'review');
    // The page's CSP would stop inline script on its own: bypassed, only the sanitizer stands.
    const ctx = await h.browser.newContext({ viewport: size, bypassCSP: true, reducedMotion: 'reduce' });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${h.base}/tasks/${task.id}`);

    const md = page.locator('.deliverables .markdown');
    await md.locator('h1', { hasText: 'Pricing analysis' }).waitFor();
    assert.equal(await md.locator('table td', { hasText: 'annual billing only' }).count(), 1, 'the Markdown table is rendered');
    await page.locator('.deliverables table.csv td', { hasText: 'says "cheap"' }).waitFor();
    assert.deepEqual(await page.locator('.deliverables table.csv th').allTextContents(), ['vendor', 'price', 'note, quoted']);
    await page.locator('.deliverables img.deliverable-img').waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.deliverables img')].every((i) => i.complete));
    const chart = await page.locator('.deliverables img.deliverable-img').evaluate((i) => i.naturalWidth);
    assert.equal(chart, 1, 'the PNG deliverable is shown');
    assert.equal(await md.locator('img[alt="the chart"]').evaluate((i) => i.naturalWidth), 1, 'the report shows the chart it names');
    assert.equal(await page.locator('.deliverables', { hasText: 'The pricing analysis' }).count(), 1, 'its description');
    // The Changes tab is the deliverables against the run before (all new here).
    await page.locator('.files-summary', { hasText: 'Deliverables against the run before' }).waitFor();
    await page.locator('.diff-files', { hasText: 'report.md' }).waitFor();

    // Nothing the agent wrote ran, nor can run on a click.
    await md.locator('a', { hasText: 'click me' }).click();
    assert.equal(await page.evaluate(() => window.__owned), undefined, 'no script of the report ran');
    assert.equal(await md.locator('script, [onerror], a[href^="javascript:"]').count(), 0, 'script, handlers and javascript: links are stripped');

    assert.ok(await page.evaluate((w) => document.documentElement.scrollWidth <= w, size.width), 'no sideways scroll');
    await page.screenshot({ path: join(ARTIFACTS, `deliverables-${tag}.png`), fullPage: true });
    await audit(page, `the deliverables at ${tag}`);

    // Accept from the header: the destination field, then Accept.
    await page.getByRole('button', { name: 'Accept…' }).click();
    const dest = join(h.tmp, `accepted-${tag}`);
    await page.locator('#accept-to').fill(dest);
    await page.locator('#accept-button').click();
    await page.locator('#task-status[data-status="done"]').waitFor();
    assert.equal(readFileSync(join(dest, 'report.md'), 'utf8'), REPORT);
    assert.ok(existsSync(join(dest, 'data/prices.csv')) && existsSync(join(dest, 'chart.png')));
    assert.equal((await h.api(`/api/tasks/${task.id}`)).status, 'done');
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
