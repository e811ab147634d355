// volumes.js - the caller's volumes (and their groups'): owner, size where
// dockerd measures it, the containers using each, remove (forced when in
// use, which removes those containers too), prune, and a form to make one.

import * as api from './api.js';
import { h, cell, table, clear, empty, alertBox, toast, field, confirmDialog, FieldError, poller, busy, onSubmit, size, when } from './ui.js';
import { follow } from './events.js';
import { checkName } from './spec.js';

const POLL_MS = 10000; // sizes come from dockerd's disk usage walk: not every few seconds

export async function volumesView(ctx) {
  const { app, main } = ctx;
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading volumes…'));
  const showError = (e, what) => clear(errBox, alertBox(e, what));
  const operator = app.me.can.manage_volumes;
  let load = null;
  const prune = operator ? h('button.btn', { type: 'button', dataset: { action: 'prune' } }, 'Remove unused') : null;
  main.append(h('div.head', h('h1', 'Volumes'), prune),
    h('p.hint', 'A volume keeps data across containers. Its name is yours alone: another user naming the same volume gets one of their own.'),
    errBox, body);
  if (operator) main.append(newVolumeForm(() => load()));
  if (prune) {
    prune.addEventListener('click', async () => {
      if (!(await confirmDialog('Remove every volume of yours that no container uses?', 'Remove unused'))) return;
      try {
        const res = await busy(prune, () => api.post('/volumes/prune'));
        toast(res.removed.length ? `Removed ${res.removed.join(', ')} (${size(res.space_reclaimed)})` : 'No unused volumes');
        load();
      } catch (e) {
        showError(e, 'Could not remove unused volumes');
      }
    });
  }
  load = poller(ctx, POLL_MS, () => api.get('/volumes'), (res) => {
    renderVolumes(body, res.volumes, app, () => load(), showError);
  }, (e) => showError(e, 'Could not list volumes'), follow(ctx, ['volume'], () => load()));
  await load();
}

function renderVolumes(body, list, app, reload, showError) {
  if (!list.length) {
    clear(body, empty(h('p', h('strong', 'No volumes.')),
      'Make one with the form below, or name one in a container\'s mounts: it is made for you on first use.'));
    return;
  }
  list.sort((a, b) => a.name.localeCompare(b.name));
  const rows = list.map((v, i) => {
    const heading = 'vol-name-' + i;
    const users = v.containers.length
      ? v.containers.map((c) => h('a', { href: '#/containers/' + api.enc(c.name) }, c.name))
        .flatMap((a, k) => (k ? [', ', a] : [a]))
      : [h('span.muted', v.in_use ? 'in use' : 'none')];
    return h('tr', { dataset: { volume: v.name } },
      cell('Name', h('strong', { id: heading, title: v.docker_name }, v.name),
        v.anonymous ? h('span.muted', ' (anonymous)') : null),
      cell('Size', v.size === null ? h('span.muted', { title: 'dockerd did not measure it' }, '—') : size(v.size)),
      cell('Used by', ...users),
      cell('Owner', v.owner || h('span.muted', '—')),
      cell('Created', when(v.created)),
      cell('!Actions', (app.me.can.manage_volumes && v.managed !== false) ? removeButton(v, heading, reload, showError) : h('span.muted', 'read only')));
  });
  clear(body, table('volumes', ['Name', 'Size', 'Used by', 'Owner', 'Created', 'Actions'], rows));
}

function removeButton(v, heading, reload, showError) {
  const rm = h('button.btn.danger', { type: 'button', dataset: { action: 'delete' }, 'aria-describedby': heading }, 'Remove');
  rm.addEventListener('click', async () => {
    const names = v.containers.map((c) => c.name).join(', ');
    const text = v.in_use
      ? `Volume ${v.name} is used by ${names || 'containers'}. Remove those containers and the volume with its data?`
      : `Remove the volume ${v.name} and its data?`;
    if (!(await confirmDialog(text, 'Remove'))) return;
    try {
      await busy(rm, () => api.del('/volumes/' + api.enc(v.name) + (v.in_use ? '?force=1' : '')));
      toast(`Removed ${v.name}`);
      reload();
    } catch (e) {
      showError(e, `Could not remove ${v.name}`);
    }
  });
  return rm;
}

function newVolumeForm(reload) {
  const name = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: 'name' } });
  const form = h('form.form#volume-form', { novalidate: true },
    field('Name', name, 'Letters, digits, dot, dash and underscore; never a path.'),
    h('div.row', h('button.btn.primary', { type: 'submit', dataset: { action: 'create' } }, 'Create volume')));
  onSubmit(form, async () => {
    const errs = [];
    const b = { name: name.value.trim() };
    if (!b.name) errs.push(new FieldError('name', 'give the volume a name'));
    checkName(errs, 'name', b.name);
    if (b.name.includes('..')) errs.push(new FieldError('name', 'a volume name has no ".."'));
    if (errs.length) throw errs;
    const res = await api.post('/volumes', b);
    toast(res.just_created ? `Created ${b.name}` : `${b.name} exists already`);
    form.reset();
    reload();
  });
  return h('details.card', h('summary', 'Create a volume'), form);
}
