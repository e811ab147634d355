// containers.js - the containers list (live) and one container's page:
// details, actions the caller's role allows, edit arguments (PATCH
// recreate), logs with tail and live follow, CPU and memory charts.

import * as api from './api.js';
import { h, cell, clear, toast, alertBox, errorText, confirmDialog, since, when, bytes, shellJoin, envToText, poller } from './ui.js';
import { sparkline } from './chart.js';
import { argsForm } from './create.js';

const LIST_POLL_MS = 5000;
const STATS_POLL_MS = 3000;
const STATS_KEEP_MS = 5 * 60 * 1000;
const LOG_MAX_NODES = 4000;

// --- pieces shared by the list and the details page ------------------------------

export function statePill(c) {
  const state = c.state || (c.running ? 'running' : 'unknown');
  return h('span.pill', { class: 'state-' + state.replace(/[^a-z]/g, '') }, state);
}

export function badges(c) {
  return [
    c.protected ? h('span.badge.protected', { title: 'Cannot be stopped, restarted or removed through berth' }, 'protected') : null,
    c.managed === false ? h('span.badge', { title: 'Not created by berth: read only' }, 'unmanaged') : null,
    c.service ? h('span.badge', 'service ' + c.service) : null,
    c.job ? h('span.badge', 'job ' + c.job) : null,
    c.catalog ? h('span.badge', 'catalog ' + c.catalog) : null,
  ];
}

// {"8080/tcp": 32768, "53/udp": null} -> links to the host port (tcp) or text.
export function portLinks(ports, running = true) {
  const out = [];
  for (const [key, host] of Object.entries(ports || {})) {
    const [cport, proto] = key.split('/');
    if (host && running && (proto || 'tcp') === 'tcp') {
      const url = `${location.protocol}//${location.hostname}:${host}/`;
      out.push(h('a.port', { href: url, target: '_blank', rel: 'noopener noreferrer', title: `container port ${key}` }, `${host} → ${cport}`));
    } else if (host) {
      out.push(h('span.port', `${host} → ${key}`));
    } else {
      out.push(h('span.port.muted', { title: 'not published on the host' }, key));
    }
  }
  return out.length ? out : h('span.muted', 'none');
}

function imageCell(c) {
  return [h('code', c.image || '—'), c.outdated ? h('span.badge.warn', { title: 'A newer image carries this tag' }, 'outdated') : null];
}

// The actions the caller may take on c, as buttons. onDone(result) after each.
function actionButtons(c, app, ctx, onDone) {
  if (!app.canManage(c) || c.managed === false) return [];
  const name = c.name;
  const path = '/containers/' + api.enc(name);
  const run = async (btn, label, fn, done) => {
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      const res = await fn();
      toast(`${done} ${name}`);
      onDone(res, label);
    } catch (e) {
      btn.disabled = false;
      if (e.cancelled) return;
      toast(`Could not ${label} ${name}: ${errorText(e)}`, 'error');
      if (ctx.showError) ctx.showError(e, `Could not ${label} ${name}`);
    } finally {
      btn.removeAttribute('aria-busy');
    }
  };
  const btn = (label, cls, fn, done) => {
    const b = h('button.btn', { type: 'button', class: cls, dataset: { action: label }, 'aria-label': `${label} ${name}` }, label);
    b.addEventListener('click', () => run(b, label, fn, done));
    return b;
  };
  const out = [];
  if (!c.running) out.push(btn('start', 'ok', () => api.post(path + '/start'), 'Started'));
  if (!c.protected) {
    if (c.running) {
      out.push(btn('stop', '', () => api.post(path + '/stop'), 'Stopped'));
      out.push(btn('restart', '', () => api.post(path + '/restart'), 'Restarted'));
    }
    if (c.outdated) out.push(btn('update', 'warn', () => api.post(path + '/update'), 'Updated'));
    const rm = btn('remove', 'danger', async () => {
      const ok = await confirmDialog(c.running ? `Stop and remove ${name}? Its logs and any data inside it are lost.` : `Remove ${name}? Its logs and any data inside it are lost.`, 'Remove');
      if (!ok) throw Object.assign(new Error('cancelled'), { cancelled: true });
      return api.del(path + (c.running ? '?force=1' : ''));
    }, 'Removed');
    out.push(rm);
  }
  return out;
}

// --- the list ------------------------------------------------------------------------

