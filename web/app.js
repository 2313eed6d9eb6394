// The clinician's page: the interpersonal inventory as a form built from the
// rule set's vocabulary (GET /api/vocabulary), the draft plan redrawn as the
// form is filled (POST /api/plan), each item's why, the clinician's
// decisions, recording, and findings files in and out. Everything comes from
// this server; nothing a user or a rule file typed is ever inserted as HTML.
'use strict';

const ORDER = ['client', 'risk', 'symptoms', 'relationships', 'life_events', 'communication', 'emotion',
               'alliance', 'support', 'history', 'diagnosis', 'formulation', 'therapy'];
const TITLES = {client: 'Client', risk: 'Risk', symptoms: 'Symptoms', relationships: 'Relationships',
                life_events: 'Life events', communication: 'Communication', emotion: 'Emotions',
                alliance: 'Working alliance', support: 'Social support', history: 'History',
                diagnosis: 'Diagnoses', formulation: 'Formulation', therapy: 'Therapy'};

const state = {
  vocab: null,        // the vocabulary response
  byPath: new Map(),  // finding path -> declaration
  plan: null,         // the last plan JSON
  decisions: {},      // item id -> {action: accept|reject|edit, reason, text}
  token: sessionStorage.getItem('iptplan-token') || '',
  seq: 0,             // the latest plan request
  rows: 0,            // table rows made, for their ids
  timer: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

async function api(method, path, body, type) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = type || 'application/json';
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const res = await fetch(path, {method, headers, body});
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* markdown or text */ }
  return {status: res.status, json, text};
}

// `fromForm`: the findings came from the form, whose request body's lines
// mean nothing to a clinician: the messages name the findings instead.
function errorText(r, fromForm) {
  if (r.json && r.json.errors && r.json.errors.length) {
    return r.json.errors.map((e) => (e.line && !fromForm ? 'line ' + e.line + ': ' + e.message
                                                         : fromForm ? e.message.replace(/ \(line \d+\)/g, '') : e.message))
      .join('; ');
  }
  return 'the server answered ' + r.status;
}

// ---------------------------------------------------------------------------
// The form

const idOf = (path) => 'f-' + path.replace(/[^A-Za-z0-9]/g, '_');

// An enum value as the vocabulary words it (its label), else readably.
function shownValue(decl, v) {
  return (decl.labels && decl.labels[v]) || v.replace(/_/g, ' ');
}

function control(decl, id) {
  const t = decl.type;
  if (t === 'bool') {
    return el('select', {id}, el('option', {value: '', text: 'Not recorded'}),
              el('option', {value: 'true', text: 'Yes'}), el('option', {value: 'false', text: 'No'}));
  }
  if (t === 'enum') {
    const s = el('select', {id}, el('option', {value: '', text: 'Not recorded'}));
    for (const v of decl.values) s.append(el('option', {value: v, text: shownValue(decl, v)}));
    return s;
  }
  if (t === 'int' || t === 'number') {
    return el('input', {id, type: 'number', inputmode: t === 'int' ? 'numeric' : 'decimal',
                        step: t === 'int' ? '1' : 'any', min: decl.min, max: decl.max});
  }
  if (t === 'list' && decl.values && decl.values.length) {
    const box = el('div', {id, role: 'group', class: 'checks'});
    decl.values.forEach((v, i) => {
      const cid = id + '-' + i;
      box.append(el('span', {}, el('input', {type: 'checkbox', id: cid, value: v}),
                    el('label', {for: cid, text: ' ' + shownValue(decl, v) + ' '})));
    });
    return box;
  }
  return el('input', {id, type: 'text', autocomplete: 'off',
                      placeholder: t === 'list' ? 'values separated by commas' : ''});
}

function field(decl, id, path) {
  const label = decl.question || decl.path;
  const c = control(decl, id);
  const isGroup = c.getAttribute('role') === 'group';
  const err = el('span', {class: 'error', id: id + '-error', 'aria-live': 'polite'});
  const hint = el('span', {class: 'hint', id: id + '-hint', text: decl.expected || ''});
  if (!isGroup) c.setAttribute('aria-describedby', hint.id + ' ' + err.id);
  const head = isGroup ? el('span', {class: 'label', id: id + '-label', text: label})
                       : el('label', {for: id, text: label});
  if (isGroup) c.setAttribute('aria-labelledby', id + '-label');
  // Seen, not read out as part of the question's name (the plan's "Ask
  // next" list says it to a screen reader).
  head.append(el('span', {class: 'badge', 'aria-hidden': 'true', text: 'ask next'}));
  const wrap = el('div', {class: 'field', 'data-path': path, 'data-type': decl.type}, head, hint, c, err);
  if (decl.asked_if) {
    wrap.dataset.gate = decl.asked_if.finding;
    wrap.dataset.gateValues = JSON.stringify(decl.asked_if.values);
  }
  c.addEventListener('input', () => { check(wrap, decl); changed(); });
  c.addEventListener('change', () => { check(wrap, decl); changed(); });
  return wrap;
}

