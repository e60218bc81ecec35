// The task page's Deliverables: the files the task's runs handed over (each path's
// latest delivery), each shown for what it is — Markdown rendered by the vendored
// marked and then sanitized by DOMPurify (agent output is hostile: no script, no
// handlers, no forms survive), raster images, CSV as a table, other text as text —
// with a download link; and Accept, which copies them into a folder on the daemon's
// machine and closes the task. Everything through the public API.
import { api, h, act, fill, notify } from './api.js';
import { marked } from './vendor/marked.esm.js';
import DOMPurify from './vendor/purify.es.mjs';

/** Largest text shown inline (bytes); larger files are offered as downloads. */
const SHOW_MAX = 512 * 1024;
/** CSV rows shown (the download has them all). */
const CSV_ROWS = 200;
const IMAGES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
const TEXT = ['text/plain', 'text/csv', 'text/tab-separated-values', 'application/json', 'application/yaml'];

/** Bytes for people: 812 B, 1.2 KiB, 3.4 MiB. */
function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** The content URL of a deliverable (its path as one segment). */
export function contentUrl(id, d, download = false) {
  return `/api/tasks/${id}/deliverables/${encodeURIComponent(d.path)}?run=${d.run_id}${download ? '&download=true' : ''}`;
}

/** Markdown as sanitized HTML in a container (links open apart, no referrer); an
 *  image named relative to the workspace (`chart.png`) is that deliverable, via `src(path)`. */
