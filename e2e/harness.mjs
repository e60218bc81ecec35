// Shared by the e2e tests (not a test itself): a temporary git repo, fake-agent
// profiles from step lists, a real `bosun serve` on a free port, chromium, and small
// API helpers.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..');
// The binaries `cargo build -p bosun` made (CARGO_TARGET_DIR honoured, as cargo does).
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
export const BOSUN = join(TARGET, 'debug/bosun');
export const FAKE = join(TARGET, 'debug/bosun-fake-agent');

/**
 * Starts a daemon whose agents are `agents` ({name: {steps, interactive, max_concurrent, model}}, or a function
 * of the temporary directory returning that), with a git repo at `${tmp}/app`; `env` is added to the
 * daemon's (and the CLI's) environment. Resolves to {tmp, repo, base, browser, api, bosun, token,
 * createTask, waitTask, stopDaemon, startDaemon, close}.
 */
export async function start(agents, { env: extraEnv = {} } = {}) {
  assert.ok(existsSync(BOSUN), 'target/debug/bosun is built (cargo build -p bosun)');
  const tmp = mkdtempSync(join(tmpdir(), 'bosun-e2e-'));
  for (const d of ['home', 'config/agents', 'app', 'data']) mkdirSync(join(tmp, d), { recursive: true });
  const env = {
    PATH: process.env.PATH, HOME: join(tmp, 'home'), LC_ALL: 'C', GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com',
    ...extraEnv,
  };
  const repo = join(tmp, 'app');
  const git = (...args) => execFileSync('git', args, { cwd: repo, env });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README.md'), '# app\n');
  git('add', '.');
  git('commit', '-qm', 'init');
  if (typeof agents === 'function') agents = agents(tmp);
  for (const [name, { steps, interactive = false, max_concurrent, model }] of Object.entries(agents)) {
    const script = join(tmp, `${name}.jsonl`);
    writeFileSync(script, steps.map((s) => JSON.stringify(s)).join('\n') + '\n');
    writeFileSync(join(tmp, 'config/agents', `${name}.md`),
      `---\nname: ${name}\nruntime: command\ncommand: ${JSON.stringify([FAKE, '--script', script])}\ninteractive: ${interactive}\n${max_concurrent ? `max_concurrent: ${max_concurrent}\n` : ''}${model ? `model: ${model}\n` : ''}---\nStanding instructions for ${name}.\n`);
  }
  // The board's tests stop the daemon at the end: its agents go with it.
  const serve = (addr) => {
    const child = spawn(BOSUN, ['serve', '--addr', addr, '--stop-grace', '2', '--stop-agents-on-exit', '--data-dir', join(tmp, 'data'), '--config-dir', join(tmp, 'config')],
      { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const url = new Promise((ok, fail) => {
      let buf = '';
      child.stderr.on('data', (d) => {
        buf += d;
        // The whole address: stderr can arrive mid-line ("http://127" then ".0.0.1:…").
        const m = buf.match(/bosun serving (http:\/\/\S+) \(data in/);
        if (m) ok(m[1]);
      });
      child.on('exit', (code) => fail(new Error(`bosun serve exited (${code}): ${buf}`)));
    });
    return { child, url };
  };
  let { child: daemon, url: serving } = serve('127.0.0.1:0');
  const base = await serving;
  /** SIGTERMs the daemon and waits for it to exit. */
  async function stopDaemon() {
    if (daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
    }
  }
  /** Starts the daemon again on the same address and data dir (sessions stay valid). */
  async function startDaemon() {
    ({ child: daemon, url: serving } = serve(new URL(base).host));
    assert.equal(await serving, base);
  }
  // The daemon wrote its own token before saying where it serves: node-side calls
  // send it, and every browser context starts logged in with a session made from it
  // (`browser.raw` makes contexts that are not: the login and pairing tests use it).
  const token = readFileSync(join(tmp, 'data/token'), 'utf8').trim();
  const login = await fetch(base + '/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
  assert.equal(login.status, 200, 'the harness logs the browsers in');
  const session = login.headers.get('set-cookie').match(/bosun_session=([^;]+)/)[1];
  const raw = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const browser = {
    raw,
    async newContext(options) {
      const ctx = await raw.newContext(options);
      await ctx.addCookies([{ name: 'bosun_session', value: session, url: base, httpOnly: true, sameSite: 'Strict' }]);
      return ctx;
    },
    close: () => raw.close(),
  };
  /** Runs the CLI against this daemon (it finds the token in the data dir); returns stdout. */
  const bosun = (...args) => execFileSync(BOSUN, args, { env: { ...env, BOSUN_URL: base, BOSUN_DATA_DIR: join(tmp, 'data') }, encoding: 'utf8' });

  /** Calls the API as the daemon's own token (or `as`, another token). */
  async function api(path, { method = 'GET', body, as = token } = {}) {
    const res = await fetch(base + path, {
      method, headers: { Accept: 'application/json', Authorization: `Bearer ${as}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null; try { json = JSON.parse(text); } catch {}
    // The whole answer on failure (a body that is not bosun's JSON says who answered).
    if (!res.ok) throw new Error(`${method} ${base}${path}: ${res.status} ${text}`);
    return json;
  }
  const createTask = (title, agent, extra = {}) => api('/api/tasks', { method: 'POST', body: { title, body: `Do ${title}.`, repo, agent, ...extra } });
  /** Polls until pred(task) holds (default 30 s). */
  async function waitTask(id, pred, what, timeout = 30_000) {
    const end = Date.now() + timeout;
    let t;
    while (Date.now() < end) {
      t = await api(`/api/tasks/${id}`);
      if (pred(t)) return t;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`T-${id} never became ${what}; last: ${t?.status} ${t?.status_reason ?? ''}`);
  }
  async function close() {
    await browser.close();
    await stopDaemon();
    killLeftovers(tmp);
    rmSync(tmp, { recursive: true, force: true });
  }
  return { tmp, repo, base, browser, api, bosun, token, createTask, waitTask, stopDaemon, startDaemon, close };
}

/** Kills what this world's runs started and left (agents outlive a daemon that died):
 * every process whose environment has `BOSUN_WORKTREE` under `tmp`. */
function killLeftovers(tmp) {
  const needle = `BOSUN_WORKTREE=${tmp}`;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let environ;
    try { environ = readFileSync(`/proc/${pid}/environ`, 'latin1'); } catch { continue; }
    if (environ.split('\0').some((v) => v.startsWith(needle))) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone already */ }
    }
  }
}