// The value a field holds, or undefined when nothing valid is recorded.
function read(wrap, decl) {
  const c = wrap.querySelector('input, select');
  const t = decl.type;
  if (t === 'list' && decl.values && decl.values.length) {
    const on = [...wrap.querySelectorAll('input[type=checkbox]')].filter((x) => x.checked).map((x) => x.value);
    return on.length ? on : undefined;
  }
  const raw = c.value.trim();
  if (raw === '') return undefined;
  if (t === 'bool') return raw === 'true';
  if (t === 'int' || t === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n) || (t === 'int' && !Number.isInteger(n))) return undefined;
    if (decl.min !== undefined && n < decl.min) return undefined;
    if (decl.max !== undefined && n > decl.max) return undefined;
    return n;
  }
  if (t === 'list') {
    const parts = raw.split(',').map((x) => x.trim()).filter((x) => x);
    if (decl.of !== 'int' && decl.of !== 'number') return parts;
    const ns = parts.map(Number);
    // A part that is not a number makes the whole list invalid (never a
    // null sent in its place).
    if (ns.some((n) => !Number.isFinite(n) || (decl.of === 'int' && !Number.isInteger(n)))) return undefined;
    return ns;
  }
  if (t === 'string' && !matches(decl, raw)) return undefined;
  return raw;
}

// A text with the form its vocabulary pattern asks for (a role word for a
// person's label, never a name); a pattern this browser cannot read is left
// to the service, which checks every value.
function matches(decl, raw) {
  if (!decl.pattern) return true;
  try {
    return new RegExp('^(?:' + decl.pattern + ')$').test(raw);
  } catch (e) {
    return true;
  }
}

// Ranges checked as typed: a message beside the field, and the value left
// out of the findings until it is right.
function check(wrap, decl) {
  const c = wrap.querySelector('input, select');
  const err = wrap.querySelector('.error');
  let msg = '';
  const numeric = decl.type === 'int' || decl.type === 'number' ||
                  (decl.type === 'list' && (decl.of === 'int' || decl.of === 'number'));
  // A number field holding what the browser cannot read as a number ("1-")
  // shows an empty value: said, never left out in silence.
  if (c.validity && c.validity.badInput) msg = 'Expected ' + decl.expected + '.';
  else if (numeric && c.value.trim() !== '' && read(wrap, decl) === undefined) msg = 'Expected ' + decl.expected + '.';
  else if (decl.type === 'string' && c.value.trim() !== '' && !matches(decl, c.value.trim())) {
    msg = 'Expected ' + decl.expected + '.';
  }
  err.textContent = msg;
  if (c.tagName === 'INPUT' || c.tagName === 'SELECT') c.setAttribute('aria-invalid', msg ? 'true' : 'false');
}

// The form field a finding names: "phq9.total", or a row's field by the
// row's key ("relationships[partner].conflict": the row labelled partner)
// or by its place ("life_events[1].months_before_onset").
function fieldFor(finding) {
  const m = /^([^\[]+)\[([^\]]*)\]\.(.+)$/.exec(finding);
  if (!m) return document.querySelector('.field[data-path="' + CSS.escape(finding) + '"]:not([data-field])');
  const [, list, key, name] = m;
  const decl = state.byPath.get(list);
  const rows = [...document.querySelectorAll('.rows[data-table="' + CSS.escape(list) + '"] .row')];
  let row = null;
  if (decl && decl.key) {
    row = rows.find((r) => {
      const k = r.querySelector('.field[data-field="' + CSS.escape(decl.key) + '"] input, ' +
                                '.field[data-field="' + CSS.escape(decl.key) + '"] select');
      return k && k.value.trim() === key;
    }) || null;
  }
  if (!row && /^\d+$/.test(key)) row = rows[Number(key) - 1] || null;
  if (row) return row.querySelector('.field[data-field="' + CSS.escape(name) + '"]');
  return document.querySelector('.field[data-path="' + CSS.escape(list) + '"]');
}

function tableRow(decl, rowsBox) {
  const n = ++state.rows;
  const row = el('div', {class: 'row', role: 'group'});
  const title = el('span', {class: 'label', id: 'row-' + n, text: (TITLES[decl.component] || decl.path) + ' row'});
  row.setAttribute('aria-labelledby', title.id);
  row.append(title);
  for (const f of decl.fields) {
    const w = field(f, idOf(decl.path + '-' + n + '-' + f.path), f.path);
    w.dataset.field = f.path;
    row.append(w);
  }
  row.append(el('button', {type: 'button', text: 'Remove this row', 'aria-label': 'Remove ' + title.textContent + ' ' + n,
                           onclick: () => {
                             // Focus goes to the next row's first field, or to the add button, never lost.
                             const next = row.nextElementSibling || row.parentElement.parentElement.querySelector(':scope > button');
                             row.remove();
                             changed();
                             const f = next && (next.matches('button') ? next : next.querySelector('input, select'));
                             if (f) f.focus();
                           }}));
  rowsBox.append(row);
  return row;
}

