// containers.js - the containers list (live) and one container's page:
// details, the actions each container's can (berth's answer) allows, edit
// arguments (PATCH recreate), logs with tail and live follow, CPU and
// memory charts, and a console (console.js).

import * as api from './api.js';
import { h, cell, table, clip, clear, empty, toast, alertBox, errorText, confirmDialog, since, when, size, shellJoin, poller, busy } from './ui.js';
import { follow } from './events.js';
import { argsForm, envLines } from './spec.js';
import { sparkline } from './chart.js';
import { consolePanel } from './console.js';

const LIST_POLL_MS = 5000;
const STATS_POLL_MS = 3000;
const STATS_KEEP_MS = 5 * 60 * 1000;
const LOG_MAX_NODES = 4000;

// --- pieces shared by the list and the details page ------------------------------

function statePill(c) {
  return h('span.pill', { class: 'state-' + c.state.replace(/[^a-z]/g, '') }, c.state);
}

function badges(c) {
  return [
    c.protected ? h('span.badge.protected', { title: 'Cannot be stopped, restarted or removed through berth' }, 'protected') : null,
    c.managed === false ? h('span.badge', { title: 'Not created by berth: read only' }, 'unmanaged') : null,
    c.service ? clip('span.badge', 'service ' + c.service) : null,
    c.job ? clip('span.badge', 'job ' + c.job) : null,
    c.catalog ? clip('span.badge', 'catalog ' + c.catalog) : null,
  ];
}