export function markdown(text, src = null) {
  const div = h('div', { class: 'markdown' });
  const html = DOMPurify.sanitize(marked.parse(text, { async: false, gfm: true }),
    { FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe'], FORBID_ATTR: ['style'] });
  div.innerHTML = html; // sanitized just above
  for (const a of div.querySelectorAll('a[href]')) { a.rel = 'noopener noreferrer'; a.target = '_blank'; }
  for (const img of div.querySelectorAll('img[src]')) {
    const rel = img.getAttribute('src');
    if (!img.hasAttribute('alt')) img.alt = rel; // the agent's Markdown may say nothing
    if (src && !/^([a-z][a-z0-9+.-]*:|\/)/i.test(rel)) img.src = src(rel.replace(/^\.\//, ''));
  }
  // Wide tables scroll inside their box, never the page.
  for (const t of div.querySelectorAll('table')) t.replaceWith(h('div', { class: 'table-wrap', tabindex: 0 }, t.cloneNode(true)));
  return div;
}

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into rows of fields. */
function parseCsv(text, sep = ',') {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === sep) { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
      if (rows.length > CSV_ROWS) break;
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

function csvTable(text, sep) {
  const [head = [], ...body] = parseCsv(text, sep);
  const more = body.length > CSV_ROWS;
  return h('div', { class: 'table-wrap', tabindex: 0 }, h('table', { class: 'csv' },
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, body.slice(0, CSV_ROWS).map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))),
  more ? h('p', { class: 'muted' }, `First ${CSV_ROWS} rows; download it for the rest.`) : null);
}

/** The deliverable shown for what it is (or a note when it is only downloaded). */
async function preview(id, d) {
  const url = contentUrl(id, d);
  if (IMAGES.includes(d.mime)) return h('img', { src: url, alt: d.description || d.path, loading: 'lazy', class: 'deliverable-img' });
  const text = d.mime === 'text/markdown' || d.mime.startsWith('text/') && d.mime !== 'text/html' || TEXT.includes(d.mime);
  if (!text) return h('p', { class: 'muted' }, 'Not shown here: download it to open it.');
  if (d.size > SHOW_MAX) return h('p', { class: 'muted' }, `Too large to show here (${size(d.size)}): download it.`);
  const res = await fetch(url, { headers: { Accept: 'text/plain' } });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try { message = (await res.json()).error.message; } catch { /* not JSON */ }
    return h('p', { class: 'reason' }, message);
  }
  const body = await res.text();
  if (d.mime === 'text/markdown') return markdown(body, (path) => `/api/tasks/${id}/deliverables/${encodeURIComponent(path)}`);
  if (d.mime === 'text/csv') return csvTable(body, ',');
  if (d.mime === 'text/tab-separated-values') return csvTable(body, '\t');
  return h('pre', { class: 'output' }, body);
}

/**
 * The Deliverables section of task `id`. `ctx` gives the page's task (`task()`) and
 * what to do with a task an action answered (`adopt(t)`). Returns {el, load, focusAccept}.
 */
export function deliverablesPanel(id, ctx) {
  const list = h('ul', { class: 'deliverables', 'aria-label': 'Deliverables' });
  const dest = h('input', { id: 'accept-to', name: 'to', type: 'text', autocomplete: 'off', spellcheck: 'false',
    placeholder: '/home/you/Documents/analyses (optional)' });
  const force = h('input', { id: 'accept-force', type: 'checkbox' });
  const acceptForm = h('form', { class: 'accept say', 'aria-labelledby': 'accept-h', onsubmit: accept },
    h('h3', { id: 'accept-h' }, 'Accept'),
    h('label', { for: 'accept-to' }, 'Copy them to (a folder on the daemon\'s machine)'), dest,
    h('label', { class: 'check' }, force, ' Overwrite files already there'),
    h('p', { class: 'hint' }, 'Accepting closes the task as done. Without a folder the files stay with bosun.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary', id: 'accept-button' }, 'Accept')));
  const el = h('section', { class: 'deliverables-box', 'aria-labelledby': 'deliverables-h', hidden: true },
    h('h2', { id: 'deliverables-h' }, 'Deliverables'), list, acceptForm);
  let shown = ''; // what the list shows (path@run each), so a reload that changes nothing keeps it

  async function load() {
    let body;
    try { body = await api(`/api/tasks/${id}/deliverables`); } catch (e) { return notify(e.message, 'error'); }
    const t = ctx.task();
    const scratch = t && !t.repo;
    el.hidden = !body.latest.length && !(scratch && t.status === 'review');
    acceptForm.hidden = !t || t.status !== 'review' || !!t.repo; // a repo task is merged
    const key = body.latest.map((d) => `${d.path}@${d.run_id}`).join('\n');
    if (key === shown) return;
    shown = key;
    fill(list, body.latest.length ? null : h('li', { class: 'muted' }, 'No files were handed over.'));
    for (const [i, d] of body.latest.entries()) {
      const box = h('div', { class: 'deliverable-body' }, h('p', { class: 'muted' }, 'Loading…'));
      const change = d.change === 'added' ? null : h('span', { class: `badge change-${d.change}` }, `${d.change} in run #${d.run_id}`);
      list.append(h('li', { class: 'deliverable' },
        h('details', { open: i < 3 },
          h('summary', {}, h('code', { class: 'path' }, d.path), ' ', h('span', { class: 'muted' }, size(d.size)), change ? [' ', change] : null),
          d.description ? h('p', { class: 'description' }, d.description) : null,
          box,
          h('p', {}, h('a', { href: contentUrl(id, d, true), download: d.path.split('/').pop(), class: 'button' }, 'Download')))));
      preview(id, d).then((node) => fill(box, node), (e) => fill(box, h('p', { class: 'reason' }, e.message)));
    }
  }

  async function accept(e) {
    e.preventDefault();
    const to = dest.value.trim() || undefined;
    const out = await act(e.submitter, () => api(`/api/tasks/${id}/accept`, { method: 'POST', body: { to, force: force.checked } }));
    if (out === undefined) return;
    notify(out.to ? `Accepted: ${out.copied.length} copied to ${out.to}.` : 'Accepted.');
    ctx.adopt(out.task);
    acceptForm.hidden = true;
  }

  return { el, load, focusAccept: () => { el.hidden = false; acceptForm.hidden = false; el.scrollIntoView({ block: 'start' }); dest.focus(); } };
}