function buildForm() {
  const form = $('form');
  form.textContent = '';
  const groups = new Map();
  for (const d of state.vocab.findings) {
    const comp = d.component || 'other';
    if (!groups.has(comp)) groups.set(comp, []);
    groups.get(comp).push(d);
  }
  const comps = [...groups.keys()].sort((a, b) => {
    const ia = ORDER.indexOf(a), ib = ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  for (const comp of comps) {
    const fs = el('fieldset', {id: 'section-' + comp}, el('legend', {text: TITLES[comp] || comp.replace(/_/g, ' ')}));
    for (const d of groups.get(comp)) {
      if (d.type === 'table_list') {
        const rows = el('div', {class: 'rows', 'data-table': d.path});
        const box = el('div', {class: 'field table', 'data-path': d.path},
                       el('span', {class: 'label', text: d.question || d.path}), rows);
        // Asked, and nothing to record: an empty list, which is not the
        // same as a list not yet asked about (docs/findings.md).
        const noneId = idOf(d.path) + '-none';
        const none = el('input', {type: 'checkbox', id: noneId, class: 'none', 'data-none': d.path,
                                  onchange: () => changed()});
        box.append(el('div', {class: 'none-choice'}, none,
                      el('label', {for: noneId, text: 'None: asked, and there is nothing to record'})));
        // Each list's own name for a screen reader (two read alike).
        none.setAttribute('aria-label', 'None: asked, and there is nothing to record in ' +
                          (TITLES[d.component] || d.path).toLowerCase());
        box.append(el('button', {type: 'button', text: 'Add a row to ' + (TITLES[d.component] || d.path).toLowerCase(),
                                 onclick: () => {
                                   // A row recorded is no longer "nothing to record".
                                   none.checked = false;
                                   const r = tableRow(d, rows); r.querySelector('input, select').focus(); changed();
                                 }}));
        fs.append(box);
      } else {
        fs.append(field(d, idOf(d.path), d.path));
      }
    }
    form.append(fs);
  }
  applySkipLogic();
}

// C-SSRS and the other gated questions: shown only when their gate holds.
// A gate may itself be gated, and may come after the question it opens
// (the perinatal status, gated on the age band, opens the question on
// thoughts of harming the baby): passes are made until nothing changes, so
// what is shown never lags one change behind the gates.
function applySkipLogic() {
  const gated = [...document.querySelectorAll('.field[data-gate]')];
  for (let pass = 0; pass <= gated.length; ++pass) {
    let changedAny = false;
    for (const w of gated) {
      const gate = document.querySelector('.field[data-path="' + CSS.escape(w.dataset.gate) + '"]:not([data-field])');
      let open = false, pending = false;
      if (gate && !gate.classList.contains('skipped')) {
        const v = read(gate, state.byPath.get(w.dataset.gate));
        open = v !== undefined && JSON.parse(w.dataset.gateValues).includes(String(v));
        pending = v === undefined;
      }
      // An answer whose gate is not answered at all is never hidden: a file
      // loaded with a follow-up answered and its gate blank (the plan reads
      // the gate as yes) lost the answer, and a critical flag with it. It
      // is shown, and said to be answered without its gate. A gate answered
      // so that it closes the question (the clinician's own choice) still
      // hides it.
      const answered = pending && read(w, state.byPath.get(w.dataset.path)) !== undefined;
      const shown = open || answered;
      if (w.classList.contains('skipped') === shown) changedAny = true;
      w.classList.toggle('skipped', !shown);
      w.querySelectorAll('input, select').forEach((c) => { c.disabled = !shown; });
      let note = w.querySelector('.ungated-note');
      if (shown && !open && !note) {
        note = el('span', {class: 'ungated-note',
                           text: 'Answered, though the question that leads to it (' + w.dataset.gate +
                                 ') is not answered so: check both answers.'});
        w.append(note);
      } else if (open && note) {
        note.remove();
      }
    }
    if (!changedAny) break;
  }
}

function setPath(obj, path, v) {
  const parts = path.split('.');
  let at = obj;
  for (const p of parts.slice(0, -1)) at = at[p] = at[p] || {};
  at[parts[parts.length - 1]] = v;
}

// The findings the form holds, as a JSON findings object.
function collect() {
  const out = {};
  for (const w of document.querySelectorAll('#form .field[data-path]:not([data-field]):not(.table)')) {
    if (w.classList.contains('skipped')) continue;
    const v = read(w, state.byPath.get(w.dataset.path));
    if (v !== undefined) setPath(out, w.dataset.path, v);
  }
  for (const box of document.querySelectorAll('#form .rows')) {
    const decl = state.byPath.get(box.dataset.table);
    const rows = [];
    for (const row of box.querySelectorAll('.row')) {
      const r = {};
      for (const w of row.querySelectorAll('.field[data-field]')) {
        const v = read(w, decl.fields.find((f) => f.path === w.dataset.field));
        if (v !== undefined) r[w.dataset.field] = v;
      }
      if (Object.keys(r).length) rows.push(r);
    }
    const none = document.querySelector('input[data-none="' + box.dataset.table + '"]');
    if (rows.length) setPath(out, box.dataset.table, rows);
    else if (none && none.checked) setPath(out, box.dataset.table, []);
  }
  return out;
}

function fill(findings) {
  buildForm();
  const get = (obj, path) => path.split('.').reduce((o, p) => (o && typeof o === 'object' ? o[p] : undefined), obj);
  const set = (w, decl, v) => {
    if (v === undefined || v === null) return;
    if (decl.type === 'list' && decl.values && decl.values.length) {
      w.querySelectorAll('input[type=checkbox]').forEach((c) => { c.checked = v.includes(c.value); });
    } else {
      const c = w.querySelector('input, select');
      c.value = Array.isArray(v) ? v.join(', ') : String(v);
    }
  };
  for (const w of document.querySelectorAll('#form .field[data-path]:not([data-field]):not(.table)')) {
    set(w, state.byPath.get(w.dataset.path), get(findings, w.dataset.path));
  }
  for (const box of document.querySelectorAll('#form .rows')) {
    const decl = state.byPath.get(box.dataset.table);
    const given = get(findings, box.dataset.table);
    const none = document.querySelector('input[data-none="' + box.dataset.table + '"]');
    if (none) none.checked = Array.isArray(given) && given.length === 0;
    for (const r of given || []) {
      const row = tableRow(decl, box);
      for (const w of row.querySelectorAll('.field[data-field]')) {
        set(w, decl.fields.find((f) => f.path === w.dataset.field), r[w.dataset.field]);
      }
    }
  }
  applySkipLogic();
  changed();
}

// A findings file in TOML, as docs/findings.md describes it.
function toToml(findings) {
  const str = (s) => '"' + s.replace(/[\\"]/g, (c) => '\\' + c).replace(/[\u0000-\u001f\u007f]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + '"';
  const val = (v) => (Array.isArray(v) ? '[' + v.map(val).join(', ') + ']' : typeof v === 'string' ? str(v) : String(v));
  const lines = ['# Findings saved from the iptplan page. No identifying data.'];
  const tables = [];
  const walk = (obj, prefix) => {
    for (const [k, v] of Object.entries(obj)) {
      const path = prefix ? prefix + '.' + k : k;
      if (Array.isArray(v) && v.length && typeof v[0] === 'object') tables.push([path, v]);
      else if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, path);
      else lines.push(path + ' = ' + val(v));
    }
  };
  walk(findings, '');
  for (const [path, rows] of tables) {
    for (const r of rows) {
      lines.push('', '[[' + path + ']]');
      for (const [k, v] of Object.entries(r)) lines.push(k + ' = ' + val(v));
    }
  }
  return lines.join('\n') + '\n';
}

function download(name, text, type) {
  const a = el('a', {href: URL.createObjectURL(new Blob([text], {type})), download: name});
  document.body.append(a);
  a.click();
  a.remove();
}

// ---------------------------------------------------------------------------
// The plan

function changed() {
  applySkipLogic();
  clearTimeout(state.timer);
  state.timer = setTimeout(refresh, 250);
}

async function refresh() {
  const seq = ++state.seq;
  const findings = collect();
  // The same findings as the plan shown (a field left, a value typed and
  // put back): nothing to redraw, so the clinician's place, open panels and
  // focus, stays as it is.
  const text = JSON.stringify(findings);
  if (text === state.planned && !state.stale) {
    if (state.statusText) $('plan-status').textContent = state.statusText;
    return;
  }
  $('plan-status').textContent = 'Updating the draft plan…';
  const r = await api('POST', '/api/plan', JSON.stringify(findings));
  if (seq !== state.seq) return;  // a later change is on its way
  clearServerMarks();
  if (r.status !== 200) {
    // The plan on the page is no longer the findings' plan: it is marked
    // out of date (and cannot be decided on, recorded or downloaded) until
    // the findings can be planned again, and the fields the errors name
    // are marked.
    setPlanStale(true);
    const said = errorText(r, true);
    $('plan-status').textContent = 'The findings have a problem, so the plan below is out of date: ' +
      said + (/[.!?]$/.test(said) ? '' : '.') + ' Correct the marked fields.';
    markServerErrors(r);
    return;
  }
  setPlanStale(false);
  state.plan = r.json;
  state.planned = text;
  renderPlan();
}

function setPlanStale(stale) {
  const body = $('plan-body');
  body.classList.toggle('stale', stale);
  body.setAttribute('aria-disabled', stale ? 'true' : 'false');
  for (const c of body.querySelectorAll('input, select, textarea, button')) c.disabled = stale;
  for (const id of ['download', 'print']) $(id).disabled = stale;
  // Record stays disabled while a recording is on its way.
  $('record').disabled = stale || !!state.recording;
  state.stale = stale;
}

// The fields the server's errors name ('phq9.item9' is more than
// 'phq9.total'): marked invalid, with the message beside them.
function markServerErrors(r) {
  const errors = (r.json && r.json.errors) || [];
  let first = null;
  for (const e of errors) {
    for (const m of (e.message || '').matchAll(/'([a-z][a-z0-9_]*(?:\[[^\]']*\])?(?:\.[a-z0-9_]+)*)'/g)) {
      const w = fieldFor(m[1]);
      const c = w && w.querySelector('input, select');
      if (!c) continue;
      c.setAttribute('aria-invalid', 'true');
      c.dataset.serverError = '1';
      const err = w.querySelector('.error');
      // The request body's lines mean nothing beside a field of the form.
      if (err && !err.textContent) {
        err.textContent = (e.message || '').replace(/ \(line \d+\)/g, '');
        err.dataset.serverError = '1';
      }
      first = first || c;
    }
  }
  return first;
}

