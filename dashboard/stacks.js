// stacks.js - compose files as owned applications: the caller's stacks with
// each service's state (and compose projects berth did not deploy), one
// stack's services, containers and merged logs, and a file editor that
// deploys, updates and takes down.  berth's refusals name the key path and
// the line (services.web.privileged, line 4): the editor shows them beside
// the file and selects that line.

import * as api from './api.js';
import { h, cell, table, clear, empty, alertBox, toast, field, confirmDialog, FieldError, poller, busy, onSubmit, when } from './ui.js';
import { follow } from './events.js';

const POLL_MS = 5000;
const STACK_RE = /^[a-z0-9][a-z0-9_-]*$/;
const STACK_MAX = 24; // src/res/compose.h CP_STACK_MAX

const EXAMPLE = `services:
  web:
    image: berth-test/busybox:1
    command: [httpd, -f, -p, "8080"]
    ports: ["8080"]
`;

export async function stacksView(ctx) {
  const { app, main } = ctx;
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading stacks…'));
  const showError = (e, what) => clear(errBox, alertBox(e, what));
  const operator = app.me.can.manage_stacks;
  main.append(h('div.head', h('h1', 'Stacks')),
    h('p.hint', 'A stack is a compose file run as one application: its services are made as your containers, dependencies first.'),
    errBox, body);
  if (operator) main.append(h('details.card', h('summary', 'Deploy a stack'), editor(null, (res) => app.go('#/stacks/' + api.enc(res.name)))));
  const load = poller(ctx, POLL_MS, () => api.get('/stacks'), (res) => renderStacks(body, res.stacks, operator, () => load(), showError),
    (e) => showError(e, 'Could not list stacks'), follow(ctx, ['container'], () => load()));
  await load();
}

// "web 1/1 · db 0/1" for a stack's services.
function servicesText(services) {
  return Object.entries(services).map(([name, s]) => `${name} ${s.running}/${s.replicas}`).join(' · ');
}

function statusPill(status) {
  const cls = status === 'running' ? 'state-running' : status === 'partial' ? 'state-restarting' : 'state-exited';
  return h('span.pill', { class: cls, dataset: { status } }, status);
}

function renderStacks(body, list, operator, reload, showError) {
  if (!list.length) {
    clear(body, empty(h('p', h('strong', 'No stacks.')),
      operator ? 'Deploy one with the form below: paste a compose file.' : 'An operator or admin deploys stacks.'));
    return;
  }
  list.sort((a, b) => a.name.localeCompare(b.name) || a.owner.localeCompare(b.owner));
  const rows = list.map((s, i) => {
    const heading = 'stack-name-' + i;
    return h('tr', { dataset: { stack: s.name } },
      cell('Name', s.managed ? h('a', { id: heading, href: '#/stacks/' + api.enc(s.name) }, h('strong', s.name))
        : h('strong', { id: heading }, s.name), s.managed ? null : h('span.muted', ' (compose, not deployed by berth)')),
      cell('Status', statusPill(s.status)),
      cell('Services', servicesText(s.services)),
      cell('Owner', s.owner),
      cell('Updated', s.updated ? when(s.updated) : h('span.muted', '—')),
      cell('!Actions', operator && s.managed ? downButton(s.name, heading, reload, showError) : h('span.muted', 'read only')));
  });
  clear(body, table('stacks', ['Name', 'Status', 'Services', 'Owner', 'Updated', 'Actions'], rows));
}

function downButton(name, heading, done, showError) {
  const rm = h('button.btn.danger', { type: 'button', dataset: { action: 'down' }, 'aria-describedby': heading }, 'Take down');
  rm.addEventListener('click', async () => {
    if (!(await confirmDialog(`Take the stack ${name} down? Its containers and networks are removed; its named volumes are kept.`, 'Take down'))) return;
    try {
      const res = await busy(rm, () => api.del('/stacks/' + api.enc(name)));
      toast(`Took ${name} down (${(res.removed || []).length} containers removed)`);
      done();
    } catch (e) {
      showError(e, `Could not take ${name} down`);
    }
  });
  return rm;
}

// KEY=value lines into {KEY: value}; FieldErrors into ERRS.
function readVariables(errs, text) {
  const out = {};
  text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).forEach((l) => {
    const eq = l.indexOf('=');
    const k = eq > 0 ? l.slice(0, eq) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) errs.push(new FieldError('variables', `"${l}" is not KEY=value`));
    else out[k] = l.slice(eq + 1);
  });
  return out;
}

// Selects line N of textarea TA (1-based) and scrolls it into view.
function selectLine(ta, n) {
  const lines = ta.value.split('\n');
  if (!n || n > lines.length) return;
  const start = lines.slice(0, n - 1).reduce((k, l) => k + l.length + 1, 0);
  ta.setSelectionRange(start, start + lines[n - 1].length);
  ta.scrollTop = Math.max(0, (n - 3) * (ta.scrollHeight / lines.length));
}

