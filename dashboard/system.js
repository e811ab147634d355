// system.js - the audit log (admins) and "who am I": the caller, their
// role and what it allows (whoami's can), berth's and dockerd's versions.

import * as api from './api.js';
import { h, cell, table, clear, empty, alertBox, when, size } from './ui.js';
import { allowedImages } from './spec.js';

export async function auditView(ctx) {
  const { app, main } = ctx;
  main.append(h('h1', 'Audit log'));
  if (!app.me.can.audit) {
    main.append(h('div.empty', h('p', 'Only admins can read the audit log.')));
    return;
  }
  const limit = h('select#audit-limit', ['50', '200', '1000'].map((v) => h('option', { value: v }, v)));
  const filter = h('input#audit-filter', { type: 'search', placeholder: 'user, action, target…' });
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading…'));
  main.append(h('div.row.wrap.toolbar',
    h('label', { for: 'audit-limit' }, 'Last'), limit,
    h('label', { for: 'audit-filter' }, 'Filter'), filter), errBox, body);
  let entries = [];
  const render = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = entries.filter((e) => !q || JSON.stringify(e).toLowerCase().includes(q));
    if (!shown.length) {
      clear(body, empty(entries.length ? 'Nothing matches the filter.' : 'The audit log is empty: nothing has been changed through berth yet.'));
      return;
    }
    clear(body, table('audit', ['Time', 'User', 'Action', 'Target', 'Result', 'Message'], shown.map((e) => h('tr',
      cell('Time', when(e.time)),
      cell('User', e.user || '—', h('span.muted.small', ' ' + e.role)),
      cell('Action', h('code', e.action)),
      cell('Target', e.target || '—'),
      cell('Result', h('span.pill', { class: e.result === 'ok' ? 'state-running' : 'state-dead' }, `${e.status} ${e.result}`)),
      cell('Message', e.message || '')))));
  };
  const load = async () => {
    try {
      const data = await api.get('/audit?limit=' + limit.value);
      entries = data.entries.reverse();
      clear(errBox);
      render();
    } catch (e) {
      clear(errBox, alertBox(e, 'Could not read the audit log'));
    }
  };
  limit.addEventListener('change', load);
  filter.addEventListener('input', render);
  await load();
}

// What whoami's can flags mean, in words; every role reads what it may see.
const CAN = [
  [null, 'See your containers, their details, logs and statistics'],
  [null, 'See services, jobs and the catalog'],
  ['create_containers', 'Create containers from allowed images and the catalog'],
  ['manage_containers', 'Start, stop, restart, edit and remove your containers'],
  ['build', 'Build catalog images'],
  ['pull', 'Pull images'],
  ['define_services', 'Define services'],
  ['scale_services', 'Scale your services'],
  ['submit_jobs', 'Submit jobs'],
  ['audit', 'Read the audit log'],
  ['manage_volumes', 'Make and remove your volumes'],
  ['manage_networks', 'Make and remove your networks'],
  ['manage_stacks', 'Deploy, update and take down your stacks'],
];

const RISKY = [['privileged', 'privileged mode'], ['host_network', 'the host network'], ['bind_mounts', 'bind mounts'],
  ['volumes', 'volumes'], ['cap_add', 'added capabilities'], ['devices', 'host devices']];

// What the role's policy (berth.conf) lets its containers have.
function policyCard(me) {
  const p = me.policy;
  const limit = (max, dflt, fmt) => `${max ? 'at most ' + fmt(max) : 'no limit'}${dflt ? ', ' + fmt(dflt) + ' unless asked' : ''}`;
  const allowed = RISKY.filter(([k]) => p[k]).map(([, what]) => what);
  return h('section.card', h('h2', 'What your containers may have'), h('dl.kv#policy',
    h('dt', 'Images'), h('dd', allowedImages(p, true)),
    h('dt', 'Host ports'), h('dd', p.ports ? `${p.ports[0]}-${p.ports[1]}, or a free one` : 'free ones, chosen by berth'),
    h('dt', 'Memory'), h('dd', { dataset: { memory: '' } }, limit(p.memory_max, p.memory_default, size)),
    h('dt', 'CPUs'), h('dd', limit(p.cpus_max, p.cpus_default, String)),
    h('dt', 'Containers'), h('dd', p.quota === null ? 'no limit' : `up to ${p.quota}`),
    h('dt', 'Also allowed'), h('dd', allowed.length ? allowed.join(', ') : 'none of privileged mode, the host network, bind mounts, volumes, added capabilities, host devices')));
}

const USAGE = [['containers', 'Containers', String], ['replicas', 'Service replicas', String],
  ['jobs', 'Running jobs', String], ['volumes', 'Volumes', String], ['networks', 'Networks', String],
  ['memory', 'Memory', size], ['cpus', 'CPUs', String]];

// What an owner (the caller, or one of their groups) holds against each quota (whoami's usage).
function usageTable(id, u) {
  return h(`div#${id}`, table('usage', ['', 'held', 'quota'], USAGE.map(([k, what, fmt]) => {
    const q = u[k];
    const full = q.limit !== null && q.used >= q.limit;
    return h('tr', { class: full ? 'full' : '' }, h('th', { scope: 'row' }, what), h('td', fmt(q.used)),
      h('td', q.limit === null ? 'no limit' : fmt(q.limit)));
  })));
}

function usageCard(me) {
  return h('section.card', h('h2', 'What you hold'), usageTable('usage-self', me.usage),
    me.groups.map((g) => [h('h3', `Group ${g.name}${g.role ? ' (' + g.role + ')' : ''}`),
      usageTable(`usage-${g.name.slice(1)}`, g.usage)]),
    h('p.hint', 'Quotas are set by an admin in berth.conf; a create that would pass one is refused.'));
}

export async function meView(ctx) {
  const { app, main } = ctx;
  const me = app.me;
  const can = CAN.filter(([flag]) => !flag || me.can[flag]).map(([, what]) => what);
  const versions = h('dl.kv', h('dt', 'berth'), h('dd', '…'));
  main.append(h('h1', 'Who am I'),
    h('section.card', h('dl.kv#whoami',
      h('dt', 'User'), h('dd', h('strong', me.user || 'anonymous')),
      h('dt', 'Role'), h('dd', h('span.pill.role', me.role))),
    h('h2', 'Your role lets you'), h('ul#can', can.map((c) => h('li', c))),
    h('p.hint', 'Roles are set by an admin in berth.conf.')),
    policyCard(me), usageCard(me),
    h('section.card', h('h2', 'Versions'), versions,
      h('p', h('a', { href: '/api/v1' }, 'API index'), ' · ', h('a', { href: '/api/v1/openapi.json' }, 'OpenAPI document'))));
  try {
    const v = await api.get('/version');
    clear(versions,
      h('dt', 'berth'), h('dd', v.berth),
      h('dt', 'dockerd'), h('dd', `${v.docker.version} (API ${v.docker.api_version}, berth uses ${v.docker.api_used})`));
  } catch (e) {
    clear(versions, h('dt', 'Versions'), h('dd', alertBox(e)));
  }
}