function clearServerMarks() {
  for (const c of document.querySelectorAll('#form [data-server-error]')) {
    if (c.classList.contains('error')) c.textContent = '';
    else c.setAttribute('aria-invalid', 'false');
    delete c.dataset.serverError;
  }
}

function explanation(ref) {
  const e = state.plan.explanations[ref.ref];
  const box = el('div');
  if (!e) return box;
  const rule = e.rule;
  box.append(el('p', {}, el('strong', {text: 'Rule ' + rule.id}),
                document.createTextNode(' (' + rule.file + ':' + rule.line + ')' + (e.element ? ' for ' + e.element : '') +
                                        (e.status === 'provisional' ? ', provisionally' : ''))));
  if (e.because) box.append(el('p', {text: e.because}));
  // The top-level conditions; a nested group (an 'or' inside the 'and')
  // by its text, with the values its parts saw.
  const all = e.evidence || [];
  const ul = el('ul');
  all.forEach((x, i) => {
    if (x.depth || !(x.result === 'true' || e.status === 'provisional')) return;
    const values = [...(x.values || [])];
    for (let j = i + 1; j < all.length && all[j].depth > 0; ++j) values.push(...(all[j].values || []));
    const seen = values.map((v) => v.path + ' = ' + v.value).join(', ');
    ul.append(el('li', {text: x.condition + ' (' + x.result + (seen ? '; ' + seen : '') + ')'}));
  });
  if (ul.childNodes.length) box.append(ul);
  if (rule.source) box.append(el('p', {class: 'muted', text: 'Source: ' + rule.source}));
  return box;
}