// The form that deploys (STACK null) or updates STACK: name, file, variables.
// A refusal at a key of the file is shown beside the file, with its line.
function editor(stack, done) {
  const name = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: 'name' }, value: stack ? stack.name : '' });
  const file = h('textarea.code', { rows: 18, spellcheck: 'false', dataset: { field: 'file' }, wrap: 'off' });
  file.value = stack ? stack.file || JSON.stringify(stack.compose, null, 2) : EXAMPLE;
  const vars = h('textarea', { rows: 3, spellcheck: 'false', dataset: { field: 'variables' }, placeholder: 'KEY=value, one per line' });
  if (stack && stack.variables.length) vars.value = stack.variables.map((k) => k + '=').join('\n');
  const go = h('button.btn.primary', { type: 'submit', dataset: { action: stack ? 'update' : 'deploy' } }, stack ? 'Update' : 'Deploy');
  const form = h('form.form.stack-form', { novalidate: true },
    stack ? null : field('Name', name, 'Lower-case letters, digits, _ and -; at most 24.'),
    field('Compose file', file, 'YAML (or JSON). Keys outside berth\'s compose subset are refused, naming the key.'),
    field('Variables', vars, stack ? 'Values for ${VAR} in the file; berth shows their names only, so give the values again.' : 'Values for ${VAR} in the file, one KEY=value per line.'),
    h('div.row', go));
  onSubmit(form, async () => {
    const errs = [];
    const b = { file: file.value };
    if (!stack) {
      b.name = name.value.trim();
      if (!STACK_RE.test(b.name) || b.name.length > STACK_MAX) errs.push(new FieldError('name', 'a stack name is 1 to 24 lower-case letters, digits, _ or -'));
    }
    if (!b.file.trim()) errs.push(new FieldError('file', 'paste a compose file'));
    b.variables = readVariables(errs, vars.value);
    if (errs.length) throw errs;
    let res;
    try {
      res = stack ? await api.put('/stacks/' + api.enc(stack.name) + '?timeout=5', b) : await api.post('/stacks', b);
    } catch (e) {
      throw atKey(e, file);
    }
    const c = res.changes || {};
    toast(`${res.name}: ${(c.created || []).length} created, ${(c.kept || []).length} kept, ${(c.removed || []).length} removed`);
    done(res);
  });
  return form;
}

// berth's error about a key of the file ("services.web.privileged", line 4)
// shown at the file, the line selected; others as they are.
function atKey(e, file) {
  if (!e.field || ['name', 'variables', 'owner'].includes(e.field)) return e;
  if (e.line) selectLine(file, e.line);
  const where = [e.line ? 'line ' + e.line : null, e.field !== 'file' ? e.field : null].filter(Boolean).join(', ');
  const msg = e.message.startsWith(e.field + ': ') ? e.message.slice(e.field.length + 2) : e.message;
  const fe = new FieldError('file', (where ? where + ': ' : '') + msg);
  fe.status = e.status;
  return fe;
}

export async function stackView(ctx) {
  const { app, main, params } = ctx;
  const name = params[0];
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading…'));
  const logs = h('pre.logs', { tabindex: '0', 'aria-label': 'Logs' });
  const showError = (e, what) => clear(errBox, alertBox(e, what));
  const operator = app.me.can.manage_stacks;
  let stack = null;
  main.append(h('div.head', h('h1', 'Stack ', h('code', name)), h('a.btn', { href: '#/stacks' }, 'All stacks')), errBox, body);
  const edit = h('details.card', h('summary', 'Edit the file'));
  const refreshLogs = h('button.btn', { type: 'button', dataset: { action: 'logs' } }, 'Refresh logs');
  main.append(operator ? edit : '', h('section', h('div.head', h('h2', 'Logs'), refreshLogs), logs));
  const loadLogs = async () => {
    try {
      logs.textContent = (await busy(refreshLogs, () => api.text('/stacks/' + api.enc(name) + '/logs?tail=200'))) || '(no output yet)';
    } catch (e) {
      logs.textContent = '';
      showError(e, 'Could not read the logs');
    }
  };
  refreshLogs.addEventListener('click', loadLogs);
  const load = poller(ctx, POLL_MS, () => api.get('/stacks/' + api.enc(name)), (s) => {
    const first = stack === null;
    stack = s;
    renderStack(body, s, operator, () => app.go('#/stacks'), showError);
    if (first && operator) edit.append(editor(s, () => { load(); loadLogs(); }));
  }, (e) => {
    if (e.missing) clear(body, h('p', 'There is no stack named ', h('code', name), '. ', h('a', { href: '#/stacks' }, 'Back to the stacks.')));
    else showError(e, 'Could not read the stack');
    return e.missing ? false : undefined;
  }, follow(ctx, ['container'], () => load()));
  await load();
  loadLogs();
}

function renderStack(body, s, operator, gone, showError) {
  const rows = [];
  for (const svc of s.order || Object.keys(s.services)) {
    const v = s.services[svc];
    if (!v) continue;
    const cts = (v.containers || []).map((c) => h('a', { href: '#/containers/' + api.enc(c.name) }, c.name, ' ', h('span.muted', `(${c.status || c.state})`)))
      .flatMap((a, k) => (k ? [', ', a] : [a]));
    rows.push(h('tr', { dataset: { service: svc } },
      cell('Service', h('strong', svc)),
      cell('Image', h('code', v.image || '')),
      cell('Running', `${v.running} of ${v.replicas}`),
      cell('Containers', ...(cts.length ? cts : [h('span.muted', 'none')]))));
  }
  clear(body,
    h('p', statusPill(s.status), ' owned by ', h('strong', s.owner), s.updated ? [' · updated ', when(s.updated)] : null),
    table('stack-services', ['Service', 'Image', 'Running', 'Containers'], rows),
    operator ? h('div.row', downButton(s.name, null, gone, showError)) : null);
}
