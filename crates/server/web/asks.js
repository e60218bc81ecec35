// One pending permission ask with its answer buttons, shared by the approvals inbox
// (app.js) and the task page (task.js).
import { api, h, act, command } from './api.js';

/** One pending ask with its answer buttons; `after` is called once answered. */
export function askItem(a, after, { showTask = true } = {}) {
  const reason = h('input', { type: 'text', name: 'reason', placeholder: 'Reason (optional)', 'aria-label': `Reason to deny ${a.tool}` });
  const always = h('input', { type: 'checkbox', name: 'always' });
  const answer = (allow) => (e) => act(e.currentTarget, async () => {
    await api(`/api/tasks/${a.task_id}/${allow ? 'approve' : 'deny'}`, { method: 'POST', body: allow ? { id: a.id, always: always.checked || undefined } : { id: a.id, reason: reason.value || undefined } });
    after();
  }, allow ? 'Approved.' : 'Denied.');
  return h('li', { class: 'ask', dataset: { approval: a.id } },
    showTask ? h('p', { class: 'ask-task' }, h('a', { href: `/tasks/${a.task_id}`, 'data-link': true }, `T-${a.task_id} ${a.title || ''}`), a.agent ? h('span', { class: 'agent' }, a.agent) : null) : null,
    h('p', { class: 'ask-what' }, h('strong', {}, a.tool), a.kind ? ` (${a.kind})` : '', ' wants to ',
      a.command ? command(a.command) : a.path ? h('code', {}, a.path) : 'run'),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'button primary', onclick: answer(true) }, 'Approve'),
      a.always
        ? h('label', { class: 'always', title: `Save the rule ${a.always} for this agent in this repo` }, always, ' Always allow ', h('code', {}, a.always))
        : h('span', { class: 'always', title: 'It chains, pipes, substitutes or redirects: only an answer can allow it' }, 'Asked each time'),
      h('button', { type: 'button', class: 'button danger', onclick: answer(false) }, 'Deny'), reason));
}