function itemView(it, n) {
  const d = state.decisions[it.id] || {};
  const li = el('li', {class: 'item ' + (it.severity || '') + (d.action === 'reject' ? ' rejected' : ''),
                       'data-item': it.id});
  const whyId = 'why-' + n;
  // A flag's severity in words, not by its colour alone (a screen reader,
  // a colour-blind reader and a printout all read it).
  li.append(el('span', {class: 'kind', text: it.kind + (it.severity ? ' (' + it.severity + ')' : '') +
                                             (it.status === 'provisional' ? ' to confirm' : '')}),
            el('span', {class: 'text', text: d.action === 'edit' && d.text ? d.text : it.text}));
  if (it.to_confirm && it.to_confirm.length) {
    li.append(el('div', {class: 'muted', text: 'Would confirm or rule it out: ' + it.to_confirm.join(', ')}));
  }
  if (it.due_passed) {
    li.append(el('div', {class: 'muted', text: 'Session ' + it.due_session +
                         ' has passed: record whether this was met, and if not, set a new session for it.'}));
  }
  const why = el('div', {class: 'why', id: whyId, hidden: true});
  for (const ref of it.because || []) why.append(explanation(ref));
  // Each control named by its item, so that a screen reader's list of
  // buttons is not ten times "Why?" (the visible text stays short).
  const about = (it.text.length > 70 ? it.text.slice(0, 70) + '...' : it.text);
  const whyButton = el('button', {type: 'button', 'aria-expanded': 'false', 'aria-controls': whyId, text: 'Why?',
    'data-role': 'why',
    'aria-label': 'Why? ' + about,
    onclick: () => {
      const open = why.hidden;
      why.hidden = !open;
      whyButton.setAttribute('aria-expanded', String(open));
    }});
  const choice = el('select', {'aria-label': 'Decision on: ' + about, 'data-role': 'decision'},
                    el('option', {value: '', text: 'No decision yet'}), el('option', {value: 'accept', text: 'Accept'}),
                    el('option', {value: 'edit', text: 'Edit'}), el('option', {value: 'reject', text: 'Reject'}));
  choice.value = d.action || '';
  const reason = el('input', {type: 'text', 'aria-label': 'Reason for the decision on: ' + about,
                              placeholder: 'reason', value: d.reason || '', 'data-role': 'reason'});
  const text = el('input', {type: 'text', 'aria-label': 'New text for: ' + about, value: d.text || it.text,
                            'data-role': 'text'});
  const sync = () => {
    const action = choice.value;
    reason.removeAttribute('aria-invalid');
    text.removeAttribute('aria-invalid');
    if (!action) delete state.decisions[it.id];
    else state.decisions[it.id] = {action, reason: reason.value, text: text.value};
    reason.hidden = !(action === 'reject' || action === 'edit');
    text.hidden = action !== 'edit';
    li.classList.toggle('rejected', action === 'reject');
    li.querySelector('.text').textContent = action === 'edit' && text.value ? text.value : it.text;
  };
  choice.addEventListener('change', sync);
  reason.addEventListener('input', sync);
  text.addEventListener('input', sync);
  reason.hidden = !(d.action === 'reject' || d.action === 'edit');
  text.hidden = d.action !== 'edit';
  li.append(el('div', {class: 'decision'}, whyButton, choice, reason, text), why);
  return li;
}

