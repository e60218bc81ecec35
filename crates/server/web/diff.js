// One file's unified diff as a table: line numbers on both sides, syntax highlighting
// by the vendored highlight.js (vendor/, BSD-3-Clause), unified (wrapping, for phones)
// or split (side by side, for wide screens). Each line of the branch's version has a
// line-number button, which the review page turns into a comment on that line.
import hljs from './vendor/highlight.min.js';
import { h } from './api.js';

/** Parses a `git diff` of one file into hunks of lines ({kind: add|del|ctx, old, new, text}). */
export function parseDiff(text) {
  const hunks = [];
  let hunk = null;
  let oldNo = 0;
  let newNo = 0;
  const binary = /^Binary files /m.test(text);
  for (const line of text.split('\n')) {
    const m = line.match(/^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/);
    if (m) {
      oldNo = Number(m[1]);
      newNo = Number(m[2]);
      hunk = { header: line, context: m[3].trim(), lines: [] };
      hunks.push(hunk);
    } else if (!hunk || line.startsWith('\\')) {
      continue; // the file header, or "\ No newline at end of file"
    } else if (line.startsWith('+')) {
      hunk.lines.push({ kind: 'add', old: null, new: newNo++, text: line.slice(1) });
    } else if (line.startsWith('-')) {
      hunk.lines.push({ kind: 'del', old: oldNo++, new: null, text: line.slice(1) });
    } else if (line.startsWith(' ')) {
      hunk.lines.push({ kind: 'ctx', old: oldNo++, new: newNo++, text: line.slice(1) });
    }
  }
  return { hunks, binary };
}

/** The highlight.js language for a path (by extension or name), or null for plain text. */
export function languageFor(path) {
  const name = path.split('/').pop().toLowerCase();
  const byName = { makefile: 'makefile', dockerfile: 'bash', 'cargo.lock': 'ini', 'cmakelists.txt': 'cmake' };
  if (byName[name]) return hljs.getLanguage(byName[name]) ? byName[name] : null;
  const ext = name.includes('.') ? name.split('.').pop() : '';
  return ext && hljs.getLanguage(ext) ? ext : null;
}

/** Text made safe to put in HTML. */
function esc(text) {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);
}

/** A line's code as HTML: highlighted (highlight.js escapes what it is given) or escaped. */
function code(text, language) {
  return language && text ? hljs.highlight(text, { language, ignoreIllegals: true }).value : esc(text);
}

const SIGN = { add: '+', del: '−', ctx: ' ' };
const SAID = { add: 'added', del: 'removed', ctx: 'unchanged' };

/** Rows of the first paint; the rest follow in chunks, a frame each, so a long diff opens at once. */
const FIRST = 300;
const CHUNK = 1000;

/**
 * The table of a parsed diff, `split` side by side or unified. Rows carry data-new (the
 * line in the branch's version); `comments: false` leaves out the line-number buttons.
 * Rows are written as escaped HTML (thousands of lines: the DOM builder is too slow);
 * `table.ready` resolves once every row is in.
 */
export function diffTable(path, parsed, split, { comments = true } = {}) {
  const language = languageFor(path);
  const cols = split ? 4 : 3;
  const where = esc(path);
  const num = (l) => l.new === null ? '<td class="ln"></td>'
    : comments ? `<td class="ln"><button type="button" class="ln-button" data-line="${l.new}" aria-label="Comment on ${where} line ${l.new}">${l.new}</button></td>`
    : `<td class="ln">${l.new}</td>`;
  const text = (l) => `<td class="code ${l.kind}"><span class="sign" aria-hidden="true">${SIGN[l.kind]}</span><span class="visually-hidden">${SAID[l.kind]}: </span><code>${code(l.text, language)}</code></td>`;
  const rows = [];
  for (const hunk of parsed.hunks) {
    rows.push(`<tr class="hunk"><td colspan="${cols}">${esc(hunk.header)}</td></tr>`);
    if (!split) {
      for (const l of hunk.lines) {
        rows.push(() => `<tr class="dl ${l.kind}"${l.new !== null ? ` data-new="${l.new}"` : ''}><td class="ln old">${l.old ?? ''}</td>${num(l)}${text(l)}</tr>`);
      }
      continue;
    }
    // Side by side: a run of removed lines faces the added lines that follow it.
    const ls = hunk.lines;
    for (let i = 0; i < ls.length;) {
      if (ls[i].kind === 'ctx') {
        const l = ls[i++];
        rows.push(() => `<tr class="dl ctx" data-new="${l.new}"><td class="ln old">${l.old}</td>${text(l)}${num(l)}${text(l)}</tr>`);
        continue;
      }
      const dels = [];
      const adds = [];
      while (i < ls.length && ls[i].kind === 'del') dels.push(ls[i++]);
      while (i < ls.length && ls[i].kind === 'add') adds.push(ls[i++]);
      for (let k = 0; k < Math.max(dels.length, adds.length); k++) {
        const d = dels[k];
        const a = adds[k];
        rows.push(() => `<tr class="dl pair"${a ? ` data-new="${a.new}"` : ''}><td class="ln old">${d ? d.old : ''}</td>${d ? text(d) : '<td class="code empty"></td>'}${a ? num(a) : '<td class="ln"></td>'}${a ? text(a) : '<td class="code empty"></td>'}</tr>`);
      }
    }
  }
  const colgroup = split
    ? h('colgroup', {}, h('col', { class: 'c-ln' }), h('col', {}), h('col', { class: 'c-ln' }), h('col', {}))
    : h('colgroup', {}, h('col', { class: 'c-ln' }), h('col', { class: 'c-ln' }), h('col', {}));
  const table = h('table', { class: `diff-table ${split ? 'split' : 'unified'}`, dataset: { cols } }, h('caption', { class: 'visually-hidden' }, `Changes to ${path}`), colgroup);
  const chunk = (from, to) => {
    const body = document.createElement('tbody');
    body.innerHTML = rows.slice(from, to).map((r) => (typeof r === 'function' ? r() : r)).join('');
    table.append(body);
  };
  chunk(0, FIRST);
  table.ready = new Promise((resolve) => {
    let at = FIRST;
    const next = () => {
      if (at >= rows.length) return resolve(table);
      chunk(at, at + CHUNK);
      at += CHUNK;
      requestAnimationFrame(next);
    };
    requestAnimationFrame(next);
  });
  return table;
}

/** The text of the branch's version of lines `from`..`to` of a parsed diff (for quoting). */
export function linesOf(parsed, from, to) {
  const out = [];
  for (const hunk of parsed.hunks) for (const l of hunk.lines) if (l.new !== null && l.new >= from && l.new <= to) out.push(l.text);
  return out.join('\n');
}
