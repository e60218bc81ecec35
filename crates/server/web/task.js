// The task page: the task's header and actions, its pending asks, the agent's summary,
// then two tabs: Changes (the review, diff first: review.js) and the live event
// timeline (paged and capped so 50,000 events stay fast); and its runs. Merge asks
// first (merge.js); the files the runs handed over above them (deliverables.js).
// Everything through the public API.
import { api, h, notify, act, fill, morph, onTask, notFound, STATUS_LABEL, cost, money, shortTime, duration, waitingNote, command, clock } from './api.js';
import { raiseForm, heldByBudget, tokens } from './costs.js';
import { askItem } from './asks.js';
import { reviewPanel } from './review.js';
import { deliverablesPanel } from './deliverables.js';
import { mergeSheet } from './merge.js';
import { editForm, duplicate, retryWith } from './manage.js';

/** A source's service, for people. */
const SOURCE_NAME = { notion: 'Notion', github: 'GitHub', linear: 'Linear' };

/** Most events kept in the DOM while following live. */
const CAP = 2000;
/** Events fetched per "show earlier" tap. */
const PAGE = 1000;
const EVENT_TYPES = ['message', 'tool_call', 'tool_result', 'file_change', 'usage', 'status', 'error', 'output', 'approval_request', 'approval', 'session', 'deliverable'];
const TOOL_LABEL = { read: 'Read', edit: 'Edit', write: 'Write', command: 'Ran', search: 'Searched', web: 'Fetched', other: 'Tool' };
const ACTIVE = ['queued', 'running', 'needs_input'];
/** Status events after which a rebase's conflicts are no longer in the worktree: a
 *  clean rebase, a run that ended in review (it fails while markers remain), the end. */
const UNCONFLICTED = ['rebased', 'review', 'done', 'discarded', 'removed'];
/** Statuses a task can be discarded from (a running agent is stopped first). */
const DISCARDABLE = ['queued', 'blocked', 'review', 'failed', 'stopped', 'interrupted'];

function lines(text) {
  return text ? text.split('\n').length - (text.endsWith('\n') ? 1 : 0) : 0;
}

/** A diff as lines coloured by kind (text only). */
function diffBlock(text) {
  const pre = h('pre', { class: 'diff' });
  const frag = document.createDocumentFragment();
  for (const line of text.split('\n')) {
    const cls = line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : line.startsWith('@@') ? 'hunk' : '';
    frag.append(cls ? h('span', { class: cls }, line) : line, '\n');
  }
  pre.append(frag);
  return pre;
}

function eventBody(ev) {
  switch (ev.type) {
    case 'message':
      return ev.role === 'user'
        ? [h('span', { class: 'who' }, ev.from ? `${ev.from}:` : 'You:'), ' ', h('span', { class: 'text' }, ev.text)]
        : [h('span', { class: 'text' }, ev.text)];
    case 'tool_call':
      return [h('span', { class: 'who' }, TOOL_LABEL[ev.kind] || 'Tool'), ' ',
        ev.command ? command(ev.command) : ev.path ? h('code', {}, ev.path) : null,
        ev.name ? h('span', { class: 'muted' }, ` ${ev.name}`) : null];
    case 'tool_result': {
      const out = ev.output || '';
      const summary = [`${ev.is_error ? 'Failed' : 'Result'}`, out ? ` · ${lines(out)} lines` : ' · no output', ev.exit_code != null ? ` · exit ${ev.exit_code}` : ''].join('');
      return out ? [h('details', {}, h('summary', {}, summary), h('pre', { class: 'output' }, out))] : [h('span', { class: 'muted' }, summary)];
    }
    case 'file_change':
      return [h('span', { class: 'who' }, ev.change[0].toUpperCase() + ev.change.slice(1)), ' ', h('code', {}, ev.path),
        ev.diff ? h('details', {}, h('summary', {}, 'Changes'), diffBlock(ev.diff)) : null];
    case 'usage':
      return [h('span', { class: 'who' }, 'Usage'), ` ${ev.input_tokens} in · ${ev.output_tokens} out${ev.cached_tokens ? ` · ${ev.cached_tokens} cached` : ''}`,
        ev.cost_usd != null ? ` · ${money(ev.cost_usd)}` : ''];
    case 'status':
      return [h('span', { class: 'who' }, 'Status'), ' ', h('span', { class: `badge s-${ev.status}` }, STATUS_LABEL[ev.status] || ev.status), ev.message ? ` ${ev.message}` : ''];
    case 'error':
      return [h('span', { class: 'who' }, 'Error'), ' ', ev.message];
    case 'output':
      return [h('code', { class: 'line' }, ev.line)];
    case 'approval_request':
      return [h('span', { class: 'who' }, 'Asks'), ` to use ${ev.tool} `, ev.command ? command(ev.command) : ev.path ? h('code', {}, ev.path) : null];
    case 'approval':
      return [h('span', { class: 'who' }, ev.allow ? 'Approved' : 'Denied'), ` by ${ev.by}`, ev.message ? `: ${ev.message}` : ''];
    case 'session':
      return [h('span', { class: 'muted' }, `Session ${ev.session_id}`)];
    case 'deliverable':
      return [h('span', { class: 'who' }, 'Delivered'), ' ', h('code', {}, ev.path), ev.description ? ` ${ev.description}` : ''];
    default:
      return [h('code', {}, JSON.stringify(ev))];
  }
}