function renderPlan() {
  const p = state.plan;
  const body = $('plan-body');
  // The clinician's place, kept across the redraw by item id: the Why
  // panels open and the control that has the focus.
  const open = new Set([...body.querySelectorAll('li[data-item]')]
    .filter((li) => { const w = li.querySelector('.why'); return w && !w.hidden; })
    .map((li) => li.dataset.item));
  const active = document.activeElement;
  const activeLi = active && body.contains(active) ? active.closest('li[data-item]') : null;
  const focusAt = activeLi && active.dataset.role ? {item: activeLi.dataset.item, role: active.dataset.role} : null;
  body.textContent = '';
  let n = 0;
  const part = (title, items) => {
    if (!items.length) return;
    const ul = el('ul', {class: 'items'});
    for (const it of items) ul.append(itemView(it, ++n));
    body.append(el('h3', {text: title + ' (' + items.length + ')'}), ul);
  };
  part('Flags', p.flags);
  const critical = p.flags.filter((f) => f.severity === 'critical').length;
  if (p.challenges.length && critical) {
    body.append(el('p', {class: 'critical-first', text: critical === 1
      ? 'The critical flag above comes first. The work below is for after it has been acted on, once the treating clinician judges the client safe to continue with it.'
      : 'The critical flags above come first. The work below is for after they have been acted on, once the treating clinician judges the client safe to continue with it.'}));
  }
  part('Challenges', p.challenges);
  part('Solutions', p.solutions);
  part('Goals', p.goals);
  part('To confirm', p.provisional);
  document.querySelectorAll('.field.ask-next').forEach((w) => w.classList.remove('ask-next'));
  const ask = (p.ask_next || []).filter((a) => a.asked_of !== 'clinician');
  // The clinician's own ratings and the course's arrangements, apart.
  const recordNext = (p.ask_next || []).filter((a) => a.asked_of === 'clinician');
  const askList = (title, list, limit) => {
    if (!list.length) return;
    const ol = el('ol', {class: 'ask'});
    for (const a of list.slice(0, limit)) {
      const w = fieldFor(a.finding);
      if (w) w.classList.add('ask-next');
      const target = w && w.querySelector('input, select, button');
      // A question about one person or event says which (its row's key).
      const row = /^[^\[]+\[([^\]]*)\]\./.exec(a.finding);
      const who = row ? ' (' + (/^\d+$/.test(row[1]) ? 'entry ' + row[1] : row[1]) + ')' : '';
      const q = (a.question || a.finding) + who;
      ol.append(el('li', {}, document.createTextNode((a.safety ? 'Safety: ' : '') + q + ' '),
                   target ? el('button', {type: 'button', text: 'Go to the question', 'aria-label': 'Go to the question: ' + q,
                                          onclick: () => target.focus()}) : null));
    }
    body.append(el('h3', {text: title}), ol);
  };
  askList('Ask next', ask, 10);
  askList('Record next (your own ratings and the course\'s arrangements)', recordNext, 5);
  for (const id of open) {
    const li = body.querySelector('li[data-item="' + CSS.escape(id) + '"]');
    if (!li) continue;
    li.querySelector('.why').hidden = false;
    li.querySelector('[data-role="why"]').setAttribute('aria-expanded', 'true');
  }
  if (focusAt) {
    const li = body.querySelector('li[data-item="' + CSS.escape(focusAt.item) + '"]');
    const c = li && li.querySelector('[data-role="' + focusAt.role + '"]');
    if (c && !c.hidden) c.focus();
  }
  const count = p.flags.length + p.challenges.length + p.solutions.length + p.goals.length;
  $('plan-status').textContent = 'Draft plan: ' + count + ' items' +
    (p.provisional.length ? ', ' + p.provisional.length + ' to confirm' : '') +
    (ask.length ? ', ' + Math.min(ask.length, 10) + (ask.length > 10 ? ' of ' + ask.length : '') +
                  (Math.min(ask.length, 10) === 1 && ask.length <= 10 ? ' question' : ' questions') +
                  ' to ask next shown' : '') + '.';
  state.statusText = $('plan-status').textContent;
}

// The fields marked invalid (their values would be left out of the
// findings): nothing is recorded, downloaded or saved while there are any.
function invalidFields() {
  return [...document.querySelectorAll('#form [aria-invalid="true"]')]
    .filter((c) => !c.closest('.skipped'));
}

