// The Costs page (`/costs`): what the agents spent, from the cost ledger (`GET
// /api/costs`) — by day and by profile, each a small bar chart (plain SVG) with its
// figures — and every budget (`GET /api/budgets`) with its limit, what is spent and
// reserved against it and what remains. A task's own budget is raised here and on the
// task page (`POST /api/tasks/{id}/budget`, what `bosun budget raise` calls).
import { api, h, fill, act, notify, onTask, money } from './api.js';

const SVG = 'http://www.w3.org/2000/svg';
const DAYS = 14;

/** An SVG element (attributes only: the page's CSP takes no inline styles). */
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

const count = (n) => Number(n).toLocaleString('en-US');

/** Tokens of a ledger row (or a run), in words: "200,000 in · 512 out · 0 cached". */
export function tokens(r) {
  return `${count(r.input_tokens)} in · ${count(r.output_tokens)} out · ${count(r.cached_tokens)} cached`;
}

/** Rows of `body` (a CostsBody) as bars, each as long as its share of the largest. */
function bars(rows, label, empty) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  const top = Math.max(...rows.map((r) => r.cost_usd), 0);
  return h('ol', { class: 'bars', 'aria-label': label }, rows.map((r) => {
    const key = r.key ?? 'none';
    const width = top > 0 ? Math.max(0.5, (100 * r.cost_usd) / top) : 0;
    return h('li', { class: 'bar-row', dataset: { key } },
      h('span', { class: 'bar-key' }, key),
      svg('svg', { class: 'bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false' },
        svg('rect', { x: '0', y: '0', width: width.toFixed(2), height: '10', rx: '1' })),
      h('span', { class: 'bar-value' }, money(r.cost_usd) || '$0.00'),
      h('span', { class: 'bar-tokens' }, `${tokens(r)} · ${r.reports} report${r.reports === 1 ? '' : 's'}`));
  }));
}

/** The task id a budget is the own budget of, or null (a configured one). */
const taskOf = (b) => (b.scope.kind === 'task' ? b.scope.value : null);

/**
 * The Raise form for task `id` (its budget `current`, or null: the default): a new
 * amount in dollars and the button; `after(task)` once raised.
 */
export function raiseForm(id, current, after) {
  const input = h('input', { type: 'text', inputmode: 'decimal', name: 'budget', autocomplete: 'off', 'aria-label': `New budget for T-${id} in dollars`,
    placeholder: current != null ? `more than ${money(current)}` : 'dollars' });
  const form = h('form', { class: 'actions raise', onsubmit: async (e) => {
    e.preventDefault();
    const text = input.value.trim().replace(/^\$/, '');
    const dollars = Number(text);
    if (!text || !Number.isFinite(dollars) || dollars < 0) {
      notify('The new budget is an amount of dollars, like 5 or 12.50.', 'error');
      return input.focus();
    }
    const task = await act(form.querySelector('button'), () => api(`/api/tasks/${id}/budget`, { method: 'POST', body: { budget: dollars } }),
      `T-${id} budget ${money(dollars)}.`);
    if (task) { input.value = ''; after(task); }
  } }, input, h('button', { type: 'submit', class: 'button primary' }, 'Raise'));
  return form;
}

/** Whether a budget holds task `t` back: blocked by one, or its run stopped by one. */
export function heldByBudget(t) {
  if (t.status === 'blocked') return t.waiting?.kind === 'budget';
  return t.status === 'needs_input' && /^stopped: budget /.test(t.status_reason || '') && !t.runs.some((r) => ['starting', 'running', 'needs_input'].includes(r.status));
}

function budgetItem(b, reload) {
  const id = taskOf(b);
  const used = b.spent + b.reserved;
  const state = b.spent >= b.limit ? 'crossed' : b.spent >= 0.8 * b.limit ? 'near' : 'ok';
  return h('li', { class: `budget b-${state}`, dataset: { budget: b.name } },
    h('p', { class: 'budget-head' }, id !== null ? h('a', { href: `/tasks/${id}`, 'data-link': true }, b.name) : h('strong', {}, b.name),
      ' ', h('span', { class: 'limit' }, `${money(b.limit)} limit`), b.since ? h('span', { class: 'muted' }, ` since ${new Date(b.since).toLocaleDateString()}`) : null),
    h('meter', { min: '0', max: String(b.limit || 1), value: String(Math.min(used, b.limit)), low: String(0.8 * b.limit), high: String(0.99 * b.limit), optimum: '0',
      'aria-label': `${b.name}: ${money(used)} of ${money(b.limit)} spent or reserved` }),
    h('p', { class: 'figures' },
      h('span', { class: 'spent' }, `${money(b.spent) || '$0.00'} spent`), ' · ',
      h('span', { class: 'reserved' }, `${money(b.reserved) || '$0.00'} reserved`), ' · ',
      h('span', { class: 'remaining' }, `${money(b.remaining) || '$0.00'} remaining`),
      state === 'crossed' ? h('span', { class: 'reason' }, ' · crossed') : state === 'near' ? h('span', { class: 'reason note' }, ' · past 80%') : null),
    id !== null ? raiseForm(id, b.limit, reload)
      : h('p', { class: 'hint' }, 'Set in routing.toml ([budget]): raise it there; a task it blocked or stopped goes on with ', h('code', {}, 'bosun budget raise T-n'), '.'));
}

export function costsPage(root) {
  const total = h('p', { class: 'total', role: 'status' });
  const byDay = h('section', { 'aria-labelledby': 'by-day-h' });
  const byProfile = h('section', { 'aria-labelledby': 'by-profile-h' });
  const budgets = h('section', { 'aria-labelledby': 'budgets-h' });
  fill(root, h('h1', {}, 'Costs'), total, byDay, byProfile, budgets);
  let reads = 0;
  async function load() {
    const n = ++reads;
    try {
      const [days, profiles, b] = await Promise.all([api('/api/costs?by=day'), api('/api/costs?by=profile'), api('/api/budgets')]);
      if (n !== reads) return; // a later read is on its way
      const recent = days.rows.slice(-DAYS).reverse();
      fill(total, 'Spent in all: ', h('strong', { id: 'cost-total' }, money(days.total_usd) || '$0.00'), ` (${days.rows.reduce((a, r) => a + r.reports, 0)} usage reports)`);
      fill(byDay, h('h2', { id: 'by-day-h' }, `By day (last ${DAYS}, UTC)`), bars(recent, 'Cost by day', 'Nothing spent yet.'));
      fill(byProfile, h('h2', { id: 'by-profile-h' }, 'By profile'), bars(profiles.rows, 'Cost by profile', 'Nothing spent yet.'));
      fill(budgets, h('h2', { id: 'budgets-h' }, 'Budgets'),
        b.task_default != null ? h('p', { class: 'hint' }, `Each task may spend ${money(b.task_default)} unless it has its own budget.`) : null,
        b.budgets.length ? h('ul', { class: 'budgets' }, b.budgets.map((x) => budgetItem(x, load)))
          : h('p', { class: 'empty' }, 'No budgets: set them in routing.toml ([budget]) or give a task one (bosun add --budget).'));
    } catch (e) { notify(e.message, 'error'); }
  }
  // Spend and reservations move with the tasks' runs.
  let timer = null;
  const off = onTask(() => { clearTimeout(timer); timer = setTimeout(load, 250); });
  load();
  return () => { off(); clearTimeout(timer); };
}
