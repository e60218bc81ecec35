// Managing a task from its page: edit one that is still queued (title, body, tags,
// priority, agent), duplicate one, and retry one with a different agent.
import { api, h, act, notify } from './api.js';

const words = (s) => s.split(/[\s,]+/).map((w) => w.trim()).filter(Boolean);

/** The agents that could run a task in `repo`, as <option>s ('' first: route by tags). */
async function agentOptions(repo, current) {
  const { agents } = await api(`/api/agents${repo ? `?repo=${encodeURIComponent(repo)}` : ''}`);
  const names = agents.map((a) => a.name);
  if (current && !names.includes(current)) names.push(current);
  return [h('option', { value: '' }, 'Route automatically'), names.map((n) => h('option', { value: n, selected: n === current }, n))];
}

/** The edit form of queued task `t`; `done(task|null)` when saved or cancelled. */
export function editForm(t, done) {
  const field = (id, label, input) => h('div', { class: 'field' }, h('label', { for: id }, label), input);
  const agent = h('select', { id: 'e-agent', name: 'agent' }, h('option', { value: t.agent || '' }, t.agent || 'Route automatically'));
  agentOptions(t.repo, t.agent).then((opts) => { agent.replaceChildren(...opts.flat()); agent.value = t.agent || ''; }).catch((e) => notify(e.message, 'error'));
  const form = h('form', { class: 'edit-task new-task', 'aria-label': `Edit T-${t.id}`, onsubmit: async (e) => {
    e.preventDefault();
    const f = form.elements;
    const body = { title: f.title.value.trim(), body: f.body.value, tags: words(f.tags.value), priority: Number(f.priority.value) || 0, agent: f.agent.value };
    const out = await act(form.querySelector('button[type=submit]'), () => api(`/api/tasks/${t.id}/edit`, { method: 'POST', body }), 'Saved.');
    if (out) done(out);
  } },
    h('h2', {}, 'Edit the task'),
    field('e-title', 'Title', h('input', { id: 'e-title', name: 'title', required: true, maxlength: 500, value: t.title, autocomplete: 'off' })),
    field('e-body', 'What to do', Object.assign(h('textarea', { id: 'e-body', name: 'body', rows: 5 }), { value: t.body })),
    field('e-tags', 'Tags', h('input', { id: 'e-tags', name: 'tags', value: t.tags.join(', '), autocomplete: 'off' })),
    field('e-priority', 'Priority', h('input', { id: 'e-priority', name: 'priority', inputmode: 'numeric', value: String(t.priority), autocomplete: 'off' })),
    field('e-agent', 'Agent', agent),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Save'),
      h('button', { type: 'button', class: 'button', onclick: () => done(null) }, 'Cancel')));
  return form;
}

/** Creates a copy of `t` (queued anew); resolves to the new task. */
export function duplicate(button, t) {
  const body = { title: t.title, body: t.body, tags: t.tags, priority: t.priority };
  if (t.repo) { body.repo = t.repo; body.base = t.base || undefined; }
  if (t.agent) body.agent = t.agent;
  return act(button, () => api('/api/tasks', { method: 'POST', body }), 'Duplicated.');
}

/** A select of agents and a button that retries `t` with the chosen one. */
export function retryWith(t, after) {
  const select = h('select', { 'aria-label': `Agent for the retry of T-${t.id}` }, h('option', { value: '' }, 'Choose an agent…'));
  agentOptions(t.repo, null).then((opts) => select.replaceChildren(h('option', { value: '' }, 'Choose an agent…'), ...opts.flat().slice(1))).catch(() => {});
  const go = h('button', { type: 'button', class: 'button', onclick: async () => {
    if (!select.value) return select.focus();
    const out = await act(go, () => api(`/api/tasks/${t.id}/retry`, { method: 'POST', body: { agent: select.value } }), `Retrying with ${select.value}.`);
    if (out) after(out);
  } }, 'Try another agent');
  return h('span', { class: 'retry-with' }, go, select);
}
