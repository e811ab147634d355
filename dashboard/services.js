// services.js - service definitions (image, command, environment, ports),
// how many run against how many are wanted, a scale control, and a form
// to define a new one.  Each service's can says what it offers.

import * as api from './api.js';
import { h, cell, table, clear, empty, alertBox, toast, errorText, field, shellJoin, confirmDialog, FieldError, poller, busy, onSubmit } from './ui.js';
import { follow } from './events.js';
import { checkName, checkImage, checkServicePorts, readEnv } from './spec.js';

const POLL_MS = 5000;
const SVC_NAME_MAX = 57; // src/services.h: room for "-<n>" in replica names

export async function servicesView(ctx) {
  const { app, main } = ctx;
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading services…'));
  const showError = (e, what) => clear(errBox, alertBox(e, what));
  const define = app.me.can.define_services ? newServiceForm(app.me, () => load()) : null;
  main.append(h('div.head', h('h1', 'Services')),
    h('p.hint', 'A service keeps a number of identical containers running. Scale it to change how many.'),
    errBox, body);
  if (define) main.append(define);

  // GET /services is a map name -> definition; each one's status is its own request.
  const fetchAll = async () => {
    const list = Object.values(await api.get('/services')).sort((a, b) => a.name.localeCompare(b.name));
    const status = await Promise.all(list.map((s) => api.get('/services/' + api.enc(s.name) + '/status').catch((e) => ({ error: e }))));
    return { list, status };
  };
  const load = poller(ctx, POLL_MS, fetchAll, ({ list, status }) => {
    renderServices(body, list, status, define, load, showError);
  }, (e) => showError(e, 'Could not list services'), follow(ctx, ['service'], () => load()));
  await load();
}

function renderServices(body, list, status, define, reload, showError) {
  // Leave a scale field alone while someone is typing in it.
  const active = document.activeElement;
  if (active && body.contains(active) && active.matches('input')) return;
  if (!list.length) {
    // The form is where the text says it is, and open.
    if (define) define.open = true;
    clear(body, empty(h('p', h('strong', 'No services defined.')),
      define ? 'Define one with the form below, then scale it up.' : 'An operator or admin defines services.'));
    return;
  }
  const rows = list.map((s, i) => {
    const st = status[i];
    const heading = 'svc-name-' + i;
    const ok = !st.error && st.running_resources === st.desired;
    return h('tr', { dataset: { service: s.name } },
      cell('Name', h('strong', { id: heading }, s.name)),
      cell('Image', h('code', s.image)),
      cell('Command', s.command ? h('code', shellJoin(s.command)) : h('span.muted', 'default')),
      cell('Running',
        st.error ? h('span.muted', { title: errorText(st.error) }, 'unknown')
          : h('span.pill', { class: ok ? 'state-running' : 'state-restarting', dataset: { running: String(st.running_resources) } }, `${st.running_resources} of ${st.desired}`)),
      cell('Owner', s.owner || h('span.muted', '—')),
      cell('!Scale', s.can.scale || s.can.remove ? scaleControl(s, heading, reload, showError) : h('span.muted', 'read only')));
  });
  clear(body, table('services', ['Name', 'Image', 'Command', 'Running', 'Owner', 'Scale'], rows));
}

// Scale and delete for service S, as far as s.can allows, described by the
// element HEADING (its name); a failure is shown once, in the view's error box.
function scaleControl(s, heading, reload, showError) {
  const n = h('input.narrow', { type: 'number', min: '0', max: '1000', value: String(s.desired), id: 'scale-' + heading, dataset: { field: 'number' }, 'aria-describedby': heading });
  const go = h('button.btn', { type: 'submit', dataset: { action: 'scale' }, 'aria-describedby': heading }, 'Scale');
  const rm = h('button.btn.danger', { type: 'button', dataset: { action: 'delete' }, 'aria-describedby': heading }, 'Delete');
  const form = h('form.row.inline', { novalidate: true },
    s.can.scale ? [h('label', { for: n.id }, 'Replicas'), n, go] : null, s.can.remove ? rm : null);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      if (!/^\d+$/.test(n.value)) throw new FieldError('number', 'give a whole number of containers');
      await busy(form, () => api.post('/services/' + api.enc(s.name) + '/scale', { number: Number(n.value) }));
      toast(`Scaled ${s.name} to ${n.value}`);
      n.blur();
      reload();
    } catch (e) {
      showError(e, `Could not scale ${s.name}`);
    }
  });
  rm.addEventListener('click', async () => {
    if (!(await confirmDialog(`Delete the service ${s.name} and stop its containers?`, 'Delete'))) return;
    try {
      await busy(form, () => api.del('/services/' + api.enc(s.name)));
      toast(`Deleted ${s.name}`);
      reload();
    } catch (e) {
      showError(e, `Could not delete ${s.name}`);
    }
  });
  return form;
}

function newServiceForm(me, reload) {
  const text = (f, placeholder) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: f }, placeholder });
  const name = text('name');
  const image = text('image', 'name:tag');
  const command = text('command', "the image's default");
  const env = h('textarea', { rows: 2, spellcheck: 'false', dataset: { field: 'environment' }, placeholder: 'KEY=value, one per line' });
  const ports = text('ports', 'e.g. 8080, 53/udp');
  const form = h('form.form#service-form', { novalidate: true },
    field('Name', name), field('Image', image, 'With its tag (name:tag).'), field('Command', command, 'Split like a shell would.'),
    field('Environment', env, 'One KEY=value per line.'),
    field('Container ports', ports, 'Comma-separated, e.g. 8080 or 53/udp; host ports are chosen for you.'),
    h('div.row', h('button.btn.primary', { type: 'submit', dataset: { action: 'define' } }, 'Define service')));
  onSubmit(form, async () => {
    const errs = [];
    const b = { name: name.value.trim(), image: image.value.trim() };
    if (!b.name) errs.push(new FieldError('name', 'give the service a name'));
    checkName(errs, 'name', b.name, SVC_NAME_MAX);
    checkImage(errs, 'image', b.image, me);
    if (command.value.trim()) b.command = command.value.trim();
    const environment = readEnv(errs, 'environment', env.value);
    if (Object.keys(environment).length) b.environment = environment;
    const p = ports.value.split(',').map((x) => x.trim()).filter(Boolean);
    checkServicePorts(errs, 'ports', p);
    if (p.length) b.ports = p; // seed 004's shape: ["8080", "53/udp"]
    if (errs.length) throw errs;
    await api.post('/services', b);
    toast(`Defined ${b.name}; scale it to start containers`);
    form.reset();
    reload();
  });
  return h('details.card', h('summary', 'Define a new service'), form);
}
