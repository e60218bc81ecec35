// What every page of the board shares: calls to the public HTTP API (errors come back
// as `{"error":{"message"}}`), the one live stream of task changes, a tiny DOM builder
// that only ever sets text (never HTML), and formatting of times and money.

/** An error from the API, with its message meant for people and the HTTP status (0: no answer). */
export class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

/** Calls the API; resolves to the parsed JSON body, rejects with an ApiError. */
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  // The daemon refuses state changes without a JSON body (a cross-site page could
  // send those without asking): an action with nothing to say sends `{}`.
  if (body === undefined && method !== 'GET') body = {};
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    connection(false);
    throw new ApiError(`cannot reach the daemon (${e.message})`);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    // No credential, or one that was revoked: the board shows its login page.
    if (res.status === 401) window.dispatchEvent(new CustomEvent('bosun:unauthorized', { detail: json?.error?.message }));
    throw new ApiError(json?.error?.message || `${res.status} ${res.statusText}`, res.status);
  }
  return json;
}

/** Builds an element: h('a', {href: '/'}, 'text', child...). Text is always text. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** The page for what is not there (an unknown task, a mistyped address), with the way back. */
export function notFound(root, message) {
  fill(root, h('h1', {}, 'Not found'), h('p', {}, message), h('p', {}, h('a', { href: '/', 'data-link': true }, 'Back to the board')));
}

/** Shows a message in the live region (errors stay until replaced). */
export function notify(message, kind = 'info') {
  const box = document.getElementById('notice');
  box.replaceChildren(h('p', { class: `notice ${kind}` }, message,
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => box.replaceChildren() }, '×')));
  if (kind !== 'error') setTimeout(() => { if (box.textContent.startsWith(message)) box.replaceChildren(); }, 4000);
}