function refuseInvalid(status) {
  const bad = invalidFields();
  if (!bad.length) return false;
  status.textContent = bad.length + (bad.length === 1 ? ' field holds a value' : ' fields hold values') +
    ' out of range (marked in the form): correct ' + (bad.length === 1 ? 'it' : 'them') + ' first.';
  bad[0].focus();
  return true;
}

// Decisions on items the plan no longer holds (the findings changed since):
// dropped, and said, before anything is recorded.
function dropStaleDecisions() {
  const p = state.plan;
  if (!p) return [];
  const ids = new Set();
  for (const part of [p.flags, p.challenges, p.solutions, p.goals, p.provisional || []]) {
    for (const it of part) ids.add(it.id);
  }
  const stale = Object.keys(state.decisions).filter((i) => !ids.has(i));
  for (const i of stale) delete state.decisions[i];
  return stale;
}

async function record() {
  const button = $('record');
  if (button.disabled) return;
  button.disabled = true;  // one plan per click, however fast the clicks
  state.recording = true;
  try {
    await recordOnce();
  } finally {
    state.recording = false;
    button.disabled = !!state.stale;
    // Enter on the button kept the focus nowhere (a disabled button loses
    // it): back on the button, beside the status that says what happened.
    if (!button.disabled && document.activeElement === document.body) button.focus();
  }
}

// As the service checks a reason (store/recording.cpp): two words or more
// holding a letter with six letters or more, or four characters or more
// beyond ASCII (a script written without spaces).
function saysSomething(t) {
  const words = t.split(/[\s\u00a0\u3000\u2000-\u200b]+/).filter((w) => /[A-Za-z\u0080-\uffff]/.test(w));
  const letters = [...words.join('')].filter((ch) => /[A-Za-z]/.test(ch) || ch.codePointAt(0) >= 0x80).length;
  const wide = [...t].filter((ch) => ch.codePointAt(0) >= 0x80).length;
  return (words.length >= 2 && letters >= 6) || wide >= 4;
}

async function recordOnce() {
  const status = $('record-status');
  if (state.stale) { status.textContent = 'The plan is out of date (the findings have a problem): correct them first.'; return; }
  const by = $('by').value.trim();
  if (!by) { status.textContent = 'Say who records: your role name or staff id.'; $('by').focus(); return; }
  if (refuseInvalid(status)) return;
  const stale = dropStaleDecisions();
  if (stale.length) {
    renderPlan();
    status.textContent = 'The plan changed since you decided on ' + stale.join(', ') +
      ': ' + (stale.length === 1 ? 'that decision was' : 'those decisions were') +
      ' dropped. Check the plan, then record again.';
    return;
  }
  // Every decision is checked before the plan is recorded, as the server
  // will check it: a plan on record whose decisions were then refused
  // would stay in the audit trail without them.
  const bytes = (t) => new TextEncoder().encode(t).length;
  const focusOn = (id, field) => {
    const li = document.querySelector('#plan-body li[data-item="' + CSS.escape(id) + '"]');
    const c = li && li.querySelector('input[aria-label^="' + field + '"]');
    if (c) { c.setAttribute('aria-invalid', 'true'); c.focus(); }
  };
  // The same plan with the same decisions is on record already: a second
  // click (or Enter) would add a duplicate to the audit trail.
  const rec = state.recorded;
  if (rec && rec.decisions === JSON.stringify(state.decisions) && rec.findings === JSON.stringify(collect())) {
    status.textContent = 'Already recorded as plan ' + rec.id + ': change a finding or a decision to record again.';
    return;
  }
  for (const [id, d] of Object.entries(state.decisions)) {
    if (d.action === 'reject' && !d.reason.trim()) {
      status.textContent = 'Give a reason for rejecting ' + id + '.';
      focusOn(id, 'Reason');
      return;
    }
    if (d.action === 'edit' && !d.text.trim()) {
      status.textContent = 'Give the new text for ' + id + '.';
      focusOn(id, 'New text');
      return;
    }
    if (bytes(d.reason.trim()) > 2000 || (d.action === 'edit' && bytes(d.text.trim()) > 2000)) {
      status.textContent = 'The reason or new text for ' + id + ' is longer than 2000 bytes: shorten it, then record.';
      focusOn(id, bytes(d.reason.trim()) > 2000 ? 'Reason' : 'New text');
      return;
    }
    if (d.reason.trim() && !saysSomething(d.reason.trim())) {
      status.textContent = 'The reason for ' + id + ' is read by auditors long after: say in a few words why ' +
        '(two words or more, such as "not indicated now").';
      focusOn(id, 'Reason');
      return;
    }
  }
  const r = await api('POST', '/api/plan?record=1&by=' + encodeURIComponent(by), JSON.stringify(collect()));
  if (r.status !== 201) { status.textContent = 'Not recorded: ' + errorText(r); return; }
  const id = r.json.record;
  // One review for the acceptances, one for each rejection or edit (each
  // with its own reason).
  const reviews = [];
  const accept = Object.entries(state.decisions).filter(([, d]) => d.action === 'accept').map(([i]) => i);
  if (accept.length) reviews.push({by, accept});
  for (const [i, d] of Object.entries(state.decisions)) {
    if (d.action === 'reject') reviews.push({by, reject: [i], reason: d.reason.trim()});
    if (d.action === 'edit') reviews.push({by, edit: [{item: i, text: d.text.trim()}], ...(d.reason.trim() ? {reason: d.reason.trim()} : {})});
  }
  for (const rv of reviews) {
    const x = await api('POST', '/api/plans/' + id + '/review', JSON.stringify(rv));
    if (x.status !== 201) { status.textContent = 'Plan ' + id + ' recorded, but a decision was not: ' + errorText(x); return; }
  }
  const n = Object.keys(state.decisions).length;
  state.recorded = {id, decisions: JSON.stringify(state.decisions), findings: JSON.stringify(collect())};
  status.textContent = 'Recorded as plan ' + id + (reviews.length ? ' with ' + n + (n === 1 ? ' decision' : ' decisions') : '') + '.';
}

