// The web board's entry point: a tiny router over the History API and the pages that
// are not a single task (board, new task form, approvals inbox). task.js is the task page.
import { api, h, notify, act, fill, morph, onTask, notFound, STATUS_LABEL, cost, money, clock, waitingNote, command } from './api.js';
import { taskPage } from './task.js';
import { boardPage } from './board.js';
import { askItem } from './asks.js';
import { notificationsPage, registerWorker } from './notify.js';
import { loginPage } from './login.js';
import { devicesPage } from './devices.js';
import { sourcesPage } from './sources.js';
import { costsPage } from './costs.js';

const main = document.getElementById('main');
let cleanup = () => {};

/** Shows the page for the current URL. */
function route() {
  cleanup();
  cleanup = () => {};
  const path = location.pathname;
  let m;
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.getAttribute('href') === path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (path === '/' || path === '') cleanup = boardPage(main, card, go);
  else if (path === '/new') cleanup = newTaskPage(main);
  else if (path === '/approvals') cleanup = approvalsPage(main);
  else if (path === '/rules') cleanup = rulesPage(main);
  else if (path === '/notifications') cleanup = notificationsPage(main);
  else if (path === '/devices') cleanup = devicesPage(main);
  else if (path === '/sources') cleanup = sourcesPage(main);
  else if (path === '/costs') cleanup = costsPage(main);
  else if ((m = path.match(/^\/tasks\/(\d+)$/))) cleanup = taskPage(main, Number(m[1]));
  else notFound(main, `The board has no page at ${path}.`);
}

/** Moves to another page of the app without reloading. */
export function go(path) {
  history.pushState(null, '', path);
  route();
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-link]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  go(a.getAttribute('href'));
});
window.addEventListener('popstate', route);
// Any call answered 401 (no session, or this one revoked): the login page.
window.addEventListener('bosun:unauthorized', (e) => {
  if (document.body.classList.contains('logged-out')) return; // already showing it
  cleanup();
  cleanup = () => {};
  loginPage(main, e.detail);
});

// ---- The approvals count in the header, kept fresh as tasks change. ----
async function refreshApprovalCount() {
  try {
    const pending = await api('/api/approvals');
    const badge = document.getElementById('approval-count');
    badge.hidden = pending.length === 0;
    badge.textContent = String(pending.length);
    badge.setAttribute('aria-label', `${pending.length} pending`);
    // The tab title and the app badge count the tasks waiting for you (asks and reviews).
    const waiting = await api('/api/tasks?status=needs_input,review');
    document.title = waiting.length ? `(${waiting.length}) bosun` : 'bosun';
    if (navigator.setAppBadge) (waiting.length ? navigator.setAppBadge(waiting.length) : navigator.clearAppBadge()).catch(() => {});
  } catch { /* the board shows errors where they matter */ }
}
let countTimer = null;
onTask(() => { clearTimeout(countTimer); countTimer = setTimeout(refreshApprovalCount, 150); });
refreshApprovalCount();

// ---- Board (board.js lays it out; a card's common part is here) ----
function card(task) {
  const c = cost(task);
  return h('li', { class: 'card', id: `task-${task.id}`, dataset: { status: task.status, id: task.id } },
    h('a', { href: `/tasks/${task.id}`, 'data-link': true, class: 'card-title' }, h('span', { class: 'tid' }, `T-${task.id}`), ' ', task.title),
    h('p', { class: 'meta' },
      h('span', { class: `badge s-${task.status}` }, STATUS_LABEL[task.status] || task.status),
      task.agent ? h('span', { class: 'agent' }, task.agent) : h('span', { class: 'agent muted' }, 'auto'),
      task.model ? h('span', { class: 'model' }, task.model) : null,
      clock(task),
      c !== null ? h('span', { class: 'cost' }, money(c)) : null),
    task.tags.length ? h('ul', { class: 'tags', 'aria-label': 'Tags' }, task.tags.map((t) => h('li', {}, t))) : null,
    // (A budget's block is a wait, not something gone wrong.)
    task.status_reason ? h('p', { class: ['failed', 'stopped', 'interrupted', 'blocked', 'triage'].includes(task.status) && task.waiting?.kind !== 'budget' ? 'reason' : 'reason note' }, task.status_reason) : null,
    waitingNote(task));
}

