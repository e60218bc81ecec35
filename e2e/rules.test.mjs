// The Rules page in a real browser at phone and laptop size: a rule saved by an
// "always" answer is listed with where it came from and revoked with its button (the
// same ask is then asked again); a profile file's rule is listed with its file and
// has no Revoke button.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, FAKE, start } from './harness.mjs';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const SIZES = [{ width: 375, height: 812 }, { width: 1280, height: 800 }];
const asker = { interactive: true, steps: [{ read_prompt: true }, { ask: { id: 'e1', tool: 'Bash', kind: 'command', command: 'echo safe' } }] };

let h;

before(async () => {
  h = await start({ 'asker-375': asker, 'asker-1280': asker });
  // A profile with an `allow:` list of its own (profiles are read at each request).
  writeFileSync(join(h.tmp, 'config/agents/tester.md'),
    `---\nname: tester\nruntime: command\ncommand: ${JSON.stringify([FAKE])}\nallow: ["Bash(cargo test *)"]\n---\nTests.\n`);
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => { await h?.close(); });

for (const size of SIZES) {
  const tag = `${size.width}x${size.height}`;
  test(`the Rules page at ${tag}: see where a rule came from, revoke it`, async () => {
    const agent = `asker-${size.width}`;
    const t = await h.createTask(`Ask at ${tag}`, agent);
    await h.waitTask(t.id, (x) => x.status === 'needs_input', 'needs_input');
    // Approved with a token of ada's: the rule says who (the token's name, not a `from` the body claims).
    const ada = JSON.parse(h.bosun('token', 'create', '--name', `ada-${size.width}`, '--json')).token;
    await h.api(`/api/tasks/${t.id}/approve`, { method: 'POST', body: { always: true, from: 'mallory' }, as: ada });
    await h.waitTask(t.id, (x) => x.status === 'review', 'review');

    const ctx = await h.browser.newContext({ viewport: size });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(h.base + '/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rules' }).click();
    assert.equal(new URL(page.url()).pathname, '/rules');
    const list = page.getByRole('list', { name: 'Allow rules' });
    const saved = list.locator('.rule', { hasText: agent });
    await saved.waitFor();
    assert.match(await saved.innerText(), new RegExp(`Bash\\(echo safe\\)[\\s\\S]*Saved when ada-${size.width} approved echo safe for T-${t.id}`));
    const fromProfile = list.locator('.rule', { hasText: 'Bash(cargo test *)' });
    assert.match(await fromProfile.innerText(), /In the profile file .*tester\.md: edit the file to change it\./);
    assert.equal(await fromProfile.getByRole('button').count(), 0, 'a profile file\'s rule cannot be revoked here');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= size.width, `no sideways scrolling: ${width}px`);
    await page.screenshot({ path: join(ARTIFACTS, `rules-${tag}.png`), fullPage: true });

    await saved.getByRole('button', { name: `Revoke Bash(echo safe) for ${agent}` }).click();
    await page.getByText('Revoked Bash(echo safe).').waitFor();
    await saved.waitFor({ state: 'detached' });
    const left = await h.api('/api/rules');
    assert.ok(!left.some((r) => r.profile === agent), JSON.stringify(left));
    // Revoked for real: the same ask waits for a human again.
    const again = await h.createTask(`Ask again at ${tag}`, agent);
    await h.waitTask(again.id, (x) => x.status === 'needs_input', 'needs_input');
    assert.deepEqual(errors, []);
    await ctx.close();
  });
}