// The clinician's decisions, after the draft plan's markdown (which stays
// the server's, byte for byte the CLI's): what goes into the chart is the
// plan with what was done with it, and whether that is on record.
function decisionsMarkdown() {
  const entries = Object.entries(state.decisions);
  if (!entries.length) return '';
  const p = state.plan || {};
  const texts = new Map();
  for (const part of [p.flags, p.challenges, p.solutions, p.goals, p.provisional]) {
    for (const it of part || []) texts.set(it.id, it.text);
  }
  const esc = (t) => String(t).replace(/[\\`*_{}\[\]<>()#+!|]/g, '\\$&').replace(/[\u0000-\u001f\u007f]/g, ' ');
  const rec = state.recorded;
  const onRecord = rec && rec.decisions === JSON.stringify(state.decisions) && rec.findings === JSON.stringify(collect());
  let out = '\n## Clinician\'s decisions\n\n' +
    (onRecord ? 'Recorded with plan ' + rec.id + '.\n\n'
              : 'Not recorded: these decisions are in this document only.\n\n');
  const words = {accept: 'Accepted', reject: 'Rejected', edit: 'Edited'};
  for (const [id, d] of entries) {
    out += '- **' + words[d.action] + ':** ' + esc(texts.get(id) || id) + ' (`' + id.replace(/`/g, '') + '`)';
    if (d.action === 'edit') out += '\n  - New text: ' + esc(d.text.trim());
    if (d.reason && d.reason.trim()) out += '\n  - Reason: ' + esc(d.reason.trim());
    out += '\n';
  }
  return out;
}

// ---------------------------------------------------------------------------

async function start() {
  const r = await api('GET', '/api/vocabulary');
  if (r.status === 401) {
    $('token-panel').hidden = false;
    // A token given and refused is said, not met with the same panel again.
    $('token-status').textContent = state.token ? 'That token was not accepted: check it and try again.' : '';
    $('token').focus();
    return;
  }
  if (r.status !== 200) { document.body.append(el('p', {text: 'The server did not answer: ' + errorText(r)})); return; }
  state.vocab = r.json;
  for (const d of r.json.findings) state.byPath.set(d.path, d);
  const rs = r.json.rule_set;
  $('ruleset').textContent = 'Rule set ' + rs.name + ' ' + rs.version + ' (' + rs.status + ')';
  $('token-panel').hidden = true;
  $('app').hidden = false;
  buildForm();
  refresh();
}

document.addEventListener('DOMContentLoaded', () => {
  const signIn = () => {
    state.token = $('token').value.trim();
    sessionStorage.setItem('iptplan-token', state.token);
    start().then(() => { if (!$('app').hidden) $('form').querySelector('input, select')?.focus(); });
  };
  $('token-save').addEventListener('click', signIn);
  // Enter in the token field signs in, as in any sign-in form.
  $('token').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); signIn(); } });
  $('record').addEventListener('click', record);
  $('print').addEventListener('click', () => window.print());
  $('download').addEventListener('click', async () => {
    if (refuseInvalid($('record-status'))) return;
    const r = await api('POST', '/api/plan?format=markdown', JSON.stringify(collect()));
    if (r.status === 200) download('plan.md', r.text + decisionsMarkdown(), 'text/markdown');
    else $('record-status').textContent = 'No markdown: ' + errorText(r);
  });
  $('save-file').addEventListener('click', () => {
    if (refuseInvalid($('form-status'))) return;
    download('findings.toml', toToml(collect()), 'application/toml');
  });
  $('clear-form').addEventListener('click', () => { state.decisions = {}; buildForm(); changed(); });
  $('load-file').addEventListener('change', async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    const text = await file.text();
    const json = file.name.toLowerCase().endsWith('.json');
    const r = await api('POST', '/api/findings', text, json ? 'application/json' : 'application/toml');
    if (r.status !== 200) { $('form-status').textContent = file.name + ' was not loaded: ' + errorText(r); return; }
    state.decisions = {};
    fill(r.json.findings);
    $('form-status').textContent = file.name + ' loaded into the form.';
  });
  start();
});
