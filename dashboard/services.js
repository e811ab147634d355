// services.js - service definitions (image, command, environment, ports),
// how many run against how many are wanted, a scale control, and a form
// to define a new one.

import * as api from './api.js';
import { h, cell, clear, alertBox, toast, errorText, field, clearErrors, showError, textToEnv, shellJoin, confirmDialog, FieldError, poller } from './ui.js';
import { notAvailable } from './catalog.js';

const POLL_MS = 5000;

function serviceList(data) {
  if (!data) return [];
  const list = data.services || data;
  if (Array.isArray(list)) return list;
  return Object.entries(list).map(([name, d]) => ({ name, ...d }));
}

export async function servicesView(ctx) {
  const { app, main } = ctx;
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading services…'));
  const newBox = h('div');
  main.append(h('div.head', h('h1', 'Services')),
    h('p.hint', 'A service keeps a number of identical containers running. Scale it to change how many.'),
    errBox, body, newBox);
  ctx.showError = (e, prefix) => clear(errBox, alertBox(e, prefix));

  let shown = false;
  const fetchAll = async () => {
    const list = serviceList(await api.get('/services')).sort((a, b) => a.name.localeCompare(b.name));
    const status = await Promise.all(list.map((s) => api.get('/services/' + api.enc(s.name) + '/status').catch((e) => ({ error: e }))));
    return { list, status };
  };
  const load = poller(ctx, POLL_MS, fetchAll, ({ list, status }) => {
    clear(errBox);
    renderServices(body, list, status, ctx, load);
    if (!shown && app.atLeast('operator')) {
      shown = true;
      newBox.append(newServiceForm(ctx, load));
    }
  }, (e) => {
    if (e.missing) {
      clear(body, notAvailable('Services are'));
      return false;
    }
    clear(errBox, alertBox(e, 'Could not list services'));
  });
  await load();
}

function renderServices(body, list, status, ctx, reload) {
  const { app } = ctx;
  // Leave a scale field alone while someone is typing in it.
  const active = document.activeElement;
  if (active && body.contains(active) && active.matches('input')) return;
  if (!list.length) {
    clear(body, h('div.empty', h('p', h('strong', 'No services defined.')),
      h('p', app.atLeast('operator') ? 'Define one with the form below, then scale it up.' : 'An operator or admin defines services.')));
    return;
  }
  const rows = list.map((s, i) => {
    const st = status[i] || {};
    const running = st.error ? null : st.running_resources ?? st.running;
    const desired = st.error ? s.desired : st.desired ?? s.desired;
    const ok = running !== null && running !== undefined && Number(running) === Number(desired ?? 0);
    return h('tr', { dataset: { service: s.name } },
      cell('Name', h('strong', s.name)),
      cell('Image', h('code', s.image || '—')),
      cell('Command', s.command ? h('code', shellJoin(s.command)) : h('span.muted', 'default')),
      cell('Running',
        st.error ? h('span.muted', { title: errorText(st.error) }, 'unknown')
          : h('span.pill', { class: ok ? 'state-running' : 'state-restarting', dataset: { running: String(running ?? '') } }, `${running ?? '?'} of ${desired ?? 0}`)),
      cell('Owner', s.owner || h('span.muted', '—')),
      cell('!Scale', app.canManage(s) ? scaleControl(s, desired, ctx, reload) : h('span.muted', 'read only')));
  });
  clear(body, h('div.table-wrap', h('table.grid',
    h('thead', h('tr', ['Name', 'Image', 'Command', 'Running', 'Owner', 'Scale'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', rows))));
}

function scaleControl(s, desired, ctx, reload) {
  const n = h('input', { type: 'number', min: '0', max: '100', value: String(desired ?? 0), 'aria-label': `number of ${s.name} containers`, class: 'narrow', dataset: { field: 'number' } });
  const go = h('button.btn', { type: 'submit', dataset: { action: 'scale' } }, 'Scale');
  const rm = h('button.btn.danger', { type: 'button', dataset: { action: 'delete' }, 'aria-label': `delete service ${s.name}` }, 'Delete');
  const form = h('form.row.inline', { novalidate: true }, n, go, rm);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    go.disabled = true;
    try {
      if (!/^\d+$/.test(n.value)) throw new FieldError('number', 'give a whole number of containers');
      await api.post('/services/' + api.enc(s.name) + '/scale', { number: Number(n.value) });
      toast(`Scaled ${s.name} to ${n.value}`);
      n.blur();
      reload();
    } catch (e) {
      toast(`Could not scale ${s.name}: ${errorText(e)}`, 'error');
      ctx.showError(e, `Could not scale ${s.name}`);
    } finally {
      go.disabled = false;
    }
  });
  rm.addEventListener('click', async () => {
    if (!(await confirmDialog(`Delete the service ${s.name} and stop its containers?`, 'Delete'))) return;
    try {
      await api.del('/services/' + api.enc(s.name));
      toast(`Deleted ${s.name}`);
      reload();
    } catch (e) {
      ctx.showError(e, `Could not delete ${s.name}`);
    }
  });
  return form;
}

function newServiceForm(ctx, reload) {
  const name = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: 'name' } });
  const image = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: 'image' }, placeholder: 'name:tag' });
  const command = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: 'command' }, placeholder: "the image's default" });
  const env = h('textarea', { rows: 2, spellcheck: 'false', dataset: { field: 'environment' }, placeholder: 'KEY=value, one per line' });
  const ports = h('input', { type: 'text', autocomplete: 'off', dataset: { field: 'ports' }, placeholder: 'e.g. 8080, 9090' });
  const submit = h('button.btn.primary', { type: 'submit', dataset: { action: 'define' } }, 'Define service');
  const form = h('form.form#service-form', { novalidate: true },
    field('Name', name), field('Image', image), field('Command', command, 'Split like a shell would.'),
    field('Environment', env), field('Container ports', ports, 'Comma-separated; host ports are chosen for you.'),
    h('div.row', submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    try {
      const b = { name: name.value.trim(), image: image.value.trim() };
      if (command.value.trim()) b.command = command.value.trim();
      let environment;
      try {
        environment = textToEnv(env.value);
      } catch (e) {
        throw new FieldError('environment', e.message);
      }
      if (Object.keys(environment).length) b.environment = environment;
      const p = ports.value.split(',').map((x) => x.trim()).filter(Boolean);
      if (p.some((x) => !/^\d+$/.test(x))) throw new FieldError('ports', 'ports are numbers separated by commas');
      if (p.length) b.ports = p; // seed 004's shape: ["8080"]
      await api.post('/services', b);
      toast(`Defined ${b.name}; scale it to start containers`);
      form.reset();
      reload();
    } catch (e) {
      showError(form, e);
    } finally {
      submit.disabled = false;
    }
  });
  return h('details.card', h('summary', 'Define a new service'), form);
}
