// The Sources page (`/sources`, admin): where tasks come from outside bosun (a Notion
// database, a GitHub repo's or a Linear team's issues), how each one's last sync went
// (its error, when it failed), its webhook (the URL to give the service, the last
// delivery), and Sync now. Sources are added with `bosun source add`.
import { api, h, fill, act, notify } from './api.js';

const SERVICE = { notion: 'Notion', github: 'GitHub', linear: 'Linear' };

/** What a source watches, in a few words (as `bosun source ls` says it). */
function watching(s) {
  if (s.kind === 'notion') return `database ${s.database} where ${s.status_property} is “${s.ready}”`;
  if (s.kind === 'github') return `${s.github_repo} issues labelled “${s.label}”${s.assignee ? ` assigned to ${s.assignee}` : ''}`;
  const watched = [s.label && `labelled “${s.label}”`, s.delegated && 'delegated to bosun'].filter(Boolean).join(' or ');
  return `team ${s.team} issues ${watched}`;
}

/** The webhook's line: where the service delivers, and how that goes. */
function webhook(s) {
  const w = s.webhook;
  if (!w) return null;
  const state = w.last_delivery_at
    ? `last delivery ${new Date(w.last_delivery_at).toLocaleTimeString()}`
    : (w.secret_env || w.token_received)
      ? 'no delivery yet'
      : ['waiting for Notion’s verification token (then ', h('code', {}, `bosun source verification-token ${s.id}`), ')'];
  return h('p', { class: 'muted hook' }, 'Webhook ', h('code', {}, w.url), ': ', state);
}

export function sourcesPage(root) {
  const list = h('ul', { class: 'sources' });
  fill(root, h('h1', {}, 'Sources'), list,
    h('p', { class: 'hint' }, 'Add one with ', h('code', {}, 'bosun source add notion|github|linear …'), ': its ready items become tasks, and their state follows the task.'));
  async function load() {
    try {
      const sources = await api('/api/sources');
      if (!sources.length) return fill(list, h('li', { class: 'empty' }, 'No sources yet.'));
      fill(list, sources.map((s) => h('li', { class: 'source', dataset: { source: s.id } },
        h('p', {}, h('strong', {}, SERVICE[s.kind] || s.kind), ' ', watching(s)),
        h('p', { class: 'muted' }, `${s.seen} item${s.seen === 1 ? '' : 's'} read, ${s.created} task${s.created === 1 ? '' : 's'} made`, s.repo ? ` · tasks run in ${s.repo}` : '', ` · every ${s.interval_secs}s`),
        s.last_error
          ? h('p', { class: 'reason', role: 'status' }, `Last sync failed${s.last_sync_at ? ` (${new Date(s.last_sync_at).toLocaleTimeString()})` : ''}: ${s.last_error}`)
          : h('p', { class: 'muted', role: 'status' }, s.last_sync_at ? `Last sync ${new Date(s.last_sync_at).toLocaleTimeString()}: ok` : 'Not synced yet'),
        webhook(s),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button', onclick: (e) => act(e.currentTarget, async () => {
          try {
            const r = await api(`/api/sources/${s.id}/sync`, { method: 'POST' });
            notify(r.created.length ? `New tasks: ${r.created.map((i) => `T-${i}`).join(', ')}` : 'Synced: no new task.');
          } finally { load(); }
        }) }, 'Sync now')))));
    } catch (e) { notify(e.message, 'error'); }
  }
  load();
  const timer = setInterval(load, 10_000);
  return () => clearInterval(timer);
}