/** Runs an API action from a button: disables it meanwhile, shows errors. */
export async function act(button, fn, done) {
  if (button) button.disabled = true;
  try {
    const out = await fn();
    if (done) notify(done);
    return out;
  } catch (e) {
    notify(e.message, 'error');
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** Says whether the daemon answers: a banner while it does not (the daemon stopped, the
 *  phone lost its network), gone once the live stream is open again. What the page
 *  shows meanwhile may be stale, and the banner says so. */
export function connection(up) {
  const el = document.getElementById('connection');
  if (!el) return;
  el.hidden = up;
  document.body.classList.toggle('offline', !up);
}
window.addEventListener('offline', () => connection(false));

// The one stream of task changes (`GET /api/events`), shared by every page.
const taskListeners = new Set();
let taskStream = null;
/** Calls fn(task) for each changed task, and fn(null) on `resync`. Returns an unsubscribe. */
export function onTask(fn) {
  taskListeners.add(fn);
  if (!taskStream) {
    taskStream = new EventSource('/api/events');
    taskStream.addEventListener('task', (e) => {
      const task = JSON.parse(e.data);
      for (const l of [...taskListeners]) l(task);
    });
    taskStream.addEventListener('resync', () => { for (const l of [...taskListeners]) l(null); });
    // Changes before the stream opened (a first load can race it) or while it was
    // reconnecting may be missed: each open is a resync.
    taskStream.addEventListener('open', () => {
      connection(true);
      for (const l of [...taskListeners]) l(null);
    });
    // A refused stream (its session revoked: the daemon ends the stream, the browser
    // reconnects and is answered 401) is closed for good: ask who we are, which shows
    // the login page if it was that.
    // A stream that is reconnecting (the browser retries by itself): offline until it opens.
    taskStream.addEventListener('error', () => {
      if (taskStream.readyState === EventSource.CLOSED) api('/api/me').catch(() => {});
      else connection(false);
    });
  }
  return () => taskListeners.delete(fn);
}

/** Closes the task stream (logging out, or logged out). */
export function closeStream() {
  if (taskStream) taskStream.close();
  taskStream = null;
}

export const STATUS_LABEL = {
  queued: 'Queued', running: 'Running', needs_input: 'Needs input', review: 'Review', done: 'Done',
  failed: 'Failed', stopped: 'Stopped', interrupted: 'Interrupted', blocked: 'Blocked', discarded: 'Discarded',
  triage: 'Triage',
};

/** Total cost of a task's runs in dollars, or null if none is known. */
export function cost(task) {
  let sum = null;
  for (const r of task.runs || []) if (typeof r.cost_usd === 'number') sum = (sum || 0) + r.cost_usd;
  return sum;
}

/** Dollars for people (as the CLI shows them): cents, or four decimals below a cent; never a nonzero cost as zero. */
export function money(usd) {
  if (usd === null || usd === undefined) return '';
  if (usd > 0 && usd < 0.00005) return '<$0.0001';
  return usd > 0 && usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** When the task's clock started and stopped (null end: still going). */
export function span(task) {
  const runs = task.runs || [];
  if (!runs.length) return { start: task.created_at, end: ['queued', 'blocked'].includes(task.status) ? null : task.updated_at };
  const last = runs[runs.length - 1];
  return { start: runs[0].started_at, end: last.ended_at || null };
}

export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hr / 24)}d`;
}

/** A <time> showing how long something has taken; ticking ones are refreshed by tick(). */
export function elapsed({ start, end }) {
  const el = h('time', { datetime: start, class: 'elapsed', title: new Date(start).toLocaleString() });
  if (end) el.textContent = duration(new Date(end) - new Date(start));
  else { el.dataset.since = start; el.textContent = duration(Date.now() - new Date(start)); }
  return el;
}

/** The task's clock with what it measures: how long it ran (or is running), or, before
 *  any run, how long it has been queued (or blocked, or waited before it ended). */
export function clock(task) {
  const s = span(task);
  const ran = task.runs?.length > 0;
  const what = ran ? (s.end ? 'ran' : 'running') : s.end ? 'waited' : task.status === 'blocked' ? 'blocked' : 'queued';
  return h('span', { class: 'clock' }, `${what} `, elapsed(s));
}

/** A command exactly as the agent would run it: line breaks kept (a second line cannot
 *  hide behind the first) and each carriage return shown as a red \r ending its line. */
export function command(text) {
  const parts = text.split('\r');
  const el = h('code', { class: `cmd${/[\r\n]/.test(text) ? ' multi' : ''}` });
  // A lone CR (a terminal would write the rest over the start) breaks the line too.
  parts.forEach((p, i) => el.append(...(i ? [h('span', { class: 'cr', title: 'carriage return' }, '\\r'), p.startsWith('\n') ? '' : '\n'] : []), p));
  return el;
}

setInterval(() => {
  for (const el of document.querySelectorAll('time[data-since]')) el.textContent = duration(Date.now() - new Date(el.dataset.since));
}, 1000);

// One formatter for all: building one per call (toLocaleTimeString with options) costs
// more than the rest of an event's rendering.
const TIME = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export function shortTime(ts) {
  return TIME.format(new Date(ts));
}

/** Replaces an element's children (arrays flattened, null/false/undefined skipped). */
export function fill(el, ...children) {
  el.replaceChildren(...nodes(children));
}

function nodes(children) {
  return children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false).map((c) => (c instanceof Node ? c : document.createTextNode(String(c))));
}

/** Like fill, but an existing child equal to its replacement stays, untouched: a live
 *  update must not swap a button from under a tap in progress, nor empty a reason
 *  being typed (an input's value is not part of node equality). */
export function morph(el, ...children) {
  const old = [...el.childNodes];
  let from = 0;
  const next = nodes(children).map((n) => {
    for (let i = from; i < old.length; i++) if (old[i].isEqualNode(n)) { from = i + 1; return old[i]; }
    return n;
  });
  const kept = new Set(next);
  for (const o of old) if (!kept.has(o)) o.remove();
  // What stayed is in order already: only new nodes are inserted.
  let cur = el.firstChild;
  for (const n of next) {
    if (n === cur) cur = cur.nextSibling;
    else el.insertBefore(n, cur);
  }
}

/** What a queued task waits for, as the dispatcher said (a limit, a dependency, its start). */
export function waitingNote(task) {
  return task.status === 'queued' && task.waiting ? h('p', { class: 'reason note waiting' }, `Waiting: ${task.waiting.text}`) : null;
}