// {"8080/tcp": 32768, "53/udp": null} -> links to the host port (tcp) or text.
function portLinks(ports, running) {
  const out = [];
  for (const [key, host] of Object.entries(ports)) {
    const [cport, proto] = key.split('/');
    if (host && running && proto === 'tcp') {
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

// The image, cut to its cell in the list (WHOLE on the details page).
function imageCell(c, whole) {
  return [whole ? h('code', c.image) : clip('code', c.image),
    c.outdated ? h('span.badge.warn', { title: 'A newer image carries this tag' }, 'outdated') : null];
}

// A job's container belongs to its job: berth starts, stops and removes it.
const jobLink = (c) => h('a.btn', { href: '#/jobs/' + encodeURIComponent(c.job) }, 'Open job');

// The actions c.can allows that fit its state, as buttons named by their
// text and described by DESCRIBEDBY (the container's name on the page).
// onDone(result, action) after each; onError(e, what) when one fails.
function actionButtons(c, describedBy, onDone, onError) {
  const can = c.can;
  const name = c.name;
  const path = '/containers/' + api.enc(name);
  const btn = (label, cls, fn, done) => {
    const b = h('button.btn', { type: 'button', class: cls, dataset: { action: label }, 'aria-describedby': describedBy }, label);
    b.addEventListener('click', async () => {
      try {
        const res = await busy(b, fn);
        if (res === CANCELLED) return;
        toast(`${done} ${name}`);
        onDone(res, label);
      } catch (e) {
        onError(e, `Could not ${label} ${name}`);
      }
    });
    return b;
  };
  const out = c.job ? [jobLink(c)] : [];
  if (!c.running && can.start) out.push(btn('start', 'ok', () => api.post(path + '/start'), 'Started'));
  if (c.running && can.stop) out.push(btn('stop', '', () => api.post(path + '/stop'), 'Stopped'));
  if (c.running && can.restart) out.push(btn('restart', '', () => api.post(path + '/restart'), 'Restarted'));
  if (c.outdated && can.update) out.push(btn('update', 'warn', () => api.post(path + '/update'), 'Updated'));
  if (can.remove) {
    out.push(btn('remove', 'danger', async () => {
      const what = (c.running ? `Stop and remove ${name}?` : `Remove ${name}?`) + (c.protected ? ' It is protected.' : '');
      if (!(await confirmDialog(what + ' Its logs and any data inside it are lost.', 'Remove'))) return CANCELLED;
      // A running container is stopped first; a protected one is removed only by force (an admin's).
      return api.del(path + (c.running || c.protected ? '?force=1' : ''));
    }, 'Removed'));
  }
  return out;
}
const CANCELLED = Symbol('cancelled');

// --- the list ------------------------------------------------------------------------

export async function containersView(ctx) {
  const { app, main } = ctx;
  const canCreate = app.me.can.create_containers;
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
  const showError = (e, what) => clear(errBox, alertBox(e, what));

  let last = '';
  const fetchList = () => api.get('/containers?all=' + (onlyRunning.checked ? 0 : 1));
  const refresh = poller(ctx, LIST_POLL_MS, fetchList, (list) => {
    const items = list.containers.sort((a, b) => a.name.localeCompare(b.name));
    const key = JSON.stringify(items);
    if (key !== last) {
      last = key;
      renderList(body, items, app, () => {
        clear(errBox);
        refresh();
      }, showError);
    }
    updated.textContent = `Updated ${new Date().toLocaleTimeString()} · ${document.documentElement.dataset.events === 'live' ? 'live' : `refreshes every ${LIST_POLL_MS / 1000} s`}`;
  }, (e) => {
    showError(e, 'Could not list containers');
    if (!last) clear(body);
  }, follow(ctx, ['container', 'service', 'job'], () => refresh()));
  onlyRunning.addEventListener('change', () => {
    last = '';
    refresh();
  });
  await refresh();
}

function renderList(body, items, app, refresh, showError) {
  // Keep keyboard focus on the same control across a re-render.
  const focused = document.activeElement && body.contains(document.activeElement)
    ? [document.activeElement.closest('tr')?.dataset.name, document.activeElement.dataset.action] : null;
  if (!items.length) {
    clear(body, empty(h('p', h('strong', 'No containers here yet.')),
      app.me.can.create_containers
        ? h('p', 'Start one from the ', h('a', { href: '#/catalog' }, 'catalog'), ' or ', h('a', { href: '#/create' }, 'create one from an image'), '.')
        : 'You can see containers that belong to you; an operator or admin can create one for you.'));
    return;
  }
  const rows = items.map((c, i) => {
    const id = 'ct-name-' + i;
    const link = h('a.clip', { id, href: '#/containers/' + encodeURIComponent(c.name), title: c.name }, c.name);
    const acts = actionButtons(c, id, refresh, showError);
    return h('tr', { dataset: { name: c.name } },
      cell('Name', h('div.name', link, badges(c))),
      cell('State', statePill(c)),
      cell('Image', h('div.name', imageCell(c))),
      cell('Ports', h('div.ports', portLinks(c.ports, c.running))),
      cell('Owner', c.owner ? clip('span', c.owner) : h('span.muted', '—')),
      cell('Up', c.running ? clip('span', c.status.replace(/^Up /, '')) : clip('span.muted', c.status)),
      cell('!Actions', acts.length ? h('div.row', acts) : h('span.muted', 'read only')));
  });
  clear(body, table('containers', ['Name', 'State', 'Image', 'Ports', 'Owner', 'Up', ''], rows));
  if (focused) {
    const again = [...body.querySelectorAll('tr')].find((tr) => tr.dataset.name === focused[0]);
    const control = again && again.querySelector(`[data-action="${focused[1]}"]`);
    if (control) control.focus();
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
  const showError = (e, what) => clear(errBox, alertBox(e, what));

  let c = null;
  const afterAction = (res, label) => {
    clear(errBox);
    if (label === 'remove') {
      app.go('#/containers');
      return;
    }
    load();
    if (label === 'start' || label === 'restart') logs.restart();
  };
  const load = poller(ctx, LIST_POLL_MS, () => api.get(path), (got) => {
    c = got;
    renderHead(head, c, app, editBox, afterAction, showError);
    renderOverview(overview, c);
  }, (e) => {
    if (e.missing) {
      clear(head, h('h1', name));
      clear(errBox, empty(`There is no container called ${name} that you can see. It may have been removed.`,
        h('p', h('a', { href: '#/containers' }, 'Back to the containers.'))));
      overview.hidden = true;
      return false;
    }
    showError(e, 'Could not load ' + name);
  });
  await load();
  if (!c) return;
  startStats(path, charts, statsText, ctx, () => c.running);
  // A terminal in it, for those who may exec (console.js); opened on demand.
  if (c.can.console) logs.el.before(consolePanel(path, ctx).el);
  logs.start();
}

function renderHead(head, c, app, editBox, afterAction, showError) {
  const acts = actionButtons(c, 'ct-title', afterAction, showError);
  if (c.can.edit) {
    const edit = h('button.btn', { type: 'button', dataset: { action: 'edit' }, 'aria-expanded': String(!editBox.hidden), 'aria-controls': 'edit-form' }, 'Edit arguments');
    edit.addEventListener('click', () => {
      if (editBox.hidden) {
        openEdit(editBox, c, app, () => {
          editBox.hidden = true;
          afterAction(null, 'edit');
        });
      } else editBox.hidden = true;
      edit.setAttribute('aria-expanded', String(!editBox.hidden));
    });
    acts.push(edit);
  }
  clear(head,
    h('h1', h('span#ct-title', c.name), ' ', statePill(c), badges(c)),
    acts.length ? h('div.row.wrap', acts) : h('p.muted.small', app.me.can.manage_containers ? 'Read only: berth will not change this container for you.' : 'Read only: your role does not change containers.'));
}

function kv(rows) {
  return h('dl.kv', rows.map(([k, v]) => [h('dt', k), h('dd', v === '' || v === null || v === undefined ? h('span.muted', '—') : v)]));
}

function list(items, none = 'none') {
  if (!items || !items.length) return h('span.muted', none);
  return h('ul.plain', items.map((i) => h('li', h('code', i))));
}

// The container's own environment, and apart from it what its image sets
// (image_env).  A berth that does not tell them apart sends only env,
// dockerd's merged view.
function envRows(c) {
  if (!('image_env' in c)) return [['Environment', list(envLines(c.env), 'empty')]];
  return [['Environment', list(envLines(c.env), 'none of its own')],
    ['From the image', h('div.image-env', { dataset: { imageEnv: '' } }, list(envLines(c.image_env)))]];
}

function renderOverview(box, c) {
  const exitInfo = !c.running && c.finished_at ? `exited ${c.exit_code} at ${when(c.finished_at)}` : null;
  const mounts = c.mounts.map((m) => `${m.type} ${m.source || ''} → ${m.target}${m.read_only ? ' (read only)' : ''}`);
  const devices = c.devices.map((d) => `${d.host} → ${d.container} (${d.permissions})`);
  const labels = Object.entries(c.labels).map(([k, v]) => `${k}=${v}`);
  box.hidden = false;
  clear(box,
    h('h2#ov-h', 'Details'),
    h('div.cols',
      kv([
        ['Image', imageCell(c, true)],
        ['Id', h('code', c.id.slice(0, 12))],
        ['Owner', c.owner],
        ['Status', c.running ? `running for ${since(c.started_at)} (since ${when(c.started_at)})` : (exitInfo || c.state)],
        ['Job', c.job ? h('a', { href: '#/jobs/' + encodeURIComponent(c.job) }, c.job) : null],
        ['Ports', h('div.ports', portLinks(c.ports, c.running))],
        ['Restart policy', c.restart],
        ['Network', c.network],
        ['Memory limit', h('span', { dataset: { memory: '' } }, c.memory ? size(c.memory) : 'none')],
        ['CPUs', c.cpus ? String(c.cpus) : 'no limit'],
      ].filter(([k, v]) => k !== 'Job' || v)),
      kv([
        ['Command', c.command ? h('code', shellJoin(c.command)) : null],
        ['Entrypoint', c.entrypoint ? h('code', shellJoin(c.entrypoint)) : null],
        ['Working dir', c.workdir ? h('code', c.workdir) : null],
        ['User', c.user],
        ...envRows(c),
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

function openEdit(box, c, app, done) {
  const path = '/containers/' + api.enc(c.name);
  // Host ports are left out: a row the person does not change keeps its
  // host port, and only changed fields are sent at all.
  const ports = Object.keys(c.ports).map((k) => {
    const [cport, protocol] = k.split('/');
    return { container: Number(cport), protocol };
  });
  const separate = 'image_env' in c;
  const form = argsForm({
    id: 'edit-form',
    me: app.me,
    values: { command: shellJoin(c.command), env: envLines(c.env).join('\n'), ports, restart: c.restart },
    imageEnv: separate ? c.image_env : null,
    envHint: separate ? "One KEY=value per line: the container's own, not the image's."
      : "One KEY=value per line. This berth does not say which of these come from the image (such as PATH): leave the field as it is and none is pinned.",
    fields: ['command', 'env', 'ports', 'restart'],
    replace: true,
    changedOnly: true,
    submitLabel: 'Save and recreate',
    note: 'Saving recreates the container with the same name and owner; it runs again if it was running. Only the fields you change are sent.',
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
  form.querySelector('input, textarea').focus();
}

// --- stats and charts ----------------------------------------------------------------------

function startStats(path, charts, text, ctx, running) {
  const samples = [];
  let timer = null;
  let failing = false;
  const draw = () => {
    const last = samples[samples.length - 1];
    clear(charts,
      sparkline('CPU', samples.map((x) => ({ t: x.t, v: x.s.cpu_percent })), { floor: 5, format: (v) => v.toFixed(1) + ' %' }),
      sparkline('Memory', samples.map((x) => ({ t: x.t, v: x.s.memory_used })), {
        floor: 1024 * 1024, format: size,
        note: last && last.s.memory_limit ? `limit ${size(last.s.memory_limit)}` : undefined,
      }));
    if (last) {
      clear(text, [
        ['Network in / out', `${size(last.s.network_rx)} / ${size(last.s.network_tx)}`],
        ['Disk read / write', `${size(last.s.block_read)} / ${size(last.s.block_write)}`],
        ['Processes', String(last.s.pids)],
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
      if (!failing) clear(text, h('div.muted', 'No statistics: ' + errorText(e)));
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
  const pre = h('pre.logs#log-text', { tabindex: '0', 'aria-labelledby': 'logs-h' });
  const errSlot = h('div');
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
    clear(errSlot);
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
      clear(errSlot, alertBox(e, 'Could not read the logs'));
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
        h('label', { for: 'log-tail' }, 'Show'), tail,
        h('label.check', follow, ' follow'),
        h('label.check', stamps, ' timestamps'),
        clearBtn)),
    state, errSlot, pre);
  return { el, start, restart: () => follow.checked && start() };
}