// ---- New task ----
function newTaskPage(root) {
  const repoList = h('datalist', { id: 'repo-choices' });
  const agentSelect = h('select', { name: 'agent', id: 'f-agent' }, h('option', { value: '' }, 'Route automatically'));
  const field = (id, label, input, hint) => h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
  const repoInput = h('input', { id: 'f-repo', name: 'repo', list: 'repo-choices', autocomplete: 'off', placeholder: '/path/to/repo (empty: scratch workspace)', 'aria-describedby': 'f-repo-hint' });
  const form = h('form', { class: 'new-task', onsubmit: submit },
    field('f-title', 'Title', h('input', { id: 'f-title', name: 'title', required: true, maxlength: 500, autocomplete: 'off' })),
    field('f-body', 'What to do', h('textarea', { id: 'f-body', name: 'body', rows: 6 })),
    field('f-repo', 'Repository', repoInput, 'An absolute path; known repos are suggested.'), repoList,
    field('f-agent', 'Agent', agentSelect),
    field('f-model', 'Model', h('input', { id: 'f-model', name: 'model', autocomplete: 'off', placeholder: 'the rule\'s or the profile\'s', 'aria-describedby': 'f-model-hint' }), 'e.g. haiku, opus, gpt-5.5; empty: the routing rule\'s, else the profile\'s.'),
    field('f-tags', 'Tags', h('input', { id: 'f-tags', name: 'tags', autocomplete: 'off', 'aria-describedby': 'f-tags-hint' }), 'Separated by commas or spaces.'),
    field('f-after', 'After tasks', h('input', { id: 'f-after', name: 'after', inputmode: 'numeric', autocomplete: 'off', 'aria-describedby': 'f-after-hint' }), 'Task ids it waits for, e.g. 3, 7.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Create task'), h('a', { href: '/', 'data-link': true, class: 'button' }, 'Cancel')));
  fill(root, h('h1', {}, 'New task'), form);
  form.elements.title.focus();

  async function loadAgents() {
    const repo = repoInput.value.trim();
    try {
      const { agents } = await api(`/api/agents${repo.startsWith('/') ? `?repo=${encodeURIComponent(repo)}` : ''}`);
      const keep = agentSelect.value;
      fill(agentSelect, h('option', { value: '' }, 'Route automatically'),
        agents.map((a) => h('option', { value: a.name }, a.installed?.ok === false ? `${a.name} (not installed)` : a.name)));
      agentSelect.value = agents.some((a) => a.name === keep) ? keep : '';
    } catch (e) { notify(e.message, 'error'); }
  }
  repoInput.addEventListener('change', loadAgents);
  api('/api/repos').then((repos) => {
    fill(repoList, ...repos.map((r) => h('option', { value: r.repo })));
    if (repos.length === 1 && !repoInput.value) repoInput.value = repos[0].repo;
    loadAgents();
  }).catch((e) => notify(e.message, 'error'));

  async function submit(e) {
    e.preventDefault();
    const f = form.elements;
    const words = (s) => s.split(/[\s,]+/).map((w) => w.trim()).filter(Boolean);
    const after = words(f.after.value).map((w) => Number(w.replace(/^T-/i, '')));
    if (after.some((n) => !Number.isInteger(n) || n <= 0)) return notify('After: task ids are numbers, like 3 or T-3.', 'error');
    const body = { title: f.title.value.trim(), body: f.body.value, tags: words(f.tags.value), after };
    if (f.repo.value.trim()) body.repo = f.repo.value.trim();
    if (f.agent.value) body.agent = f.agent.value;
    if (f.model.value.trim()) body.model = f.model.value.trim();
    body.source = 'board';
    const button = form.querySelector('button[type=submit]');
    const task = await act(button, () => api('/api/tasks', { method: 'POST', body }));
    if (task) {
      notify(`Created T-${task.id}.`);
      go('/');
    }
  }
  return () => {};
}

// ---- Approvals inbox ----
function approvalsPage(root) {
  const list = h('ul', { class: 'asks' });
  fill(root, h('h1', {}, 'Approvals'), list);
  let reads = 0;
  async function load() {
    const n = ++reads;
    try {
      const pending = await api('/api/approvals');
      if (n !== reads) return; // a later read is on its way (or came back first)
      // Asks still pending keep their element (and a reason being typed).
      morph(list, ...pending.map((a) => askItem(a, load)));
      if (!pending.length) fill(list, h('li', { class: 'empty' }, 'No agent is waiting for an answer.'));
    } catch (e) { notify(e.message, 'error'); }
  }
  let timer = null;
  const off = onTask(() => { clearTimeout(timer); timer = setTimeout(load, 100); });
  load();
  return () => { off(); clearTimeout(timer); };
}

// ---- Allow rules ----
/** Where a rule came from, in words. */
function ruleOrigin(r) {
  if (r.origin.kind === 'profile') return ['In the profile file ', h('code', {}, r.origin.file), ': edit the file to change it.'];
  const a = r.origin.approval;
  if (!a) return 'Saved by an "always" answer before bosun recorded which.';
  const when = r.origin.saved_at || a.answered_at;
  return ['Saved when ', a.answered_by || 'someone', ' approved ', a.command ? command(a.command) : h('code', {}, a.path || a.tool), ' for ',
    h('a', { href: `/tasks/${a.task_id}`, 'data-link': true }, `T-${a.task_id}`), when ? `, ${new Date(when).toLocaleString()}` : '', '.'];
}

function rulesPage(root) {
  const list = h('ul', { class: 'asks rules', 'aria-label': 'Allow rules' });
  fill(root, h('h1', {}, 'Allow rules'),
    h('p', { class: 'hint' }, 'What an agent may do without asking you: rules saved by "Always allow", and the allow: lists of profile files.'), list);
  async function load() {
    try {
      const rules = await api('/api/rules');
      fill(list, ...rules.map((r) => h('li', { class: 'ask rule', dataset: { rule: r.id ?? '' } },
        h('p', { class: 'ask-what' }, h('code', {}, r.pattern), ' ', h('span', { class: 'agent' }, r.profile), ' ',
          h('span', { class: 'muted' }, r.repo || (r.origin.kind === 'profile' ? 'every repo' : 'tasks without a repo'))),
        h('p', { class: 'hint' }, ruleOrigin(r)),
        r.id !== null ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button danger', 'aria-label': `Revoke ${r.pattern} for ${r.profile}`,
          onclick: (e) => act(e.currentTarget, async () => { await api(`/api/rules/${r.id}`, { method: 'DELETE' }); await load(); }, `Revoked ${r.pattern}.`) }, 'Revoke')) : null)));
      if (!rules.length) fill(list, h('li', { class: 'empty' }, 'No allow rules: every ask the policy does not pass comes to you.'));
    } catch (e) { notify(e.message, 'error'); }
  }
  load();
  return () => {};
}

route();
registerWorker();
