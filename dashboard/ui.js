// ui.js - small DOM helpers shared by the views: an element builder (text
// is always set as text, never parsed as HTML), formatting, toasts, the
// confirm dialog, and form errors placed next to the field they name.

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

// A table cell with its column name for the phone layout (one wrapper, so
// the label and the content stay two grid items).
export function cell(label, ...children) {
  const cls = label.startsWith('!') ? 'actions' : null;
  const name = cls ? label.slice(1) : label;
  return h('td', { class: cls, 'data-label': name }, h('div.cell', children));
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

// --- formatting -------------------------------------------------------------

export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + units[i];
}

// A time (epoch seconds, epoch ms or an ISO string) as a Date, or null.
export function toDate(t) {
  if (t === null || t === undefined || t === '') return null;
  if (typeof t === 'number') return new Date(t < 1e12 ? t * 1000 : t);
  if (/^\d+$/.test(t)) return toDate(Number(t));
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

// "KEY=value" lines <-> {KEY: value}
export function envToText(env) {
  if (Array.isArray(env)) return env.join('\n');
  if (env && typeof env === 'object') return Object.entries(env).map(([k, v]) => k + '=' + v).join('\n');
  return '';
}

export function textToEnv(text) {
  const env = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new FieldError('env', `"${line}" is not KEY=value`);
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

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

// --- refresh loops ------------------------------------------------------------

// A view's refresh loop: FETCH, then SHOW what it returned, every MS while the
// view is open.  After a failure FAIL(e) shows it and the loop retries at
// twice the interval.  SHOW or FAIL returning false ends the loop (the object
// is gone, the job has finished).  Returns the function that refreshes now.
export function poller(ctx, ms, fetch, show, fail) {
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
    timer = setTimeout(run, ms);
  };
  ctx.onStop(() => clearTimeout(timer));
  return run;
}

// --- toasts, banners, confirm ------------------------------------------------

export function toast(text, kind = 'ok') {
  const box = document.getElementById('toasts');
  const t = h('div.toast', { class: kind, role: kind === 'error' ? 'alert' : null }, text);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 9000 : 4000);
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

// Label + control + a slot for this field's error, linked for screen readers.
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
  const top = form.querySelector('.form-error');
  if (top) top.remove();
}

// Finds the control for berth's field path: exact data-field, else the
// nearest ancestor path ("env.A" -> "env"), else the first control under it
// ("ports[0]" -> "ports[0].container").
function controlFor(form, path) {
  const all = [...form.querySelectorAll('[data-field]')];
  for (let p = path; p; p = p.replace(/(\.[^.[\]]*|\[\d+\])$/, '')) {
    const hit = all.find((c) => c.dataset.field === p) || all.find((c) => c.dataset.field.startsWith(p + '.') || c.dataset.field.startsWith(p + '['));
    if (hit) return hit;
    if (!/(\.[^.[\]]*|\[\d+\])$/.test(p)) break;
  }
  return null;
}

// showError(form, e): next to the named field when there is one, else at the top.
export function showError(form, e) {
  const control = e && e.field ? controlFor(form, e.field) : null;
  if (control) {
    const slot = document.getElementById(control.id + '-err');
    if (slot) {
      slot.textContent = errorText(e);
      slot.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      control.focus();
      return;
    }
  }
  form.prepend(h('div.alert.form-error', { role: 'alert' }, errorText(e)));
}
