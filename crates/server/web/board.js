// The board, leading with what needs you: groups in the order needs input → triage
// (only while a task waits there) → review →
// failed → running → queued (→ done, behind a toggle), stacked as one list on a phone
// and side by side as columns on a desktop; search (`/`), filters kept in the URL,
// the ask or the diff stat on each card, and keyboard shortcuts (j/k, a/d, m, r, ?).
import { api, h, notify, act, fill, onTask, command } from './api.js';

export const GROUPS = [
  { key: 'needs_input', title: 'Needs input', statuses: ['needs_input'] },
  // Tasks no routing rule matched: a person picks their agent.
  { key: 'triage', title: 'Triage', statuses: ['triage'] },
  { key: 'review', title: 'Review', statuses: ['review'] },
  { key: 'failed', title: 'Failed / stopped', statuses: ['failed', 'stopped', 'interrupted', 'blocked'] },
  { key: 'running', title: 'Running', statuses: ['running'] },
  { key: 'queued', title: 'Queued', statuses: ['queued'] },
  { key: 'done', title: 'Done', statuses: ['done', 'discarded'] },
];
const RANK = Object.fromEntries(GROUPS.flatMap((g, i) => g.statuses.map((s) => [s, i])));
/** The status a task is shown under: one blocked by a budget waits with the queued (it
 *  starts by itself once its reservation fits); one blocked by a dependency needs you. */
const place = (t) => (t.status === 'blocked' && t.waiting?.kind === 'budget' ? 'queued' : t.status);
const FILTERS = ['q', 'repo', 'agent', 'tag'];

/** Does `t` match the search words (title, body, tags, repo, agent, T-id)? */
export function matches(t, q) {
  if (!q) return true;
  const hay = [`t-${t.id}`, t.title, t.body, t.repo || '', t.agent || '', ...t.tags].join('\n').toLowerCase();
  return q.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w));
}

