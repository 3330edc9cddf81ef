// The page of jwh listen --inspect. Plain JavaScript, no build step, no
// other origin. Everything in a record comes from whoever sent the request
// (bodies, headers, claims), so it only ever reaches the page as text:
// textContent and createElement, never parsed as HTML.
'use strict';

const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
const token = meta('jwh-token');
const keep = Math.max(1, parseInt(meta('jwh-keep'), 10) || 1000);
const $ = (id) => document.getElementById(id);

const records = new Map(); // seq → record, the last `keep` of them
const rows = new Map(); // seq → its <li> in the list
let order = []; // seqs, oldest first
let selected = 0; // the seq shown in the detail view
let instance = ''; // the listener run the records come from
let pending = []; // records received, not yet drawn
let drawScheduled = false;
let filterText = '';

$('target').value = meta('jwh-target');

// el builds an element with text content; nothing is ever parsed as HTML.
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

// ---- the stream -----------------------------------------------------------

let source = null;

function connect() {
  source = new EventSource('/events?token=' + encodeURIComponent(token));
  source.addEventListener('hello', (ev) => {
    const inst = JSON.parse(ev.data).instance;
    if (instance && inst !== instance) {
      // Another run of the listener: its seqs start again at 1, so start
      // afresh, without resuming after the last seq of the old run.
      instance = inst;
      source.close();
      clearAll();
      connect();
      return;
    }
    instance = inst;
  });
  source.addEventListener('record', (ev) => {
    let rec;
    try {
      rec = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    if (typeof rec !== 'object' || rec === null) return;
    rec.seq = Number(ev.lastEventId);
    pending.push(rec);
    scheduleDraw();
  });
  source.onopen = () => setState('live', 'live');
  source.onerror = () => setState('down', source.readyState === EventSource.CLOSED ? 'disconnected: reload the page' : 'reconnecting…');
}

function setState(cls, text) {
  const s = $('state');
  s.className = cls;
  s.textContent = text;
}

function clearAll() {
  records.clear();
  rows.clear();
  order = [];
  pending = [];
  selected = 0;
  $('list').replaceChildren();
  $('detail').hidden = true;
  updateCount();
}

// ---- the list -------------------------------------------------------------

function scheduleDraw() {
  if (!drawScheduled) {
    drawScheduled = true;
    requestAnimationFrame(draw);
  }
}

// draw adds the records received since the last frame: one DOM insertion
// per frame however many arrived, and never a redraw of the whole list.
function draw() {
  drawScheduled = false;
  let batch = pending;
  pending = [];
  if (batch.length > keep) batch = batch.slice(batch.length - keep);
  const list = $('list');
  const frag = document.createDocumentFragment();
  for (const rec of batch) { // oldest first; each goes above the one before
    if (records.has(rec.seq)) {
      // A record seen already (a stream that resumed): replace its row.
      const old = rows.get(rec.seq);
      if (old) old.remove();
      order = order.filter((s) => s !== rec.seq);
    }
    records.set(rec.seq, rec);
    order.push(rec.seq);
    const li = makeRow(rec);
    rows.set(rec.seq, li);
    frag.prepend(li);
  }
  list.prepend(frag);
  let excess = order.length - keep;
  if (excess > 0) {
    const gone = order.slice(0, excess);
    order = order.slice(excess);
    for (const seq of gone) {
      records.delete(seq);
      const row = rows.get(seq);
      if (row) row.remove();
      rows.delete(seq);
    }
    if (gone.includes(selected)) {
      selected = 0;
      $('detail').hidden = true;
    }
  }
  updateCount();
}

function updateCount() {
  const n = order.length;
  $('count').textContent = n === 1 ? '1 delivery' : `${n} deliveries`;
  $('empty').hidden = n > 0;
}

const verdicts = {
  verified: { icon: '✓', cls: 'ok', word: 'verified' },
  unverified: { icon: '!', cls: 'warn', word: 'not verified' },
  refused: { icon: '✗', cls: 'bad', word: 'refused' },
};

function verdictOf(rec) {
  return verdicts[rec.verdict] || { icon: '?', cls: '', word: String(rec.verdict || '') };
}

function timeOf(rec) {
  const d = new Date(rec.received);
  if (isNaN(d)) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// what names a record in the list: its event, or for a request that was
// refused before its body was read, its method and path.
function eventOf(rec) {
  return rec.event || `${rec.method || ''} ${rec.path || ''}`.trim();
}

function makeRow(rec) {
  const v = verdictOf(rec);
  const li = el('li');
  li.dataset.seq = rec.seq;
  const b = el('button', 'row ' + v.cls);
  b.type = 'button';
  b.append(
    el('span', 't', timeOf(rec)),
    el('span', 'e', eventOf(rec) + (rec.replayOf ? ' ↻' : '')),
    el('span', 'i', rec.issue || ''),
    el('span', 'v', v.icon + (rec.duplicate ? ' =' : '')),
    el('span', 's', rec.status || ''),
  );
  b.setAttribute('aria-label', `#${rec.seq} ${timeOf(rec)} ${eventOf(rec)} ${rec.issue || ''} ${v.word}${rec.duplicate ? ' duplicate' : ''} ${rec.status || ''}`);
  if (rec.seq === selected) b.setAttribute('aria-current', 'true');
  b.addEventListener('click', () => select(rec.seq));
  li.appendChild(b);
  li.hidden = !matches(rec);
  return li;
}

// ---- the filter -----------------------------------------------------------

function haystack(rec) {
  if (rec._hay === undefined) {
    rec._hay = [rec.event, rec.issue, rec.tenant, rec.verdict, verdictOf(rec).word, rec.identifier, rec.status, rec.path, rec.check,
      rec.duplicate ? 'duplicate' : ''].filter((x) => x !== undefined && x !== null && x !== '').join(' ').toLowerCase();
  }
  return rec._hay;
}

function matches(rec) {
  if (!filterText) return true;
  const hay = haystack(rec);
  return filterText.split(/\s+/).every((w) => hay.includes(w));
}

$('filter').addEventListener('input', () => {
  filterText = $('filter').value.trim().toLowerCase();
  for (const li of $('list').children) {
    const rec = records.get(Number(li.dataset.seq));
    li.hidden = !rec || !matches(rec);
  }
});

$('list').addEventListener('keydown', (ev) => {
  if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
  const li = ev.target.closest('li');
  if (!li) return;
  let next = ev.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling;
  while (next && next.hidden) next = ev.key === 'ArrowDown' ? next.nextElementSibling : next.previousElementSibling;
  if (next) {
    ev.preventDefault();
    next.firstChild.focus();
    select(Number(next.dataset.seq));
  }
});

// ---- the detail view ------------------------------------------------------

function select(seq) {
  const rec = records.get(seq);
  if (!rec) return;
  const old = rows.get(selected);
  if (old) old.firstChild.removeAttribute('aria-current');
  selected = seq;
  const row = rows.get(seq);
  if (row) row.firstChild.setAttribute('aria-current', 'true');
  showDetail(rec);
}

function showDetail(rec) {
  const v = verdictOf(rec);
  $('detail').hidden = false;
  $('title').textContent = `#${rec.seq}  ${eventOf(rec)}${rec.issue ? '  ' + rec.issue : ''}`;

  const verdict = $('verdict');
  verdict.className = 'verdict ' + v.cls;
  let text = `${v.icon} ${v.word}`;
  if (rec.verdict === 'verified' && rec.tenant) text += ` (${rec.kind ? rec.kind + ' ' : ''}tenant ${rec.tenant})`;
  if (rec.verdict === 'refused') text += `: ${rec.status || ''} ${rec.check || ''}${rec.reason ? ': ' + rec.reason : ''}`;
  if (rec.duplicate) text += ' — duplicate of an identifier already accepted';
  if (rec.injected) text += ` — answered ${rec.status} by --respond`;
  verdict.textContent = text;

  const facts = $('facts');
  facts.replaceChildren();
  const fact = (k, val) => {
    if (val === undefined || val === null || val === '') return;
    facts.append(el('dt', '', k), el('dd', '', val));
  };
  fact('received', rec.received);
  fact('request', `${rec.method || ''} ${rec.path || ''}`.trim());
  fact('host', rec.host);
  fact('from', rec.remote);
  fact('answered', rec.status);
  fact('forwarded to', rec.forwardedTo);
  fact('identifier', rec.identifier);
  fact('retry', rec.retry);
  fact('replay of', rec.replayOf ? '#' + rec.replayOf : '');
  $('replay-result').textContent = '';
  // As jwh replay: a refused request is not a delivery, and one without a
  // body has nothing to send.
  const replayable = rec.verdict !== 'refused' && bodyOf(rec) !== undefined;
  $('replay').disabled = !replayable;
  $('replay').title = replayable ? '' : 'only deliveries are replayed: the listener refused this request';

  showChangelog(rec);
  showDiff(rec);

  const tok = $('token');
  tok.replaceChildren();
  const auth = rec.authorization;
  if (!auth) {
    tok.append(el('p', 'none', 'no Authorization header'));
  } else {
    tok.append(el('p', '', `scheme ${auth.scheme || '?'}${auth.error ? ': ' + auth.error : ''}`));
    if (auth.header) tok.append(el('h4', '', 'header'), jsonTree(auth.header, 3));
    if (auth.claims) tok.append(el('h4', '', 'claims'), jsonTree(auth.claims, 3));
  }

  const tbody = $('headers').tBodies[0];
  tbody.replaceChildren();
  const headers = rec.headers || {};
  for (const name of Object.keys(headers).sort()) {
    const vals = Array.isArray(headers[name]) ? headers[name] : [headers[name]];
    for (const val of vals) {
      const tr = el('tr');
      tr.append(el('th', '', name), el('td', '', val));
      tbody.appendChild(tr);
    }
  }

  const body = $('body');
  body.replaceChildren();
  const b = bodyOf(rec);
  if (b === undefined) {
    body.append(el('p', 'none', rec.bodyBase64 !== undefined ? `binary, ${rec.bodyBase64.length} characters of base64` : 'no body (not read, or not kept)'));
  } else if (typeof b === 'string') {
    body.append(el('pre', '', b));
  } else {
    body.append(jsonTree(b, 2));
  }
}

// bodyOf is the record's body as JSON, or as text when it is not JSON;
// undefined when the record has none.
function bodyOf(rec) {
  if (rec.body !== undefined) return rec.body;
  if (rec.bodyText !== undefined) {
    try {
      return JSON.parse(rec.bodyText);
    } catch (e) {
      return rec.bodyText;
    }
  }
  return undefined;
}

function showChangelog(rec) {
  const ul = $('changelog');
  ul.replaceChildren();
  const b = bodyOf(rec);
  const items = b && b.changelog && Array.isArray(b.changelog.items) ? b.changelog.items : [];
  if (items.length === 0) {
    ul.append(el('li', 'none', 'no changelog'));
    return;
  }
  for (const it of items) {
    const from = it.fromString ?? it.from;
    const to = it.toString ?? it.to;
    const li = el('li');
    li.append(el('span', 'path', String(it.field ?? it.fieldId ?? '?') + ': '), el('span', 'from', show(from)), el('span', 'arrow', ' → '), el('span', 'to', show(to)));
    ul.appendChild(li);
  }
}

// previousOf is the latest record before rec of the same issue that has a
// body.
function previousOf(rec) {
  if (!rec.issue) return null;
  const i = order.indexOf(rec.seq);
  for (let j = i - 1; j >= 0; j--) {
    const p = records.get(order[j]);
    if (p && p.issue === rec.issue && bodyOf(p) !== undefined && typeof bodyOf(p) !== 'string') return p;
  }
  return null;
}

function showDiff(rec) {
  const ul = $('diff');
  ul.replaceChildren();
  const prev = previousOf(rec);
  const b = bodyOf(rec);
  if (!prev || b === undefined || typeof b === 'string') {
    $('diff-h').textContent = 'Diff';
    ul.append(el('li', 'none', rec.issue ? `no earlier delivery of ${rec.issue} held` : 'no issue to compare by'));
    return;
  }
  $('diff-h').textContent = `Diff against #${prev.seq} (${timeOf(prev)})`;
  const changes = jsonDiff(bodyOf(prev), b);
  if (changes.length === 0) {
    ul.append(el('li', 'none', 'the same body'));
    return;
  }
  for (const c of changes) {
    const li = el('li', c.op);
    if (c.op === 'changed') {
      li.append(el('span', 'path', c.path + ': '), el('span', 'from', show(c.from)), el('span', 'arrow', ' → '), el('span', 'to', show(c.to)));
    } else if (c.op === 'added') {
      li.append(el('span', 'mark', '+ '), el('span', 'path', c.path + ': '), el('span', 'to', show(c.to)));
    } else {
      li.append(el('span', 'mark', '− '), el('span', 'path', c.path + ': '), el('span', 'from', show(c.from)));
    }
    ul.appendChild(li);
  }
}

// show writes a JSON value short enough for one line.
function show(v) {
  if (v === undefined) return '(none)';
  const s = JSON.stringify(v);
  return s.length > 200 ? s.slice(0, 199) + '…' : s;
}

// ---- the JSON diff ----------------------------------------------------------

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function pathTo(path, key) {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

// jsonDiff lists what changed from a to b, by path: objects key by key (in
// a's order, then b's new keys), arrays index by index, anything else as a
// whole. Each change is {op: 'changed'|'added'|'removed', path, from, to}.
function jsonDiff(a, b, path = '', out = []) {
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) {
      if (!Object.prototype.hasOwnProperty.call(b, k)) out.push({ op: 'removed', path: pathTo(path, k), from: a[k] });
      else jsonDiff(a[k], b[k], pathTo(path, k), out);
    }
    for (const k of Object.keys(b)) {
      if (!Object.prototype.hasOwnProperty.call(a, k)) out.push({ op: 'added', path: pathTo(path, k), to: b[k] });
    }
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) jsonDiff(a[i], b[i], pathTo(path, i), out);
    for (let i = n; i < a.length; i++) out.push({ op: 'removed', path: pathTo(path, i), from: a[i] });
    for (let i = n; i < b.length; i++) out.push({ op: 'added', path: pathTo(path, i), to: b[i] });
    return out;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ op: 'changed', path: path || '(the whole body)', from: a, to: b });
  return out;
}