function eventItem(ev) {
  const extra = ev.type === 'output' && ev.stream === 'stderr' ? ' stderr' : ev.type === 'tool_result' && ev.is_error ? ' failed' : '';
  return h('li', { class: `ev ev-${ev.type}${extra}`, dataset: { seq: ev.seq } },
    h('time', { datetime: ev.ts, class: 'ts' }, shortTime(ev.ts)), h('div', { class: 'ev-body' }, eventBody(ev)));
}

export function taskPage(root, id) {
  let task = null;
  let closed = false;
  let losing = null; // what discarding would lose, while the user is asked to confirm
  let editing = null; // the edit form, shown instead of the actions (a queued task), kept across renders
  /** Opens another page of the board (app.js routes on popstate). */
  const visit = (path) => { history.pushState(null, '', path); window.dispatchEvent(new PopStateEvent('popstate')); };
  const header = h('div', { class: 'task-head' });
  const asks = h('section', { class: 'pending', 'aria-labelledby': 'asks-h', hidden: true }, h('h2', { id: 'asks-h' }, 'Waiting for you'), h('ul', { class: 'asks' }));
  const earlier = h('button', { type: 'button', class: 'button', hidden: true, onclick: showEarlier }, 'Show earlier events');
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'Events', 'aria-live': 'off' });
  const follow = h('label', { class: 'follow' }, h('input', { type: 'checkbox', checked: true }), ' Follow live');
  const sayText = h('textarea', { id: 'say-text', name: 'text', rows: 2, placeholder: 'Tell the agent something…' });
  const say = h('form', { class: 'say', onsubmit: (e) => send(e, 'say', sayText, 'Sent.') },
    h('label', { for: 'say-text' }, 'Steer'), sayText, h('button', { type: 'submit', class: 'button primary' }, 'Send'));
  // Said instead of the steer box when the agent cannot take messages while it runs.
  const sayNote = h('p', { class: 'muted say-note', hidden: true });
  let deafChecked = null; // the agent whose profile was looked at
  let deaf = false;
  const replyText = h('textarea', { id: 'reply-text', name: 'text', rows: 2, placeholder: 'A message for the agent…' });
  // Offered while the timeline says a rebase left conflicts (the API has no field for it).
  let conflicts = null; // the files the rebase named
  const resolveNote = h('p', { class: 'hint', id: 'resolve-note', hidden: true });
  const resolveButton = h('button', { type: 'submit', class: 'button', hidden: true, dataset: { resolve: true } }, 'Reply and resolve conflicts');
  const reply = h('form', { class: 'say', onsubmit: (e) => send(e, 'reply', replyText, 'Reply sent.') },
    h('label', { for: 'reply-text' }, 'Reply'), replyText, resolveNote,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Reply'), resolveButton));
  // The agent's last word (its last message of the last run), shown above the diff.
  let lastWord = '';
  const summaryBox = h('section', { class: 'summary', 'aria-labelledby': 'summary-h', hidden: true },
    h('h2', { id: 'summary-h' }, 'Summary'), h('p', { class: 'text' }));
  const review = reviewPanel(id, { task: () => task, adopt: (t) => { if (adopt(t)) renderTask(); } });
  const delivered = deliverablesPanel(id, { task: () => task, adopt: (t) => { if (adopt(t)) renderTask(); } });
  const tabChanges = h('button', { type: 'button', role: 'tab', id: 'tab-changes', 'aria-controls': 'panel-changes', class: 'tab', onclick: () => showTab('changes') }, 'Changes');
  const tabTimeline = h('button', { type: 'button', role: 'tab', id: 'tab-timeline', 'aria-controls': 'panel-timeline', class: 'tab', onclick: () => showTab('timeline') }, 'Timeline');
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Task views',
    onkeydown: (e) => { if (['ArrowLeft', 'ArrowRight'].includes(e.key)) { const other = e.target === tabChanges ? tabTimeline : tabChanges; other.click(); other.focus(); } } },
    tabChanges, tabTimeline);
  const changesPanel = h('section', { role: 'tabpanel', id: 'panel-changes', 'aria-labelledby': 'tab-changes', class: 'panel' }, review.el);
  let tab = null;
  let reviewLoaded = false;
  function showTab(which) {
    tab = which;
    for (const [b, name] of [[tabChanges, 'changes'], [tabTimeline, 'timeline']]) {
      b.setAttribute('aria-selected', String(name === which));
      b.tabIndex = name === which ? 0 : -1;
    }
    changesPanel.hidden = which !== 'changes';
    timelinePanel.hidden = which !== 'timeline';
    if (which === 'changes' && !reviewLoaded) { reviewLoaded = true; review.load(); }
  }
  const runs = h('section', { class: 'runs', 'aria-labelledby': 'runs-h' });
  const timelinePanel = h('section', { role: 'tabpanel', id: 'panel-timeline', 'aria-labelledby': 'tab-timeline', class: 'panel events' },
    h('div', { class: 'events-head' }, h('h2', { id: 'events-h' }, 'Timeline'), follow), earlier, timeline);

  /** Whether the task's agent can be steered: a `command` agent that is not
   *  interactive reads its prompt once and hears nothing after (the API refuses). */
  async function checkDeaf(t) {
    deafChecked = t.agent;
    try {
      const { agents } = await api(`/api/agents${t.repo ? `?repo=${encodeURIComponent(t.repo)}` : ''}`);
      const p = agents.find((a) => a.name === t.agent);
      deaf = !!p && p.runtime === 'command' && !p.interactive;
    } catch { deaf = false; }
    fill(sayNote, `${t.agent} reads its prompt once and takes no messages while it runs: Stop it and Retry with the message in the task, or Reply once it is done.`);
    if (task) renderTask();
  }

  async function send(e, verb, input, done) {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const resolve = e.submitter?.dataset.resolve ? true : undefined;
    const ok = await act(e.submitter, () => api(`/api/tasks/${id}/${verb}`, { method: 'POST', body: { text, resolve } }), done);
    if (ok !== undefined) input.value = '';
  }

  /** Takes `t` as the task unless what we hold is newer: an action's answer can
   *  arrive after the live updates that followed it (a retry that fails at once). */
  function adopt(t) {
    const newer = !task || t.updated_at > task.updated_at
      || (t.updated_at === task.updated_at && (t.runs?.length ?? 0) >= (task.runs?.length ?? 0));
    if (newer) task = t;
    return newer;
  }

  // ---- header, actions and runs ----
  function renderTask() {
    const t = task;
    const c = cost(t);
    const action = (label, verb, cls = '', body) => h('button', { type: 'button', class: `button ${cls}`, onclick: (e) => act(e.currentTarget, async () => {
      const out = await api(`/api/tasks/${id}/${verb}`, { method: 'POST', body });
      const next = out?.task || (out?.id === id ? out : null);
      if (next?.status && adopt(next)) renderTask();
      if (verb === 'pr' && out?.pr?.url) notify(`Pull request: ${out.pr.url}`);
    }, `${label}: done.`) }, label);
    const buttons = [];
    if (['running', 'needs_input'].includes(t.status)) buttons.push(action('Interrupt', 'interrupt'));
    if (ACTIVE.includes(t.status)) buttons.push(action('Stop', 'stop', 'danger'));
    // A task without a repo is accepted with its deliverables (copied out, or kept).
    if (t.status === 'review') buttons.push(h('button', { type: 'button', class: 'button primary', onclick: (e) => (t.repo ? merge(e.currentTarget) : delivered.focusAccept()) }, t.repo ? 'Merge…' : 'Accept…'),
      action(t.pr ? 'Refresh PR' : 'Open PR', 'pr', '', t.pr ? { refresh: true } : undefined));
    // What Reply and Retry will do: Reply continues the agent's session (where it left
    // one); Retry starts over, unless the daemon cut the run off (then it continues too).
    const ended = ['failed', 'stopped', 'interrupted'].includes(t.status);
    const session = t.runs.some((r) => r.session_id);
    const resumes = t.status === 'interrupted' && session;
    const held = heldByBudget(t);
    if (ended || (t.status === 'blocked' && !held)) buttons.push(action(resumes ? 'Retry: continue' : 'Retry: start over', 'retry', 'primary'));
    // A budget holds it back: a higher one lets it go on (or start).
    if (held) buttons.push(raiseForm(id, t.budget, (out) => { if (adopt(out)) renderTask(); }));
    if (ended) buttons.push(retryWith(t, (out) => { if (adopt(out)) renderTask(); }));
    if (['done', 'discarded'].includes(t.status) && !t.archived_at) {
      buttons.push(h('button', { type: 'button', class: 'button', onclick: (e) => act(e.currentTarget, async () => {
        await api('/api/archive', { method: 'POST', body: { ids: [id] } });
        await loadTask();
      }, `Archived T-${id}: off the board and out of lists.`) }, 'Archive'));
    }
    if (t.status === 'queued') buttons.push(h('button', { type: 'button', class: 'button', onclick: () => {
      editing = editForm(t, (out) => { editing = null; if (out) adopt(out); renderTask(); });
      renderTask();
      editing.querySelector('input').focus();
    } }, 'Edit'));
    buttons.push(h('button', { type: 'button', class: 'button', onclick: async (e) => { const copy = await duplicate(e.currentTarget, t); if (copy) visit(`/tasks/${copy.id}`); } }, 'Duplicate'));
    if (t.status !== 'queued') editing = null;
    const nextRun = !ended ? null
      : resumes ? 'The run was cut off (its agent\'s holder or the machine went down): Retry continues its session, and Reply continues it with your message.'
      : session ? 'Reply continues the agent\'s session with your message; Retry starts over in a new session.'
      : 'This agent left no session to continue: Reply starts a new run with the task and your message; Retry starts over.';
    // As the CLI says it: a run that left a session is continued, whatever the status.
    replyText.placeholder = session ? 'A message for the agent (continues its session)…' : 'A message for the agent (starts a new run with the task and your message)…';
    if (!DISCARDABLE.includes(t.status)) losing = null;
    if (DISCARDABLE.includes(t.status) && !losing) buttons.push(h('button', { type: 'button', class: 'button danger', onclick: (e) => discard(e.currentTarget) }, 'Discard'));
    const confirm = losing && h('div', { class: 'confirm', role: 'alertdialog', 'aria-labelledby': 'discard-q' },
      h('p', { id: 'discard-q', class: 'reason' }, `Discarding T-${t.id} loses ${losing}.`),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button danger', onclick: (e) => discard(e.currentTarget, true) }, 'Discard anyway'),
        h('button', { type: 'button', class: 'button', onclick: () => { losing = null; renderTask(); } }, 'Keep it')));
    morph(header,
      h('p', { class: 'crumbs' }, h('a', { href: '/', 'data-link': true }, '← Board')),
      h('h1', {}, h('span', { class: 'tid' }, `T-${t.id}`), ' ', t.title),
      h('p', { class: 'meta' }, h('span', { class: `badge s-${t.status}`, id: 'task-status', dataset: { status: t.status } }, STATUS_LABEL[t.status] || t.status),
        h('span', { class: 'agent' }, t.agent || 'auto'), clock(t), c !== null ? h('span', { class: 'cost' }, money(c)) : null,
        t.branch ? h('code', {}, t.branch) : null,
        t.pr ? h('a', { href: t.pr.url, rel: 'noopener' }, `PR #${t.pr.number} (${t.pr.state})`) : null,
        t.origin && /^https?:\/\//.test(t.origin.url) ? h('a', { href: t.origin.url, rel: 'noopener', class: 'origin' }, `${SOURCE_NAME[t.origin.kind] || t.origin.kind} ${t.origin.reference}`) : null),
      t.status_reason ? h('p', { class: ['failed', 'stopped', 'interrupted', 'blocked'].includes(t.status) && t.waiting?.kind !== 'budget' ? 'reason' : 'reason note' }, t.status_reason) : null,
      waitingNote(t),
      t.tags.length ? h('ul', { class: 'tags', 'aria-label': 'Tags' }, t.tags.map((x) => h('li', {}, x))) : null,
      t.after.length ? h('p', { class: 'muted deps' }, 'After ', t.after.map((d, i) => [i ? ', ' : '', h('a', { href: `/tasks/${d}`, 'data-link': true }, `T-${d}`)])) : null,
      t.body ? h('details', { class: 'task-body' }, h('summary', {}, 'Description'), h('p', { class: 'text' }, t.body)) : null,
      editing || h('div', { class: 'actions' }, buttons), confirm,
      nextRun ? h('p', { class: 'hint', id: 'next-run' }, nextRun) : null);
    say.hidden = !ACTIVE.includes(t.status) || deaf;
    sayNote.hidden = !ACTIVE.includes(t.status) || !deaf;
    reply.hidden = ACTIVE.includes(t.status) || ['done', 'discarded'].includes(t.status);
    resolveNote.hidden = resolveButton.hidden = !conflicts;
    fill(resolveNote, conflicts ? `A rebase stopped on conflicts in ${conflicts}: Reply and resolve conflicts has the agent resolve them with your message.` : '');
    // Nothing to diff once the branch is gone (or before there is a branch or workspace).
    const diffable = t.status !== 'discarded' && !!(t.branch || t.worktree);
    tabs.hidden = !diffable;
    if (!diffable && tab !== 'timeline') showTab('timeline');
    fill(tabChanges, 'Changes', t.status === 'review' ? h('span', { class: 'count' }, 'to review') : null);
    summaryBox.hidden = !lastWord || ACTIVE.includes(t.status);
    fill(summaryBox.querySelector('p'), lastWord);
    if (t.agent && t.agent !== deafChecked) checkDeaf(t);
    fill(runs, h('h2', { id: 'runs-h' }, 'Runs'), t.runs.length ? h('table', { tabindex: 0, 'aria-labelledby': 'runs-h' },
      h('thead', {}, h('tr', {}, ['Run', 'Agent', 'Model', 'Status', 'Started', 'Took', 'Cost', 'Tokens', 'Why'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, t.runs.map((r) => h('tr', { dataset: { run: r.id } }, h('td', {}, `#${r.id}`), h('td', {}, r.agent), h('td', { class: 'run-model' }, r.model || 'the CLI\'s default'), h('td', {}, r.status),
        h('td', {}, new Date(r.started_at).toLocaleString()), h('td', {}, r.ended_at ? duration(new Date(r.ended_at) - new Date(r.started_at)) : '…'),
        h('td', { class: 'run-cost' }, money(r.cost_usd)), h('td', { class: 'run-tokens' }, tokens(r)), h('td', {}, r.reason || ''))))) : h('p', { class: 'muted' }, 'Not started yet.'),
      t.budget != null ? h('p', { class: 'hint', id: 'task-budget' }, `Budget ${money(t.budget)}: ${money(c ?? 0) || '$0.00'} spent.`) : null);
  }

  /** Merges through the confirm sheet; a conflict shows on the Changes tab. */
  async function merge(button) {
    try {
      const out = await mergeSheet(task, lastWord);
      if (!out) return button?.focus();
      notify(`Merged: ${out.task.status_reason || 'done'}.`);
      if (adopt(out.task)) renderTask();
    } catch (e) {
      notify(e.message, 'error');
      if (e.status === 409) { showTab('changes'); review.load(); }
    }
  }

  /** Discards the task; when that would lose work, asks first (`yes`: asked). */
  async function discard(button, yes = false) {
    if (!yes) {
      const loss = await act(button, () => api(`/api/tasks/${id}/loss`));
      if (loss === undefined) return;
      if (loss.summary) { losing = loss.summary; return renderTask(); }
    }
    const out = await act(button, () => api(`/api/tasks/${id}/discard`, { method: 'POST', body: { yes } }), 'Discarded.');
    if (out === undefined) return;
    losing = null;
    adopt(out.task);
    renderTask();
  }

  async function loadTask() {
    try {
      if (adopt(await api(`/api/tasks/${id}`))) renderTask();
    } catch (e) {
      fill(header, h('h1', {}, `T-${id}`), h('p', { class: 'reason' }, e.message));
    }
  }

  let asksRead = 0;
  async function loadAsks() {
    const n = ++asksRead;
    try {
      const mine = await api(`/api/approvals?task=${id}`);
      if (n !== asksRead) return; // a later read is on its way (or came back first)
      asks.hidden = mine.length === 0;
      morph(asks.querySelector('ul'), ...mine.map((a) => askItem(a, loadAsks, { showTask: false })));
    } catch (e) { notify(e.message, 'error'); }
  }

  const off = onTask((t) => {
    if (t && t.id !== id) return;
    // A resync: read again (once the task is known; until then `open` is reading it).
    if (!t) { if (task) { loadTask(); loadAsks(); } return; }
    const was = task?.status;
    if (!adopt(t)) return;
    renderTask();
    if (was !== t.status) {
      loadAsks();
      // A run ended (or a merge): the change may be new, and so may its deliverables.
      if (reviewLoaded && !ACTIVE.includes(t.status)) review.load();
      if (!ACTIVE.includes(t.status)) delivered.load();
    }
  });

  // ---- timeline ----
  let first = 0; // lowest seq shown
  let last = 0; // highest seq received
  let pending = [];
  let frame = 0;
  let stream = null;
  let trimmed = false; // whether the user paged back (then we stop trimming the top)

  const page = (after, limit) => api(`/api/tasks/${id}/events?after=${after}&limit=${limit}`);

  /** A page-sized request's reach: the newest events are fetched once the last seq is known to this width. */
  const REACH = 10000 - CAP;
  /** Probes sent at once (the browser allows six connections; two are event streams). */
  const FAN = 4;

  /**
   * The newest CAP events of a task known to have more than `known` events. The log has
   * no gaps, so "is there an event after x" brackets the last seq; parallel probes
   * (gallop by powers of four, then split the bracket in FAN + 1) keep it to a few
   * round trips whatever the size.
   */
  async function newest(known) {
    const exists = async (x) => (await page(x, 1)).length > 0;
    let lo = known; // some event is after lo
    let hi = null; // none is after hi
    while (hi === null || hi - lo > REACH) {
      const xs = Array.from({ length: FAN }, (_, k) => (hi === null ? lo * 4 ** (k + 1) : lo + Math.ceil(((hi - lo) * (k + 1)) / (FAN + 1))));
      const got = await Promise.all(xs.map(exists));
      const miss = got.indexOf(false);
      if (miss < 0) lo = xs[FAN - 1];
      else { hi = xs[miss]; if (miss > 0) lo = xs[miss - 1]; }
    }
    const from = Math.max(0, lo + 1 - CAP);
    return (await page(from, hi - from)).slice(-CAP);
  }

  function flush() {
    frame = 0;
    if (closed || !pending.length) return;
    const batch = pending.length > CAP ? pending.slice(-CAP) : pending;
    pending = [];
    const frag = document.createDocumentFragment();
    for (const ev of batch) frag.append(eventItem(ev));
    if (!timeline.childElementCount) first = batch[0].seq;
    timeline.append(frag);
    if (!trimmed) {
      let extra = timeline.childElementCount - CAP;
      while (extra-- > 0) timeline.firstElementChild.remove();
      first = Number(timeline.firstElementChild.dataset.seq);
    }
    earlier.hidden = first <= 1;
    if (follow.querySelector('input').checked) timeline.lastElementChild?.scrollIntoView({ block: 'end' });
  }

  function receive(ev) {
    if (ev.seq <= last) return;
    last = ev.seq;
    pending.push(ev);
    if (ev.type === 'approval_request' || ev.type === 'approval') loadAsks();
    if (ev.type === 'message' && ev.role !== 'user' && ev.source === 'agent') lastWord = ev.text;
    if (ev.type === 'status' && (ev.status === 'conflicted' || UNCONFLICTED.includes(ev.status))) {
      conflicts = ev.status === 'conflicted' ? ev.message?.match(/conflicts in: (.*?); /)?.[1] || ev.message : null;
      if (task) renderTask();
    }
    if (!frame) frame = requestAnimationFrame(flush);
  }

  async function showEarlier(e) {
    if (first <= 1) return;
    const from = Math.max(0, first - 1 - PAGE);
    const got = await act(e.currentTarget, () => page(from, first - 1 - from));
    if (!got || !got.length) return;
    trimmed = true;
    const frag = document.createDocumentFragment();
    for (const ev of got) frag.append(eventItem(ev));
    const anchor = timeline.firstElementChild;
    timeline.prepend(frag);
    anchor?.scrollIntoView({ block: 'start' });
    first = got[0].seq;
    earlier.hidden = first <= 1;
  }

  async function startTimeline() {
    try {
      let evs = await page(0, CAP);
      if (evs.length === CAP) evs = await newest(evs[CAP - 1].seq - 1);
      for (const ev of evs) receive(ev);
      if (evs.length) first = evs[0].seq;
    } catch (e) {
      notify(e.message, 'error');
    }
    if (closed) return;
    stream = new EventSource(`/api/tasks/${id}/events?after=${last}`);
    const onEvent = (m) => receive(JSON.parse(m.data));
    for (const type of EVENT_TYPES) stream.addEventListener(type, onEvent);
  }

  /** The page once the task is known: an unknown id gets the not-found page instead. */
  async function open() {
    let t = null;
    let error = null;
    try { t = await api(`/api/tasks/${id}`); } catch (e) { error = e; }
    if (closed) return;
    if (error?.status === 404) return notFound(root, `There is no task T-${id}.`);
    fill(root, header, asks, summaryBox, delivered.el, tabs, changesPanel, timelinePanel, say, sayNote, reply, runs);
    // Diff first for a task whose work is done; the timeline while it works.
    showTab(t && !ACTIVE.includes(t.status) && t.status !== 'discarded' && (t.branch || t.worktree) ? 'changes' : 'timeline');
    if (t) { if (adopt(t)) renderTask(); } else fill(header, h('h1', {}, `T-${id}`), h('p', { class: 'reason' }, error.message));
    // From the board's shortcuts: m (merge) and r (reply).
    const asked = new URLSearchParams(location.search);
    if (asked.size) history.replaceState(null, '', location.pathname); // once, not again on a reload
    if (asked.get('merge') && t?.status === 'review') merge(null);
    else if (asked.get('reply')) (t?.status === 'review' ? document.getElementById('review-note') : replyText)?.focus();
    loadAsks();
    if (t && !ACTIVE.includes(t.status)) delivered.load();
    startTimeline();
  }

  fill(root, h('p', {}, 'Loading…'));
  open();
  return () => {
    closed = true;
    off();
    stream?.close();
    if (frame) cancelAnimationFrame(frame);
  };
}
