// networks.js - the caller's networks: each owner's containers sit on the
// owner's own "default" network, so other tenants cannot reach them; here
// one sees which of one's containers are on which network, makes more
// (bridge only, subnets from berth's pool), connects and disconnects
// containers, and removes networks nothing uses.

import * as api from './api.js';
import { h, cell, table, clear, empty, alertBox, toast, field, confirmDialog, FieldError, poller, busy, onSubmit } from './ui.js';
import { follow } from './events.js';
import { checkName } from './spec.js';

const POLL_MS = 5000;
const NAME_MAX = 64; // BERTH_NAME_MAX

export async function networksView(ctx) {
  const { app, main } = ctx;
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading networks…'));
  const showError = (e, what) => clear(errBox, alertBox(e, what));
  const make = app.me.can.manage_networks ? newNetworkForm(() => load()) : null;
  main.append(h('div.head', h('h1', 'Networks')),
    h('p.hint', 'Your containers sit on your own network ("default", made on first use): they reach each other by name, ' +
      'and other users’ containers cannot reach them. Published ports stay reachable from outside.'),
    errBox, body);
  if (make) main.append(make);

  const load = poller(ctx, POLL_MS, () => api.get('/networks'), (ans) => {
    renderNetworks(body, ans, app, load, showError);
  }, (e) => showError(e, 'Could not list networks'), follow(ctx, ['network'], () => load()));
  await load();
}

function renderNetworks(body, ans, app, reload, showError) {
  const active = document.activeElement;
  if (active && body.contains(active) && active.matches('input')) return;
  const list = (ans.networks || []).slice().sort((a, b) => (a.owner || '').localeCompare(b.owner || '') || a.name.localeCompare(b.name));
  const shared = ans.shared || [];
  const note = shared.length ? h('p.hint', 'Shared networks a container may also name: ', ...shared.map((s) => h('code', s, ' '))) : null;
  if (!list.length) {
    clear(body, empty(h('p', h('strong', 'No networks yet.')),
      'Your default network is made when you create your first container.'), note);
    return;
  }
  const rows = list.map((n, i) => {
    const heading = 'net-name-' + i;
    return h('tr', { dataset: { network: n.name } },
      cell('Name', h('strong', { id: heading }, n.name), n.default ? h('span.muted', ' (default)') : null),
      cell('Subnet', n.subnet ? h('code', n.subnet) : h('span.muted', '—')),
      cell('Containers', members(n, heading, app, reload, showError)),
      cell('Owner', n.owner || h('span.muted', '—')),
      cell('Internal', n.internal ? 'yes' : 'no'),
      cell('!Actions', (app.me.can.manage_networks && n.managed !== false) ? actions(n, heading, reload, showError) : h('span.muted', 'read only')));
  });
  clear(body, table('networks', ['Name', 'Subnet', 'Containers', 'Owner', 'Internal', 'Actions'], rows), note);
}

// The caller's containers on N, each with a Disconnect button when they may change it.
function members(n, heading, app, reload, showError) {
  if (!n.containers.length) return h('span.muted', 'none');
  return h('ul.plain', ...n.containers.map((c) => {
    const li = h('li', { dataset: { container: c.name } }, h('a', { href: '#/containers/' + api.enc(c.id) }, c.name),
      c.ipv4 ? h('span.muted', ' ' + c.ipv4.replace(/\/\d+$/, '')) : null);
    if (!(app.me.can.manage_networks && n.managed !== false)) return li;
    const b = h('button.btn.small', { type: 'button', dataset: { action: 'disconnect' }, 'aria-describedby': heading }, 'Disconnect');
    b.addEventListener('click', async () => {
      try {
        await busy(li, () => api.post('/networks/' + api.enc(n.name) + '/disconnect', { container: c.id }));
        toast(`Disconnected ${c.name} from ${n.name}`);
        reload();
      } catch (e) {
        showError(e, `Could not disconnect ${c.name}`);
      }
    });
    li.append(' ', b);
    return li;
  }));
}

// Connect a container (by name) and delete the network N.
function actions(n, heading, reload, showError) {
  const ct = h('input.narrow', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'container', id: 'connect-' + heading, dataset: { field: 'container' }, 'aria-describedby': heading });
  const go = h('button.btn', { type: 'submit', dataset: { action: 'connect' }, 'aria-describedby': heading }, 'Connect');
  const rm = h('button.btn.danger', { type: 'button', dataset: { action: 'delete' }, 'aria-describedby': heading }, 'Delete');
  const form = h('form.row.inline', { novalidate: true }, h('label', { for: ct.id }, 'Container'), ct, go, rm);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      if (!ct.value.trim()) throw new FieldError('container', 'name one of your containers');
      await busy(form, () => api.post('/networks/' + api.enc(n.name) + '/connect', { container: ct.value.trim() }));
      toast(`Connected ${ct.value.trim()} to ${n.name}`);
      ct.value = '';
      ct.blur();
      reload();
    } catch (e) {
      showError(e, `Could not connect to ${n.name}`);
    }
  });
  rm.addEventListener('click', async () => {
    if (!(await confirmDialog(`Delete the network ${n.name}?`, 'Delete'))) return;
    try {
      await busy(form, () => api.del('/networks/' + api.enc(n.name)));
      toast(`Deleted ${n.name}`);
      reload();
    } catch (e) {
      showError(e, `Could not delete ${n.name}`);
    }
  });
  return form;
}

function newNetworkForm(reload) {
  const name = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: 'name' } });
  const internal = h('input', { type: 'checkbox', dataset: { field: 'internal' } });
  const form = h('form.form#network-form', { novalidate: true },
    field('Name', name, 'Containers join it with "network": "<name>" in their spec.'),
    field('Internal', internal, 'No way out to other hosts (published ports do not work on it).'),
    h('div.row', h('button.btn.primary', { type: 'submit', dataset: { action: 'create' } }, 'Create network')));
  onSubmit(form, async () => {
    const errs = [];
    const b = { name: name.value.trim() };
    if (!b.name) errs.push(new FieldError('name', 'give the network a name'));
    checkName(errs, 'name', b.name, NAME_MAX);
    if (['bridge', 'host', 'none'].includes(b.name)) errs.push(new FieldError('name', 'that name is Docker’s own'));
    if (internal.checked) b.internal = true;
    if (errs.length) throw errs;
    const n = await api.post('/networks', b);
    toast(`Created ${n.name} (${n.subnet || 'subnet from dockerd'})`);
    form.reset();
    reload();
  });
  return h('details.card', h('summary', 'Create a network'), form);
}