// ---- the JSON tree ----------------------------------------------------------

// jsonTree draws v as collapsible pretty JSON. Levels below `open` start
// folded and are drawn only when unfolded, so a large body costs little
// until it is looked at.
function jsonTree(v, open, depth = 0) {
  if (!(isObject(v) || Array.isArray(v))) return el('span', 'v-' + (v === null ? 'null' : typeof v), JSON.stringify(v));
  const isArr = Array.isArray(v);
  const keys = isArr ? v.map((_, i) => i) : Object.keys(v);
  if (keys.length === 0) return el('span', 'v-empty', isArr ? '[]' : '{}');
  const d = el('details', 'node');
  const sum = el('summary', '', isArr ? `[ ${keys.length} ${keys.length === 1 ? 'item' : 'items'} ]` : `{ ${keys.length} ${keys.length === 1 ? 'key' : 'keys'} }`);
  d.appendChild(sum);
  let drawn = false;
  const drawChildren = () => {
    if (drawn) return;
    drawn = true;
    const box = el('div', 'kids');
    for (const k of keys) {
      const line = el('div', 'kv');
      if (!isArr) line.append(el('span', 'k', JSON.stringify(k)), el('span', 'colon', ': '));
      line.append(jsonTree(v[k], open, depth + 1));
      box.appendChild(line);
    }
    d.appendChild(box);
  };
  if (depth < open) {
    d.open = true;
    drawChildren();
  }
  d.addEventListener('toggle', () => { if (d.open) drawChildren(); });
  return d;
}

// ---- replay -----------------------------------------------------------------

$('replay').addEventListener('click', async () => {
  const seq = selected;
  const out = $('replay-result');
  out.className = '';
  out.textContent = 'replaying…';
  try {
    const resp = await fetch('/replay', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Jwh-Token': token },
      body: JSON.stringify({ seq, to: $('target').value.trim() }),
    });
    const a = await resp.json();
    const where = a.target ? ` (${a.target})` : '';
    if (a.error) {
      out.className = 'bad';
      out.textContent = `✗ ${a.status ? a.status + ' ' : ''}${a.error}${where}`;
    } else {
      out.className = a.status >= 200 && a.status < 300 ? 'ok' : 'bad';
      out.textContent = `${a.status >= 200 && a.status < 300 ? '✓' : '✗'} ${a.status} in ${a.latency}${where}`;
    }
  } catch (e) {
    out.className = 'bad';
    out.textContent = '✗ ' + e.message;
  }
});

// For the browser test: the diff is a pure function, checked case by case.
window.jwhInspector = { jsonDiff };

updateCount();
connect();
