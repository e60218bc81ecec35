// The task page's Changes tab, diff first: the files list with +/− counts and a
// "viewed" tick each (kept in this browser), each file's diff (collapsed when large,
// generated, binary or viewed), line comments sent with an overall note as one reply
// ("Request changes"), what conflicts with the base and the ways forward (Rebase, ask
// the agent to resolve, resolve by hand). Everything through the public API.
import { api, h, act, fill, notify } from './api.js';
import { parseDiff, diffTable, linesOf } from './diff.js';

/** Changed lines above which a file starts collapsed. */
const LARGE = 400;
/** Files whose diffs load at once; the rest wait to be opened. */
const AUTO = 30;
/** Wide enough for side by side. */
const WIDE = window.matchMedia('(min-width: 1000px)');

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "+3 −1" (binary: "binary"), with the words for screen readers. */
export function stat(f) {
  if (f.binary) return h('span', { class: 'stat' }, 'binary');
  if (f.additions == null) return null;
  return h('span', { class: 'stat' }, h('span', { class: 'plus' }, `+${f.additions}`), ' ',
    h('span', { class: 'minus' }, `−${f.deletions}`));
}

/**
 * The Changes tab of task `id`. `ctx` gives the page's task (`task()`) and what to do
 * with a task an action answered (`adopt(t)`). Returns {el, load}.
 */
