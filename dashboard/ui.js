// ui.js - small DOM helpers shared by the views: an element builder (text
// is always set as text, never parsed as HTML), tables, formatting, the one
// busy() for anything that waits on berth, toasts, the confirm dialog, and
// form errors placed next to the field they name.

// h('tag.class#id', {attrs, on: {click}}, ...children)
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  const el = document.createElement(m && m[1] ? m[1] : 'div');
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  if (attrs !== null && attrs !== undefined && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (k === 'class') {
      for (const c of String(v).split(/\s+/).filter(Boolean)) el.classList.add(c);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'value' || (k in el && typeof v !== 'string')) {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : v);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// SVG elements need their namespace.
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// --- tables -------------------------------------------------------------------

// A table cell with its column name for the phone layout (one wrapper, so
// the label and the content stay two grid items).  A label starting with
// "!" marks the actions cell.
export function cell(label, ...children) {
  const cls = label.startsWith('!') ? 'actions' : null;
  const name = cls ? label.slice(1) : label;
  return h('td', { class: cls, 'data-label': name }, h('div.cell', children));
}

// table('grid.containers', ['Name', ...], rows) -> the scrolling wrapper
// around a table with those column heads and <tr> rows.
export function table(cls, heads, rows) {
  return h('div.table-wrap', h('table.grid', { class: cls },
    h('thead', h('tr', heads.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', rows)));
}

// Text that may be too long for its cell: one line, cut with an ellipsis,
// the whole of it in the title (shown on hover, read by screen readers).
export function clip(tag, text) {
  return h(tag + '.clip', { title: text }, text);
}

// An empty list or page: what there is not, and what to do next.
export function empty(...paras) {
  return h('div.empty', paras.map((p) => (p instanceof Node ? p : h('p', p))));
}

// --- formatting -------------------------------------------------------------

const UNITS = [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]];

// Bytes the way berth reads sizes ("512m", "2g", "64k"): exact when the size
// is a whole number of megabytes or gigabytes (limits), else rounded in the
// largest unit that fits (a measured amount).
export function size(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  const v = Number(n);
  for (const [unit, mul] of UNITS.slice(0, 2)) if (v >= mul && v % mul === 0) return v / mul + unit;
  for (const [unit, mul] of UNITS) {
    if (v >= mul) {
      const x = v / mul;
      return (x < 100 ? String(Math.round(x * 10) / 10) : String(Math.round(x))) + unit;
    }
  }
  return v + 'b';
}

// A time (epoch seconds, epoch ms or an ISO string) as a Date, or null.
export function toDate(t) {
  if (t === null || t === undefined || t === '') return null;
  if (typeof t === 'number') return new Date(t < 1e12 ? t * 1000 : t);
  const d = new Date(t);
  // dockerd uses year 1 for "never".
  return Number.isNaN(d.getTime()) || d.getFullYear() < 1971 ? null : d;
}

export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

export function since(t) {
  const d = toDate(t);
  return d ? duration((Date.now() - d.getTime()) / 1000) : '—';
}

export function when(t) {
  const d = toDate(t);
  return d ? d.toLocaleString() : '—';
}

// A command array as one line a shell (and berth's splitter) reads back.
export function shellJoin(argv) {
  if (!Array.isArray(argv)) return argv ? String(argv) : '';
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : '"' + a.replace(/(["\\])/g, '\\$1') + '"')).join(' ');
}

// --- refresh loops ------------------------------------------------------------

// A view's refresh loop: FETCH, then SHOW what it returned, every MS while the
// view is open.  After a failure FAIL(e) shows it and the loop retries at
// twice the interval.  SHOW or FAIL returning false ends the loop (the object
// is gone, the job has finished).  LIVE (optional, events.js follow) says
// when the event stream keeps the view current: then no timer runs, and
// the stream calls the returned function.  Returns the function that
// refreshes now.
export function poller(ctx, ms, fetch, show, fail, live) {
  let timer = null;
  const run = async () => {
    clearTimeout(timer);
    let data;
    try {
      data = await fetch();
    } catch (e) {
      if (ctx.stopped || fail(e) === false) return;
      timer = setTimeout(run, ms * 2);
      return;
    }
    if (ctx.stopped || (await show(data)) === false || ctx.stopped) return;
    if (!(live && live())) timer = setTimeout(run, ms);
  };
  ctx.onStop(() => clearTimeout(timer));
  return run;
}

// busy(el, fn): runs fn() with EL (a button, or a form and every button in
// it) disabled and marked aria-busy until it settles; returns what fn returns.
export async function busy(el, fn) {
  const buttons = el.matches('form') ? [...el.querySelectorAll('button')] : [el];
  for (const b of buttons) b.disabled = true;
  el.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    for (const b of buttons) b.disabled = false;
    el.removeAttribute('aria-busy');
  }
}

// --- toasts, alerts, confirm ---------------------------------------------------

// A short notice that something worked.  Failures are shown where they
// happened (alertBox, field errors), once, never as a toast.
export function toast(text) {
  const box = document.getElementById('toasts');
  const t = h('div.toast', text);
  box.append(t);
  setTimeout(() => t.remove(), 4000);
}

// Notices belong to the page they were raised on: the router calls this.
export function clearToasts() {
  document.getElementById('toasts').replaceChildren();
}

export function errorText(e) {
  return e && e.text ? e.text : String(e && e.message ? e.message : e);
}

// A message box inside a view: shows an error in words (never swallowed).
export function alertBox(e, prefix) {
  return h('div.alert', { role: 'alert' }, prefix ? prefix + ': ' : '', errorText(e));
}

export function confirmDialog(text, okLabel = 'Confirm') {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.returnValue = '';
    dlg.showModal();
  });
}

// --- forms ---------------------------------------------------------------------

// An error found before sending, shaped like berth's (field + message).
export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
    this.status = 0;
    this.code = 'invalid';
  }
  get text() {
    return this.message;
  }
}

// Label + control + a slot for this field's error, linked for screen readers.
// The label is the control's whole accessible name.
let fieldSeq = 0;
export function field(label, control, hint) {
  const id = control.id || 'f' + ++fieldSeq;
  control.id = id;
  const err = h('p.field-error', { id: id + '-err', hidden: true });
  const hintEl = hint ? h('p.hint', { id: id + '-hint' }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl ? hintEl.id : null, err.id].filter(Boolean).join(' '));
  return h('div.field', h('label', { for: id }, label), control, hintEl, err);
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  for (const top of form.querySelectorAll('.form-error')) top.remove();
}

// Finds the control for berth's field path: exact data-field, else the
// nearest ancestor path ("env.A" -> "env"), else the first control under it
// ("ports[0]" -> "ports[0].container").
const LAST_STEP = /(\.[^.[\]]*|\[\d+\])$/;
function controlFor(form, path) {
  const all = [...form.querySelectorAll('[data-field]')];
  for (let p = path; p; p = p.replace(LAST_STEP, '')) {
    const hit = all.find((c) => c.dataset.field === p) || all.find((c) => c.dataset.field.startsWith(p + '.') || c.dataset.field.startsWith(p + '['));
    if (hit) return hit;
    if (!LAST_STEP.test(p)) break;
  }
  return null;
}

// showErrors(form, errors): each beside the field it names (else at the top
// of the form), all at once; the first control in error gets the focus.
export function showErrors(form, errors) {
  let first = null;
  for (const e of errors) {
    const control = e && e.field ? controlFor(form, e.field) : null;
    const slot = control ? document.getElementById(control.id + '-err') : null;
    if (slot) {
      slot.textContent = slot.textContent ? slot.textContent + '; ' + errorText(e) : errorText(e);
      slot.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      first = first || control;
    } else {
      form.prepend(h('div.alert.form-error', { role: 'alert' }, errorText(e)));
    }
  }
  if (first) first.focus();
}

// onSubmit(form, run): on submit, clears the old errors and runs run()
// busy(); a thrown list of FieldErrors (or one error, from berth) is
// shown at its fields.
export function onSubmit(form, run) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await busy(form, run);
    } catch (e) {
      showErrors(form, Array.isArray(e) ? e : [e]);
    }
  });
}