export async function containersView(ctx) {
  const { app, main } = ctx;
  const canCreate = app.atLeast('operator');
  const onlyRunning = h('input', { type: 'checkbox', id: 'only-running' });
  const errBox = h('div.errors');
  const body = h('div.list-body', h('p.muted', 'Loading containers…'));
  const updated = h('span.muted.small', { 'aria-live': 'off' });
  main.append(
    h('div.head',
      h('h1', 'Containers'),
      h('div.row',
        h('label.check', onlyRunning, ' running only'),
        canCreate ? h('a.btn.primary', { href: '#/create', dataset: { action: 'create' } }, 'Create container') : null)),
    errBox, body, h('p', updated));
  ctx.showError = (e, prefix) => clear(errBox, alertBox(e, prefix));

  let last = '';
  const fetchList = () => api.get('/containers?all=' + (onlyRunning.checked ? 0 : 1));
  const refresh = poller(ctx, LIST_POLL_MS, fetchList, (list) => {
    clear(errBox);
    const items = (list && list.containers) || [];
    items.sort((a, b) => (a.name || '').localeCompare(b.name || ''));
    const key = JSON.stringify(items);
    if (key !== last) {
      last = key;
      renderList(body, items, ctx, refresh);
    }
    updated.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${LIST_POLL_MS / 1000} s`;
  }, (e) => {
    clear(errBox, alertBox(e, 'Could not list containers'));
    if (!last) clear(body);
  });
  onlyRunning.addEventListener('change', () => {
    last = '';
    refresh();
  });
  await refresh();
}

function renderList(body, items, ctx, refresh) {
  const { app } = ctx;
  // Keep keyboard focus on the same control across a re-render.
  const focused = document.activeElement && body.contains(document.activeElement) ? document.activeElement.getAttribute('aria-label') : null;
  if (!items.length) {
    clear(body, h('div.empty',
      h('p', h('strong', 'No containers here yet.')),
      app.atLeast('operator')
        ? h('p', 'Start one from the ', h('a', { href: '#/catalog' }, 'catalog'), ' or ', h('a', { href: '#/create' }, 'create one from an image'), '.')
        : h('p', 'You can see containers that belong to you; an operator or admin can create one for you.')));
    return;
  }
  const rows = items.map((c) => {
    const link = h('a', { href: '#/containers/' + encodeURIComponent(c.name) }, c.name);
    const acts = actionButtons(c, app, ctx, () => refresh());
    return h('tr', { dataset: { name: c.name } },
      cell('Name', h('div.name', link, badges(c))),
      cell('State', statePill(c), c.running ? null : h('div.small.muted', c.status || '')),
      cell('Image', imageCell(c)),
      cell('Ports', h('div.ports', portLinks(c.ports, c.running))),
      cell('Owner', c.owner || h('span.muted', '—')),
      cell('Up', c.running ? (c.status || '').replace(/^Up /, '') : h('span.muted', 'stopped')),
      cell('!Actions', acts.length ? h('div.row.wrap', acts) : h('span.muted', app.atLeast('operator') ? '' : 'read only')));
  });
  clear(body, h('div.table-wrap', h('table.grid.containers',
    h('thead', h('tr', ['Name', 'State', 'Image', 'Ports', 'Owner', 'Up', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', rows))));
  if (focused) {
    const again = [...body.querySelectorAll('[aria-label]')].find((el) => el.getAttribute('aria-label') === focused);
    if (again) again.focus();
  }
}

// --- one container ----------------------------------------------------------------------

export async function containerView(ctx) {
  const { app, main, params } = ctx;
  const name = params[0];
  const path = '/containers/' + api.enc(name);
  const head = h('div.head');
  const errBox = h('div.errors');
  const overview = h('section.card', { 'aria-labelledby': 'ov-h' });
  const editBox = h('section.card', { hidden: true, 'aria-labelledby': 'edit-h' });
  const charts = h('div.charts');
  const statsText = h('dl.kv.compact');
  const logs = logPanel(path, ctx);
  main.append(
    h('p.crumbs', h('a', { href: '#/containers' }, '← Containers')),
    head, errBox, overview, editBox,
    h('section.card', { 'aria-labelledby': 'res-h' }, h('h2#res-h', 'CPU and memory'), charts, statsText),
    logs.el);
  ctx.showError = (e, prefix) => clear(errBox, alertBox(e, prefix));

  let c = null;
  const load = poller(ctx, LIST_POLL_MS, () => api.get(path), (got) => {
    c = got;
    clear(errBox);
    renderHead(head, c, app, ctx, editBox, afterAction);
    renderOverview(overview, c);
  }, (e) => {
    if (e.status === 404) {
      clear(head, h('h1', name));
      clear(errBox, h('div.empty', h('p', `There is no container called ${name} that you can see. It may have been removed.`),
        h('p', h('a', { href: '#/containers' }, 'Back to the containers.'))));
      overview.hidden = true;
      return false;
    }
    clear(errBox, alertBox(e, 'Could not load ' + name));
  });
  const afterAction = (res, label) => {
    if (label === 'remove') {
      app.go('#/containers');
      return;
    }
    load();
    if (label === 'start' || label === 'restart') logs.restart();
  };
  await load();
  if (!c) return;
  startStats(path, charts, statsText, ctx, () => c.running);
  logs.start();
}

function renderHead(head, c, app, ctx, editBox, afterAction) {
  const acts = actionButtons(c, app, ctx, afterAction);
  if (app.canManage(c) && c.managed !== false && !c.protected) {
    const edit = h('button.btn', { type: 'button', dataset: { action: 'edit' }, 'aria-expanded': String(!editBox.hidden), 'aria-controls': 'edit-form' }, 'Edit arguments');
    edit.addEventListener('click', () => {
      if (editBox.hidden) openEdit(editBox, c, ctx, () => {
        editBox.hidden = true;
        afterAction(null, 'edit');
      });
      else editBox.hidden = true;
      edit.setAttribute('aria-expanded', String(!editBox.hidden));
    });
    acts.push(edit);
  }
  clear(head,
    h('h1', c.name, ' ', statePill(c), badges(c)),
    acts.length ? h('div.row.wrap', acts) : h('p.muted.small', app.atLeast('operator') ? 'Read only: berth will not change this container for you.' : 'Read only (viewer).'));
}

function kv(rows) {
  return h('dl.kv', rows.filter(Boolean).map(([k, v]) => [h('dt', k), h('dd', v === '' || v === null || v === undefined ? h('span.muted', '—') : v)]));
}

function list(items, empty) {
  if (!items || !items.length) return h('span.muted', empty || 'none');
  return h('ul.plain', items.map((i) => h('li', h('code', i))));
}

function renderOverview(box, c) {
  const exitInfo = !c.running && c.finished_at ? `exited ${c.exit_code} at ${when(c.finished_at)}` : null;
  const mounts = (c.mounts || []).map((m) => `${m.type} ${m.source || ''} → ${m.target}${m.read_only ? ' (read only)' : ''}`);
  const devices = (c.devices || []).map((d) => `${d.host} → ${d.container} (${d.permissions || 'rwm'})`);
  const labels = Object.entries(c.labels || {}).map(([k, v]) => `${k}=${v}`);
  box.hidden = false;
  clear(box,
    h('h2#ov-h', 'Details'),
    h('div.cols',
      kv([
        ['Image', imageCell(c)],
        ['Id', h('code', (c.id || '').slice(0, 12))],
        ['Owner', c.owner],
        ['Status', c.running ? `running for ${since(c.started_at)} (since ${when(c.started_at)})` : (exitInfo || c.state)],
        ['Ports', h('div.ports', portLinks(c.ports, c.running))],
        ['Restart policy', c.restart],
        ['Network', c.network],
        ['Memory limit', c.memory ? bytes(c.memory) : 'none'],
        ['CPUs', c.cpus ? String(c.cpus) : 'no limit'],
      ]),
      kv([
        ['Command', c.command ? h('code', shellJoin(c.command)) : null],
        ['Entrypoint', c.entrypoint ? h('code', shellJoin(c.entrypoint)) : null],
        ['Working dir', c.workdir ? h('code', c.workdir) : null],
        ['User', c.user],
        ['Environment', list(c.env, 'empty')],
        ['Labels', list(labels)],
      ]),
      kv([
        ['Mounts', list(mounts)],
        ['Devices', list(devices)],
        ['Privileged', c.privileged ? h('strong.warn-text', 'yes') : 'no'],
        ['Added capabilities', list(c.cap_add)],
        ['Created', when(c.created)],
      ])));
}

function openEdit(box, c, ctx, done) {
  const path = '/containers/' + api.enc(c.name);
  const portsList = Object.keys(c.ports || {}).map((k) => {
    const [cport, proto] = k.split('/');
    return { container: Number(cport), protocol: proto || 'tcp' };
  });
  const form = argsForm({
    id: 'edit-form',
    values: { command: shellJoin(c.command), env: envToText(c.env), ports: portsList, restart: c.restart },
    fields: ['command', 'env', 'ports', 'restart'],
    replace: true,
    changedOnly: true,
    submitLabel: 'Save and recreate',
    note: 'Saving recreates the container with the same name and owner; it runs again if it was running. Host ports are chosen afresh unless you set them.',
    onCancel: () => {
      box.hidden = true;
    },
    submit: async (body) => {
      const res = await api.patch(path, body);
      toast(`Recreated ${c.name} with the new arguments`);
      done(res);
    },
  });
  box.hidden = false;
  clear(box, h('h2#edit-h', 'Edit arguments'), form);
  const first = form.querySelector('input, textarea');
  if (first) first.focus();
}

// --- stats and charts ----------------------------------------------------------------------

function startStats(path, charts, text, ctx, running) {
  const samples = [];
  let timer = null;
  let failing = false;
  const draw = () => {
    const last = samples[samples.length - 1];
    const limit = last && last.s.memory_limit ? last.s.memory_limit : 0;
    clear(charts,
      sparkline('CPU', samples.map((x) => ({ t: x.t, v: x.s.cpu_percent || 0 })), { floor: 5, format: (v) => v.toFixed(1) + ' %' }),
      sparkline('Memory', samples.map((x) => ({ t: x.t, v: x.s.memory_used || 0 })), {
        floor: 1024 * 1024, format: bytes,
        note: limit ? `limit ${bytes(limit)}` : undefined,
      }));
    if (last) {
      clear(text, [
        ['Network in / out', `${bytes(last.s.network_rx)} / ${bytes(last.s.network_tx)}`],
        ['Disk read / write', `${bytes(last.s.block_read)} / ${bytes(last.s.block_write)}`],
        ['Processes', String(last.s.pids ?? '—')],
      ].map(([k, v]) => [h('dt', k), h('dd', v)]));
    }
  };
  const poll = async () => {
    if (!running()) {
      clear(text, h('div.muted', 'Not running: no statistics until it starts.'));
      timer = setTimeout(poll, STATS_POLL_MS);
      return;
    }
    try {
      const s = await api.get(path + '/stats');
      if (ctx.stopped) return;
      failing = false;
      const now = Date.now();
      samples.push({ t: now, s });
      while (samples.length && now - samples[0].t > STATS_KEEP_MS) samples.shift();
      draw();
    } catch (e) {
      if (ctx.stopped) return;
      if (!failing) clear(text, h('div', { class: 'muted' }, 'No statistics: ' + errorText(e)));
      failing = true;
    }
    timer = setTimeout(poll, STATS_POLL_MS);
  };
  draw();
  poll();
  ctx.onStop(() => clearTimeout(timer));
}

// --- logs ---------------------------------------------------------------------------------

function logPanel(path, ctx) {
  const tail = h('select#log-tail', ['50', '200', '1000', 'all'].map((v) => h('option', { value: v, selected: v === '200' }, v === 'all' ? 'everything' : 'last ' + v)));
  const follow = h('input#log-follow', { type: 'checkbox', checked: true });
  const stamps = h('input#log-ts', { type: 'checkbox' });
  const state = h('span.small.muted#log-state', { 'aria-live': 'polite' });
  const pre = h('pre.logs#log-text', { tabindex: '0', 'aria-label': 'Container logs' });
  let ctrl = null;

  const stop = () => {
    if (ctrl) ctrl.abort();
    ctrl = null;
  };
  const add = (text) => {
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 24;
    pre.append(document.createTextNode(text));
    while (pre.childNodes.length > LOG_MAX_NODES) pre.firstChild.remove();
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  };
  const start = async () => {
    stop();
    const mine = new AbortController();
    ctrl = mine;
    pre.replaceChildren();
    const qs = new URLSearchParams();
    qs.set('tail', tail.value);
    if (stamps.checked) qs.set('timestamps', '1');
    if (follow.checked) qs.set('follow', '1');
    state.textContent = follow.checked ? 'Following live…' : 'Loading…';
    pre.setAttribute('aria-busy', 'true');
    try {
      await api.stream('GET', path + '/logs?' + qs, undefined, add, mine.signal);
      if (ctrl !== mine) return;
      if (!pre.textContent) add('');
      state.textContent = follow.checked ? 'The log stream ended: the container stopped.' : 'Shown.';
      pre.dataset.ended = '1';
    } catch (e) {
      if (e.name === 'AbortError' || ctrl !== mine) return;
      state.textContent = '';
      pre.after(alertBox(e, 'Could not read the logs'));
    } finally {
      pre.removeAttribute('aria-busy');
    }
  };
  for (const el of [tail, follow, stamps]) el.addEventListener('change', start);
  ctx.onStop(stop);
  const clearBtn = h('button.btn.small', { type: 'button', on: { click: () => pre.replaceChildren() } }, 'Clear');
  const el = h('section.card', { 'aria-labelledby': 'logs-h' },
    h('div.head', h('h2#logs-h', 'Logs'),
      h('div.row.wrap',
        h('label', { for: 'log-tail' }, 'Show '), tail,
        h('label.check', follow, ' follow'),
        h('label.check', stamps, ' timestamps'),
        clearBtn)),
    state, pre);
  return { el, start, restart: () => follow.checked && start() };
}