export function reviewPanel(id, ctx) {
  const el = h('div', { class: 'review' });
  let files = null; // the last FilesBody
  const parsed = new Map(); // path -> parsed diff
  const comments = []; // {file, line, end_line, quote, text}
  // Side by side is asked for once and kept; it shows only while the screen is wide.
  let wantSplit = localStorage.getItem('bosun.diff') === 'split';
  const split = () => wantSplit && WIDE.matches;
  let anchor = null; // {file, line}: the first line of a range being chosen (shift+click ends it)
  const viewedKey = (f) => `bosun.viewed.${id}.${f.path}`;
  const signature = (f) => `${f.additions}/${f.deletions}`;
  const isViewed = (f) => localStorage.getItem(viewedKey(f)) === signature(f);

  const note = h('textarea', { id: 'review-note', rows: 3, placeholder: 'An overall note for the agent (optional with line comments)…' });
  const pendingList = h('ul', { class: 'pending-comments', 'aria-label': 'Comments to send' });
  const sendButton = h('button', { type: 'submit', class: 'button primary' }, 'Request changes');
  const reviewForm = h('form', { class: 'say review-form', 'aria-labelledby': 'review-h', onsubmit: requestChanges },
    h('h3', { id: 'review-h' }, 'Request changes'), pendingList,
    h('label', { for: 'review-note' }, 'Overall note'), note,
    h('p', { class: 'hint' }, 'Sent as one reply: the same agent continues with your note and each comment quoted with its file and line.'),
    h('div', { class: 'actions' }, sendButton));
  const conflictBox = h('section', { class: 'conflicts', 'aria-labelledby': 'conflicts-h', hidden: true });
  const summary = h('p', { class: 'files-summary muted' });
  const layout = h('button', { type: 'button', class: 'button', 'aria-pressed': String(wantSplit), hidden: !WIDE.matches,
    onclick: () => { wantSplit = !wantSplit; localStorage.setItem('bosun.diff', wantSplit ? 'split' : 'unified'); layout.setAttribute('aria-pressed', String(wantSplit)); renderFiles(); } }, 'Side by side');
  WIDE.addEventListener('change', () => { layout.hidden = !WIDE.matches; if (wantSplit) renderFiles(); });
  const nav = h('nav', { 'aria-label': 'Changed files' });
  const list = h('div', { class: 'diff-files' });
  fill(el, conflictBox, h('div', { class: 'files-head' }, summary, layout), nav, list, reviewForm);

  async function load() {
    try {
      files = await api(`/api/tasks/${id}/files`);
    } catch (e) {
      fill(summary, e.message);
      fill(nav);
      fill(list);
      conflictBox.hidden = true;
      return;
    }
    renderConflicts();
    renderFiles();
  }

  function renderFiles() {
    const f = files;
    if (!f) return;
    const t = ctx.task();
    fill(summary, f.branch ? `${f.branch} against ${f.base} · ` : 'Deliverables against the run before · ', plural(f.files.length, 'file'),
      f.branch ? [' · ', h('span', { class: 'plus' }, `+${f.additions}`), ' ', h('span', { class: 'minus' }, `−${f.deletions}`)] : '',
      f.uncommitted.length ? h('span', { class: 'reason' }, ` · uncommitted: ${f.uncommitted.join(', ')}`) : '');
    const sections = f.files.map((file, i) => fileSection(file, i));
    fill(nav, h('ol', { class: 'file-nav' }, f.files.map((file, i) => h('li', { dataset: { path: file.path } },
      h('button', { type: 'button', class: 'link', onclick: () => { const s = sections[i]; expand(s, file, true); s.scrollIntoView({ block: 'start' }); s.querySelector('.file-toggle').focus(); } }, file.path),
      ' ', stat(file), isViewed(file) ? h('span', { class: 'viewed-mark' }, ' ✓ viewed') : null))));
    fill(list, sections);
    reviewForm.hidden = !f.branch || t?.status !== 'review';
    renderPending();
  }

  function fileSection(file, i) {
    const large = (file.additions ?? 0) + (file.deletions ?? 0) > LARGE;
    const why = file.binary ? 'binary file' : file.generated ? 'generated file' : large ? 'large diff' : isViewed(file) ? 'viewed' : i >= AUTO ? 'many files' : null;
    const body = h('div', { class: 'file-body', id: `file-body-${i}` });
    const toggle = h('button', { type: 'button', class: 'file-toggle link', 'aria-expanded': 'false', 'aria-controls': `file-body-${i}`,
      onclick: () => expand(section, file, toggle.getAttribute('aria-expanded') !== 'true') }, h('code', {}, file.path));
    const viewed = h('input', { type: 'checkbox', checked: isViewed(file), onchange: () => {
      if (viewed.checked) localStorage.setItem(viewedKey(file), signature(file)); else localStorage.removeItem(viewedKey(file));
      expand(section, file, !viewed.checked);
      const mark = nav.querySelector(`li[data-path="${CSS.escape(file.path)}"] .viewed-mark`);
      if (viewed.checked && !mark) nav.querySelector(`li[data-path="${CSS.escape(file.path)}"]`)?.append(h('span', { class: 'viewed-mark' }, ' ✓ viewed'));
      if (!viewed.checked) mark?.remove();
    } });
    const section = h('section', { class: 'file', id: `file-${i}`, dataset: { path: file.path } },
      h('div', { class: 'file-head' }, h('h3', {}, toggle), stat(file), why && why !== 'viewed' ? h('span', { class: 'muted' }, `(${why})`) : null,
        h('label', { class: 'viewed' }, viewed, ' Viewed')), body);
    section.bosunWhy = why;
    if (!why && f_branch()) expand(section, file, true);
    else if (why) fill(body, h('p', { class: 'muted' }, file.binary ? 'A binary file: no text to show.' : `Collapsed (${why}). `,
      file.binary || !f_branch() ? '' : h('button', { type: 'button', class: 'link', onclick: () => expand(section, file, true) }, 'Show the diff')));
    return section;
  }

  const f_branch = () => !!files?.branch;

  async function expand(section, file, open) {
    const toggle = section.querySelector('.file-toggle');
    const body = section.querySelector('.file-body');
    toggle.setAttribute('aria-expanded', String(open));
    body.hidden = !open;
    if (!open || file.binary || !f_branch() || body.querySelector('table')) return;
    fill(body, h('p', { class: 'muted' }, 'Loading…'));
    let d = parsed.get(file.path);
    if (!d) {
      try {
        const got = await api(`/api/tasks/${id}/files/diff?path=${encodeURIComponent(file.path)}`);
        d = parseDiff(got.diff);
        d.truncated = got.truncated;
        parsed.set(file.path, d);
      } catch (e) {
        return fill(body, h('p', { class: 'reason' }, e.message));
      }
    }
    const table = diffTable(file.path, d, split());
    table.addEventListener('click', (e) => onLine(e, file, table));
    fill(body, table, d.truncated ? h('p', { class: 'reason' }, 'The diff is cut short here (over 4 MiB).') : null);
    await table.ready;
    for (const c of comments.filter((x) => x.file === file.path)) showComment(table, c);
  }

  // ---- line comments ----
  function onLine(e, file, table) {
    const b = e.target.closest('button.ln-button');
    if (!b) return;
    const line = Number(b.dataset.line);
    let from = line;
    let to = line;
    if (e.shiftKey && anchor?.file === file.path) { from = Math.min(anchor.line, line); to = Math.max(anchor.line, line); anchor = null; }
    else anchor = { file: file.path, line };
    table.querySelector('tr.comment-form')?.remove();
    for (const r of table.querySelectorAll('tr.selected')) r.classList.remove('selected');
    for (const r of table.querySelectorAll('tr[data-new]')) if (Number(r.dataset.new) >= from && Number(r.dataset.new) <= to) r.classList.add('selected');
    const where = from === to ? `line ${from}` : `lines ${from}–${to}`;
    const text = h('textarea', { rows: 3, 'aria-label': `Comment on ${file.path} ${where}`, placeholder: `Comment on ${where}… (shift+click another line number for a range)` });
    const close = () => { row.remove(); for (const r of table.querySelectorAll('tr.selected')) r.classList.remove('selected'); b.focus(); };
    const add = h('button', { type: 'button', class: 'button primary', onclick: () => {
      if (!text.value.trim()) return text.focus();
      const c = { file: file.path, line: from, end_line: to !== from ? to : undefined, quote: linesOf(parsed.get(file.path), from, to), text: text.value.trim() };
      comments.push(c);
      close();
      showComment(table, c);
      renderPending();
    } }, 'Add comment');
    const row = h('tr', { class: 'comment-form' }, h('td', { colspan: table.dataset.cols },
      text, h('div', { class: 'actions' }, add, h('button', { type: 'button', class: 'button', onclick: close }, 'Cancel'))));
    text.addEventListener('keydown', (k) => { if (k.key === 'Escape') close(); });
    rowAfter(table, to).after(row);
    text.focus();
  }

  function rowAfter(table, line) {
    const rows = [...table.querySelectorAll('tr[data-new]')].filter((r) => Number(r.dataset.new) <= line);
    let row = rows[rows.length - 1] || table.querySelector('tbody tr');
    while (row.nextElementSibling?.classList.contains('comment')) row = row.nextElementSibling;
    return row;
  }

  function showComment(table, c) {
    const where = c.end_line ? `Lines ${c.line}–${c.end_line}` : `Line ${c.line}`;
    rowAfter(table, c.end_line ?? c.line).after(h('tr', { class: 'comment' }, h('td', { colspan: table.dataset.cols },
      h('p', {}, h('strong', {}, `${where}: `), c.text),
      h('button', { type: 'button', class: 'link', 'aria-label': `Remove the comment on ${c.file} ${where.toLowerCase()}`, onclick: (e) => {
        comments.splice(comments.indexOf(c), 1);
        e.currentTarget.closest('tr').remove();
        renderPending();
      } }, 'Remove'))));
  }

  function renderPending() {
    fill(pendingList, comments.map((c) => h('li', {}, h('code', {}, c.end_line ? `${c.file}:${c.line}-${c.end_line}` : `${c.file}:${c.line}`), ' ', c.text)));
    pendingList.hidden = !comments.length;
    fill(sendButton, comments.length ? `Request changes (${plural(comments.length, 'comment')})` : 'Request changes');
  }

  async function requestChanges(e) {
    e.preventDefault();
    if (!comments.length && !note.value.trim()) return notify('Write a note or comment on a line first.', 'error');
    const body = { text: note.value.trim(), comments: comments.map(({ file, line, end_line, quote, text }) => ({ file, line, end_line, quote, text })) };
    const t = await act(sendButton, () => api(`/api/tasks/${id}/reply`, { method: 'POST', body }), 'Changes requested: the agent continues.');
    if (!t) return;
    comments.length = 0;
    note.value = '';
    ctx.adopt(t);
    renderFiles();
  }

  // ---- conflicts ----
  function renderConflicts() {
    const f = files;
    const t = ctx.task();
    const mid = f.unfinished;
    const names = mid ? f.unmerged : f.conflicts;
    conflictBox.hidden = !(mid || (f.conflicts.length && t?.status === 'review'));
    if (conflictBox.hidden) return fill(conflictBox);
    const wt = f.worktree;
    const resolveText = h('textarea', { id: 'resolve-text', rows: 2, placeholder: 'Anything the agent should know (optional)…' });
    fill(conflictBox, h('h2', { id: 'conflicts-h' }, mid ? 'Conflicts in the worktree' : `Conflicts with ${f.base}`),
      h('p', {}, mid ? `The worktree is ${mid}.` : `Merging into ${f.base} now would conflict in:`),
      h('ul', { class: 'conflict-files' }, names.map((n) => h('li', {}, h('code', {}, n), bothSides(n)))),
      mid ? null : h('p', { class: 'hint' }, `Rebase replays the branch on ${f.base} and stops on the conflicts, leaving them in the worktree (both sides marked in each file).`),
      h('div', { class: 'actions' },
        mid ? null : h('button', { type: 'button', class: 'button', onclick: (e) => rebase(e.currentTarget) }, 'Rebase'),
        h('button', { type: 'button', class: 'button primary', onclick: (e) => askToResolve(e.currentTarget, resolveText.value) }, 'Ask the agent to resolve')),
      h('label', { for: 'resolve-text' }, 'Note for the agent'), resolveText,
      wt ? h('details', { class: 'by-hand' }, h('summary', {}, 'Resolve by hand'),
        h('p', {}, 'In a terminal, in the task\'s worktree:'),
        h('p', {}, h('code', { class: 'cmd', id: 'worktree-path' }, wt), ' ', h('button', { type: 'button', class: 'button', onclick: () => copy(wt) }, 'Copy path')),
        h('p', { class: 'hint' }, mid ? 'Fix the files, `git add` them and run `git rebase --continue` there; the page updates when you come back.'
          : `Run \`git rebase ${f.base}\` there, fix the files, \`git add\` them and \`git rebase --continue\`.`)) : null);
  }

  /** What each side did to a conflicting file: the base since the fork, and the branch. */
  function bothSides(path) {
    const box = h('div', { class: 'sides' });
    const d = h('details', { class: 'both-sides', ontoggle: async () => {
      if (!d.open || box.childElementCount) return;
      const side = async (which, title) => {
        try {
          const got = await api(`/api/tasks/${id}/files/diff?path=${encodeURIComponent(path)}&side=${which}`);
          return [h('h3', {}, title), diffTable(path, parseDiff(got.diff), false, { comments: false })];
        } catch (e) {
          return [h('h3', {}, title), h('p', { class: 'muted' }, e.message)];
        }
      };
      fill(box, ...(await side('base', `On ${files.base}`)), ...(await side('branch', 'On the branch')));
    } }, h('summary', {}, 'Both sides'), box);
    return d;
  }

  async function copy(text) {
    try { await navigator.clipboard.writeText(text); notify('Copied.'); } catch { notify('Select the path and copy it.', 'error'); }
  }

  /** Rebases; a conflict leaves the worktree mid-rebase (true), which the page then shows. */
  async function rebase(button) {
    try {
      button.disabled = true;
      await api(`/api/tasks/${id}/rebase`, { method: 'POST' });
      notify('Rebased.');
      return false;
    } catch (e) {
      if (e.status !== 409) { notify(e.message, 'error'); return null; }
      notify(e.message);
      return true;
    } finally {
      button.disabled = false;
      await load();
    }
  }

  async function askToResolve(button, extra) {
    if (!files.unfinished) {
      const conflicted = await rebase(button);
      if (!conflicted) return; // rebased cleanly (nothing left to resolve) or failed
    }
    const text = `Resolve the conflicts in: ${(files.unmerged.length ? files.unmerged : files.conflicts).join(', ')}.${extra.trim() ? `\n\n${extra.trim()}` : ''}`;
    const t = await act(button, () => api(`/api/tasks/${id}/reply`, { method: 'POST', body: { text, resolve: true } }), 'The agent is resolving the conflicts.');
    if (t) { ctx.adopt(t); await load(); }
  }

  return { el, load, comments: () => comments.length, files: () => files };
}