/** How long ago, in words ("3m ago"). */
function ago(ts) {
  const s = Math.max(0, Math.round((Date.now() - new Date(ts)) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 172800) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/**
 * The board page in `root`; `card(task)` builds a card (app.js), to which this adds
 * what needs saying for the task's status (`details`). Returns the cleanup.
 */
export function boardPage(root, card, go) {
  const tasks = new Map();
  const asks = new Map(); // task id -> its oldest pending ask
  const stats = new Map(); // task id -> {at: updated_at, files} for review cards
  const url = new URL(location.href);
  const filters = Object.fromEntries(FILTERS.map((k) => [k, url.searchParams.get(k) || '']));
  filters.done = url.searchParams.get('done') === '1';
  filters.view = localStorage.getItem('bosun.view') || 'columns';
  const search = h('input', { type: 'search', id: 'board-search', name: 'q', value: filters.q, autocomplete: 'off', placeholder: 'Search (press /)',
    oninput: () => { filters.q = search.value.trim(); remember(); render(); } });
  const filterBar = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter tasks', onsubmit: (e) => e.preventDefault() });
  const body = h('div', { class: 'board-body' });
  fill(root, h('h1', { class: 'visually-hidden' }, 'Board'), filterBar, body);

  /** The filters into the address (replaced, not pushed: Back leaves the board). */
  function remember() {
    const u = new URL(location.href);
    for (const k of FILTERS) { if (filters[k]) u.searchParams.set(k, filters[k]); else u.searchParams.delete(k); }
    if (filters.done) u.searchParams.set('done', '1'); else u.searchParams.delete('done');
    history.replaceState(null, '', u.pathname + u.search);
  }

  function select(name, label, values) {
    const s = h('select', { name, onchange: () => { filters[name] = s.value; remember(); render(); } },
      h('option', { value: '' }, `All ${label}`), [...values].sort().map((v) => h('option', { value: v }, v)));
    if (filters[name] && !values.has(filters[name])) s.append(h('option', { value: filters[name] }, filters[name]));
    s.value = filters[name];
    return h('label', {}, h('span', { class: 'visually-hidden' }, label), s);
  }

  function renderFilters() {
    const repos = new Set(), agents = new Set(), tags = new Set();
    for (const t of tasks.values()) {
      if (t.repo) repos.add(t.repo);
      if (t.agent) agents.add(t.agent);
      t.tags.forEach((x) => tags.add(x));
    }
    const view = h('button', { type: 'button', class: 'button', 'aria-pressed': String(filters.view === 'list'),
      onclick: () => { filters.view = filters.view === 'list' ? 'columns' : 'list'; localStorage.setItem('bosun.view', filters.view); render(); } }, 'List view');
    const done = h('button', { type: 'button', class: 'button', 'aria-pressed': String(filters.done),
      onclick: () => { filters.done = !filters.done; remember(); render(); } }, 'Show done');
    const focused = document.activeElement === search;
    fill(filterBar, h('label', { class: 'search' }, h('span', { class: 'visually-hidden' }, 'Search tasks'), search),
      select('repo', 'repos', repos), select('agent', 'agents', agents), select('tag', 'tags', tags), done, view);
    if (focused) search.focus();
  }

  const visible = (t) => (filters.done || !GROUPS.find((g) => g.key === 'done').statuses.includes(t.status)) && matches(t, filters.q)
    && (!filters.repo || t.repo === filters.repo) && (!filters.agent || t.agent === filters.agent) && (!filters.tag || t.tags.includes(filters.tag));
  const order = (a, b) => RANK[place(a)] - RANK[place(b)] || (place(a) === 'queued' ? b.priority - a.priority || a.id - b.id : b.id - a.id);

  /** What the card says for its status: the ask (with Approve/Deny), the diff stat, when it last moved. */
  function details(t) {
    const out = [];
    const ask = asks.get(t.id);
    if (t.status === 'needs_input' && ask) {
      out.push(h('p', { class: 'card-ask' }, h('strong', {}, ask.tool), ' wants to ', ask.command ? command(ask.command) : ask.path ? h('code', {}, ask.path) : 'run'),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'button primary', 'aria-label': `Approve T-${t.id}`, onclick: (e) => answer(e.currentTarget, t.id, true) }, 'Approve'),
          h('button', { type: 'button', class: 'button danger', 'aria-label': `Deny T-${t.id}`, onclick: (e) => answer(e.currentTarget, t.id, false) }, 'Deny')));
    }
    const st = stats.get(t.id);
    if (t.status === 'review' && st?.files) {
      const f = st.files;
      out.push(h('p', { class: 'meta diffstat' }, `${f.files.length} file${f.files.length === 1 ? '' : 's'} `,
        f.branch ? [h('span', { class: 'plus' }, `+${f.additions}`), ' ', h('span', { class: 'minus' }, `−${f.deletions}`)] : '',
        f.conflicts.length ? h('span', { class: 'reason' }, ` · conflicts with ${f.base}`) : ''));
    }
    out.push(h('p', { class: 'meta' }, t.repo ? h('span', { class: 'repo', title: t.repo }, t.repo.split('/').filter(Boolean).pop()) : h('span', { class: 'muted' }, 'no repo'),
      h('span', { class: 'activity' }, h('time', { datetime: t.updated_at }, `updated ${ago(t.updated_at)}`))));
    return out;
  }

  async function answer(button, id, allow) {
    const ask = asks.get(id);
    if (!ask) return;
    const out = await act(button, () => api(`/api/tasks/${id}/${allow ? 'approve' : 'deny'}`, { method: 'POST', body: { id: ask.id } }), allow ? `Approved T-${id}.` : `Denied T-${id}.`);
    if (out !== undefined) { asks.delete(id); loadAsks(); }
  }

  function cardFor(t) {
    const c = card(t);
    c.querySelector('.card-title')?.setAttribute('title', t.title); // cut to one line on a desktop
    c.append(...details(t));
    return c;
  }

  // At most one render a frame: the first change renders at once, those that follow
  // within the frame together at its end.
  let frame = 0;
  let dirty = false;
  function later() {
    if (frame) { dirty = true; return; }
    render();
    frame = requestAnimationFrame(() => { frame = 0; if (dirty) { dirty = false; later(); } });
  }

  function render() {
    const focused = document.activeElement?.closest?.('.card')?.id;
    renderFilters();
    const shown = [...tasks.values()].filter(visible).sort(order);
    if (filters.view === 'list') {
      fill(body, h('ul', { class: 'list', 'aria-label': 'Tasks' }, shown.map(cardFor)));
    } else {
      // Triage shows only when a task waits there (routing rules matched none).
      const groups = GROUPS.filter((g) => (filters.done || g.key !== 'done') && (g.key !== 'triage' || shown.some((t) => t.status === 'triage')));
      fill(body, h('div', { class: 'columns' }, groups.map((g) => {
        const mine = shown.filter((t) => g.statuses.includes(place(t)));
        return h('section', { class: `column${mine.length ? '' : ' empty-col'}`, 'aria-labelledby': `col-${g.key}`, dataset: { column: g.key } },
          h('h2', { id: `col-${g.key}` }, g.title, ' ', h('span', { class: 'count' }, String(mine.length))),
          mine.length ? h('ol', { class: 'cards' }, mine.map(cardFor)) : h('p', { class: 'empty' }, 'Nothing here'));
      })));
    }
    if (!tasks.size) body.prepend(h('p', { class: 'empty-board' }, 'No tasks yet. ', h('a', { href: '/new', 'data-link': true }, 'Create one'), '.'));
    else if (!shown.length) body.prepend(h('p', { class: 'empty-board' }, 'No task matches. ', h('button', { type: 'button', class: 'link', onclick: clear }, 'Clear the filters')));
    if (focused) document.getElementById(focused)?.querySelector('a')?.focus();
  }

  function clear() {
    for (const k of FILTERS) filters[k] = '';
    search.value = '';
    remember();
    render();
  }

  async function loadAsks() {
    try {
      const pending = await api('/api/approvals');
      asks.clear();
      for (const a of pending) if (!asks.has(a.task_id)) asks.set(a.task_id, a);
      later();
    } catch { /* the header says when the daemon is away */ }
  }

  /** The diff stat of review tasks, read again when a task changed. */
  function loadStats() {
    for (const t of tasks.values()) {
      if (t.status !== 'review' || stats.get(t.id)?.at === t.updated_at) continue;
      stats.set(t.id, { at: t.updated_at, files: stats.get(t.id)?.files });
      api(`/api/tasks/${t.id}/files`).then((files) => { stats.set(t.id, { at: t.updated_at, files }); later(); }).catch(() => {});
    }
  }

  // A list answer can be older than changes that arrive while it is on its way (and
  // than a later load's): changes received meanwhile are applied on top of it, in
  // order, and only the newest load's answer counts.
  let latest = 0;
  let meanwhile = null;
  async function load() {
    const mine = ++latest;
    meanwhile ??= [];
    try {
      const list = await api('/api/tasks');
      if (mine !== latest) return;
      tasks.clear();
      for (const t of [...list, ...meanwhile]) tasks.set(t.id, t);
      meanwhile = null;
      render();
      loadStats();
    } catch (e) {
      if (mine === latest) meanwhile = null;
      notify(e.message, 'error');
    }
  }

  const off = onTask((task) => {
    if (!task) { loadAsks(); return load(); }
    if (meanwhile) return meanwhile.push(task);
    const was = tasks.get(task.id)?.status;
    const placed = tasks.has(task.id) ? place(tasks.get(task.id)) : null;
    // Archived tasks are off the board (the API leaves them out of the list too).
    if (task.archived_at) tasks.delete(task.id);
    else tasks.set(task.id, task);
    if (task.status === 'needs_input' || was === 'needs_input') loadAsks();
    loadStats();
    // The same place on the board: only its card changes.
    const el = document.getElementById(`task-${task.id}`);
    if (!dirty && el && was === task.status && placed === place(task) && !task.archived_at && visible(task) && el.closest('.board-body') === body) {
      const focused = el.contains(document.activeElement);
      const next = cardFor(task);
      el.replaceWith(next);
      if (focused) next.querySelector('a')?.focus();
      return;
    }
    later();
  });

  // ---- keyboard: / search, j/k move, a/d approve/deny, m merge, r reply, ? help ----
  const cards = () => [...body.querySelectorAll('.card')];
  const current = () => document.activeElement?.closest?.('.card');
  function move(step) {
    const all = cards();
    if (!all.length) return;
    const i = all.indexOf(current());
    const next = all[Math.min(all.length - 1, Math.max(0, i < 0 ? 0 : i + step))];
    next.querySelector('a').focus();
    next.scrollIntoView({ block: 'nearest' });
  }
  function onKey(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
    if (e.target.closest?.('input, textarea, select, [contenteditable]')) {
      if (e.key === 'Escape' && e.target === search) search.blur();
      return;
    }
    const c = current();
    const id = c ? Number(c.dataset.id) : null;
    const status = c?.dataset.status;
    const keys = {
      '/': () => search.focus(),
      j: () => move(1),
      k: () => move(-1),
      a: () => status === 'needs_input' && c.querySelector('button.primary')?.click(),
      d: () => status === 'needs_input' && c.querySelector('button.danger')?.click(),
      m: () => status === 'review' && go(`/tasks/${id}?merge=1`),
      r: () => id && go(`/tasks/${id}?reply=1`),
      '?': () => help(),
    };
    const f = keys[e.key];
    if (f) { e.preventDefault(); f(); }
  }
  document.addEventListener('keydown', onKey);

  function help() {
    const dialog = h('dialog', { class: 'sheet', 'aria-labelledby': 'keys-h' },
      h('h2', { id: 'keys-h' }, 'Keyboard shortcuts'),
      h('dl', { class: 'keys' }, [['/', 'Search'], ['j / k', 'Next / previous task'], ['a / d', 'Approve / deny the task\'s ask'],
        ['m', 'Merge the task (opens the confirm sheet)'], ['r', 'Reply to the task'], ['?', 'This help']].map(([k, v]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, v)])),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button primary', onclick: () => dialog.close() }, 'Close')));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }

  load();
  loadAsks();
  return () => { off(); document.removeEventListener('keydown', onKey); if (frame) cancelAnimationFrame(frame); };
}
