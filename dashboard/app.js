// app.js - start-up and routing for the berth dashboard: who is calling
// and with what role, a hash router that gives each view a fresh <main>
// and stops whatever the previous view left running (polls, log streams)
// and its notices, and the banners for dockerd down / not logged in / berth
// unreachable.  Views import only the shared modules, never each other.
// What the caller may do is berth's to say: app.me.can (GET /whoami) for
// the role, and each container, service and job's own can; the dashboard
// shows a control when its flag is true and has no role rules of its own.

import * as api from './api.js';
import { h, clear, alertBox, clearToasts } from './ui.js';
import { containersView, containerView } from './containers.js';
import { createView } from './create.js';
import { catalogView } from './catalog.js';
import { servicesView } from './services.js';
import { jobsView, jobView } from './jobs.js';
import { networksView } from './networks.js';
import { volumesView } from './volumes.js';
import { stacksView, stackView } from './stacks.js';
import { auditView, meView } from './system.js';

const routes = [
  [/^\/?$/, () => containersView],
  [/^\/containers$/, () => containersView],
  [/^\/containers\/([^/]+)$/, () => containerView],
  [/^\/create$/, () => createView],
  [/^\/catalog$/, () => catalogView],
  [/^\/services$/, () => servicesView],
  [/^\/jobs$/, () => jobsView],
  [/^\/jobs\/([^/]+)$/, () => jobView],
  [/^\/networks$/, () => networksView],
  [/^\/volumes$/, () => volumesView],
  [/^\/stacks$/, () => stacksView],
  [/^\/stacks\/([^/]+)$/, () => stackView],
  [/^\/audit$/, () => auditView],
  [/^\/me$/, () => meView],
];

const app = {
  me: { user: null, role: 'none', can: {} },
  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
};

// --- banners -----------------------------------------------------------------

const banners = new Map();
function banner(key, text, action) {
  const box = document.getElementById('banners');
  if (!text) {
    if (banners.has(key)) banners.get(key).remove();
    banners.delete(key);
    return;
  }
  const el = h('div.banner', { role: 'alert', dataset: { banner: key } }, h('span', text), action || null);
  if (banners.has(key)) banners.get(key).replaceWith(el);
  else box.append(el);
  banners.set(key, el);
}

api.onFailure((e) => {
  if (e.code === 'docker_unavailable' || e.code === 'docker_timeout') {
    banner('docker', 'dockerd is not answering: containers cannot be listed or changed until it is back. ' +
      'berth keeps trying; ask an admin to check the Docker daemon on the host.');
  } else if (e.status === 401) {
    banner('auth', 'You are not logged in (or your login expired). Reload the page to log in again.',
      h('button.btn', { type: 'button', on: { click: () => location.reload() } }, 'Reload'));
  } else if (e.code === 'network' || e.code === 'berth_unavailable') {
    banner('net', 'berth is not answering: ' + e.message + '. The page retries on its own.');
  }
});

async function checkHealth() {
  try {
    await api.get('/health');
    banner('docker', null);
    banner('net', null);
  } catch {
    // onFailure already raised the right banner.
  }
}

// --- routing -------------------------------------------------------------------

let stopView = null;

function route() {
  const raw = location.hash.replace(/^#/, '') || '/containers';
  const [path, qs] = raw.split('?');
  const query = new URLSearchParams(qs || '');
  let view = null;
  let params = [];
  for (const [re, fn] of routes) {
    const m = re.exec(path);
    if (m) {
      view = fn();
      params = m.slice(1).map(decodeURIComponent);
      break;
    }
  }
  if (stopView) {
    try {
      stopView();
    } catch {
      // a view that fails to stop must not block the next one
    }
    stopView = null;
  }
  clearToasts();
  const old = document.getElementById('main');
  const main = h('main#main', { tabindex: '-1' });
  old.replaceWith(main);
  for (const a of document.querySelectorAll('[data-nav]')) {
    const here = path.startsWith('/' + a.dataset.nav) || (a.dataset.nav === 'containers' && (path === '' || path === '/' || path === '/create'));
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!view) {
    clear(main, h('h1', 'Not found'), h('p', 'There is no page at ', h('code', path), '. ', h('a', { href: '#/containers' }, 'Go to the containers.')));
    return;
  }
  const ctx = { app, params, query, main, stopped: false, cleanups: [] };
  ctx.onStop = (fn) => ctx.cleanups.push(fn);
  stopView = () => {
    ctx.stopped = true;
    for (const fn of ctx.cleanups) fn();
  };
  Promise.resolve(view(ctx)).catch((e) => {
    main.append(alertBox(e, 'This page could not be shown'));
  });
  if (document.activeElement && document.activeElement !== document.body && !main.contains(document.activeElement)) {
    main.focus({ preventScroll: true });
  }
}

async function start() {
  try {
    app.me = await api.get('/whoami');
  } catch (e) {
    const main = document.getElementById('main');
    clear(main, h('h1', 'berth'), alertBox(e, 'Could not find out who you are'),
      h('p', e.status === 401 ? 'Log in through the page your administrator gave you, then reload.'
        : 'berth may be restarting; reload the page in a moment.'));
    checkHealth();
    return;
  }
  document.getElementById('me').textContent = `${app.me.user || 'anonymous'} · ${app.me.role}`;
  document.body.dataset.role = app.me.role;
  for (const el of document.querySelectorAll('[data-can]')) el.hidden = !app.me.can[el.dataset.can];
  window.addEventListener('hashchange', route);
  route();
  checkHealth();
  setInterval(checkHealth, 15000);
}

start();
