// The merge confirm sheet: the strategy (squash by default, merge, rebase), the
// commit message (from the task's title and the agent's summary, editable) and what
// happens to the worktree and branch, before anything lands.
import { api, h } from './api.js';

const STRATEGIES = [
  { value: 'squash', label: 'Squash', says: (base) => `One new commit on ${base} with the whole change.` },
  { value: 'merge', label: 'Merge commit', says: (base) => `A merge commit on ${base}, keeping the agent's commits.` },
  { value: 'rebase', label: 'Rebase', says: (base) => `The agent's commits replayed on ${base}, each as it was (no message of yours).` },
];

/**
 * Opens the sheet for task `t`; `summary` is the agent's last word (or ''). Resolves to
 * the merge's answer, or null when cancelled; a refusal (a conflict) rejects.
 */
export function mergeSheet(t, summary) {
  return new Promise((resolve, reject) => {
    const base = t.base || 'the base';
    const message = h('textarea', { id: 'merge-message', rows: 6 });
    message.value = `${t.title} (bosun T-${t.id})${summary || t.body ? `\n\n${(summary || t.body).trim()}` : ''}`;
    const messageField = h('div', { class: 'field' }, h('label', { for: 'merge-message' }, 'Commit message'), message);
    const radios = STRATEGIES.map((s, i) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'strategy', value: s.value, checked: i === 0, onchange: () => { messageField.hidden = s.value === 'rebase'; } }),
      h('span', {}, h('strong', {}, s.label), h('span', { class: 'hint' }, ` ${s.says(base)}`))));
    const repo = !!t.repo;
    const go = h('button', { type: 'submit', class: 'button primary' }, repo ? `Merge into ${base}` : 'Accept');
    const dialog = h('dialog', { class: 'sheet', 'aria-labelledby': 'merge-h' });
    const done = (v, fail) => { dialog.close(); dialog.remove(); if (fail) reject(fail); else resolve(v); };
    const form = h('form', { onsubmit: async (e) => {
      e.preventDefault();
      const strategy = repo ? form.elements.strategy.value : undefined;
      const body = repo ? { strategy, message: strategy === 'rebase' ? undefined : message.value } : {};
      go.disabled = true;
      try { done(await api(`/api/tasks/${t.id}/merge`, { method: 'POST', body })); } catch (err) { done(null, err); }
    } },
      h('h2', { id: 'merge-h' }, repo ? `Merge T-${t.id} into ${base}` : `Accept T-${t.id}`),
      repo ? h('fieldset', {}, h('legend', {}, 'Strategy'), radios) : null,
      repo ? messageField : null,
      h('p', { class: 'hint', id: 'merge-after' }, repo && t.worktree
        ? `Then bosun removes the worktree ${t.worktree}, and deletes the branch ${t.branch} once all its commits are in ${base} (a squashed branch is kept). Nothing uncommitted is ever removed: a dirty worktree refuses the merge.`
        : `The task is accepted as done; its workspace ${t.worktree || ''} stays until \`bosun gc\`.`),
      h('div', { class: 'actions' }, go, h('button', { type: 'button', class: 'button', onclick: () => done(null) }, 'Cancel')));
    dialog.append(form);
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(null); });
    document.body.append(dialog);
    dialog.showModal();
    (repo ? form.elements.strategy[0] : go).focus();
  });
}
