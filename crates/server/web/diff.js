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

/** A cell's code: highlighted (highlight.js escapes the text it is given) or plain text. */
function code(text, language) {
  const el = h('code', {});
  if (language && text) el.innerHTML = hljs.highlight(text, { language, ignoreIllegals: true }).value;
  else el.textContent = text;
  return el;
}

const SIGN = { add: '+', del: '−', ctx: ' ' };
const SAID = { add: 'added', del: 'removed', ctx: 'unchanged' };

/** The line-number cell of the branch's side: a button that starts a comment there
 *  (plain text when the table takes no comments). */
function newNumber(path, line, comments = true) {
  if (line.new === null) return h('td', { class: 'ln' });
  if (!comments) return h('td', { class: 'ln' }, String(line.new));
  return h('td', { class: 'ln' }, h('button', { type: 'button', class: 'ln-button', dataset: { line: line.new },
    'aria-label': `Comment on ${path} line ${line.new}` }, String(line.new)));
}

/** The text cell of a line, its kind said in words (not by colour alone) to screen readers. */
function textCell(line, language) {
  return h('td', { class: `code ${line.kind}` }, h('span', { class: 'sign', 'aria-hidden': 'true' }, SIGN[line.kind]),
    h('span', { class: 'visually-hidden' }, `${SAID[line.kind]}: `), code(line.text, language));
}

/** The table of a parsed diff, `split` side by side or unified. Rows carry data-new (the line in the branch's version). */
export function diffTable(path, parsed, split, { comments = true } = {}) {
  const language = languageFor(path);
  const number = (p, l) => newNumber(p, l, comments);
  const cols = split ? 4 : 3;
  const body = h('tbody', {});
  const frag = document.createDocumentFragment();
  for (const hunk of parsed.hunks) {
    frag.append(h('tr', { class: 'hunk' }, h('td', { colspan: cols }, hunk.header)));
    if (!split) {
      for (const line of hunk.lines) {
        frag.append(h('tr', { class: `dl ${line.kind}`, dataset: line.new !== null ? { new: line.new } : {} },
          h('td', { class: 'ln old' }, line.old ?? ''), number(path, line), textCell(line, language)));
      }
      continue;
    }
    // Side by side: a run of removed lines faces the added lines that follow it.
    const ls = hunk.lines;
    for (let i = 0; i < ls.length;) {
      if (ls[i].kind === 'ctx') {
        const l = ls[i++];
        frag.append(h('tr', { class: 'dl ctx', dataset: { new: l.new } },
          h('td', { class: 'ln old' }, l.old), textCell(l, language), number(path, l), textCell(l, language)));
        continue;
      }
      const dels = [];
      const adds = [];
      while (i < ls.length && ls[i].kind === 'del') dels.push(ls[i++]);
      while (i < ls.length && ls[i].kind === 'add') adds.push(ls[i++]);
      for (let k = 0; k < Math.max(dels.length, adds.length); k++) {
        const d = dels[k];
        const a = adds[k];
        frag.append(h('tr', { class: 'dl pair', dataset: a ? { new: a.new } : {} },
          h('td', { class: 'ln old' }, d ? d.old : ''), d ? textCell(d, language) : h('td', { class: 'code empty' }),
          a ? number(path, a) : h('td', { class: 'ln' }), a ? textCell(a, language) : h('td', { class: 'code empty' })));
      }
    }
  }
  body.append(frag);
  const colgroup = split
    ? h('colgroup', {}, h('col', { class: 'c-ln' }), h('col', {}), h('col', { class: 'c-ln' }), h('col', {}))
    : h('colgroup', {}, h('col', { class: 'c-ln' }), h('col', { class: 'c-ln' }), h('col', {}));
  return h('table', { class: `diff-table ${split ? 'split' : 'unified'}`, dataset: { cols } }, h('caption', { class: 'visually-hidden' }, `Changes to ${path}`), colgroup, body);
}

/** The text of the branch's version of lines `from`..`to` of a parsed diff (for quoting). */
export function linesOf(parsed, from, to) {
  const out = [];
  for (const hunk of parsed.hunks) for (const l of hunk.lines) if (l.new !== null && l.new >= from && l.new <= to) out.push(l.text);
  return out.join('\n');
}
