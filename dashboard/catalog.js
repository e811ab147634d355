// catalog.js - the named-image catalog: which entries are built or
// outdated, a build with its progress streamed as it happens, and a
// shortcut to create a container from an entry, as whoami's can allows.

import * as api from './api.js';
import { h, clear, empty, alertBox, toast, errorText, shellJoin, busy } from './ui.js';
import { catalogPorts } from './spec.js';

export async function catalogView(ctx) {
  const { app, main } = ctx;
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading the catalog…'));
  main.append(h('div.head', h('h1', 'Catalog')),
    h('p.hint', 'Named images your administrator set up. Create a container from one: berth builds its image the first time it is needed. Build one here to have it ready, or to see the build.'),
    errBox, body);
  let entries;
  try {
    entries = (await api.get('/catalog')).entries;
  } catch (e) {
    clear(body);
    clear(errBox, alertBox(e, 'Could not read the catalog'));
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  if (!entries.length) {
    clear(body, empty(h('p', h('strong', 'The catalog is empty.')),
      'An admin adds entries under catalog = { ... } in berth.conf, then reloads berth.',
      app.me.can.create_containers ? h('p', 'You can still ', h('a', { href: '#/create' }, 'create a container from an image'), '.') : null));
    return;
  }
  clear(body, h('div.cards', entries.map((e, i) => entryCard(e, 'entry-h-' + i, app, ctx))));
}

// One entry; its controls are named by their text and described by the heading HEADING.
function entryCard(e, heading, app, ctx) {
  const progress = h('pre.logs.build', { hidden: true, 'aria-label': `Build output for ${e.name}` });
  const status = h('div.small.build-status', { 'aria-live': 'polite', dataset: { buildStatus: '' } });
  const acts = [];
  const idCode = h('code', e.image_id ? shortId(e.image_id) : '—');
  const outdatedBadge = e.outdated ? h('span.badge.warn', { title: 'The definition changed since this image was built' }, 'outdated') : null;
  const builtBadge = e.built ? h('span.badge.ok', 'built') : h('span.badge.warn', 'not built');
  if (app.me.can.build) {
    const build = h('button.btn', { type: 'button', dataset: { action: 'build' }, 'aria-describedby': heading }, e.built ? 'Rebuild' : 'Build');
    build.addEventListener('click', () => runBuild(e, build, progress, status, ctx, (id) => {
      builtBadge.replaceWith(h('span.badge.ok', 'built'));
      if (outdatedBadge) outdatedBadge.remove();
      if (id) clear(idCode, shortId(id));
      build.textContent = 'Rebuild';
    }));
    acts.push(build);
  }
  if (app.me.can.create_containers) {
    acts.push(h('a.btn.primary', { href: '#/create?catalog=' + encodeURIComponent(e.name), dataset: { action: 'use' }, 'aria-describedby': heading }, 'Create container'));
  }
  const ports = catalogPorts(e.ports).map((p) => `${p.container}/${p.protocol}`).join(', ');
  return h('article.card.entry', { dataset: { entry: e.name } },
    h('div.head', h('h2', { id: heading }, e.name), h('div', builtBadge, outdatedBadge)),
    e.description ? h('p', e.description) : null,
    h('dl.kv.compact',
      h('dt', 'Image'), h('dd', h('code', e.image)),
      e.command ? [h('dt', 'Command'), h('dd', h('code', shellJoin(e.command)))] : null,
      ports ? [h('dt', 'Ports'), h('dd', ports)] : null,
      h('dt', 'Image id'), h('dd', idCode)),
    acts.length ? h('div.row.wrap', acts) : null,
    status, progress);
}

const shortId = (id) => String(id).replace(/^sha256:/, '').slice(0, 12);

async function runBuild(e, btn, progress, status, ctx, built) {
  progress.hidden = false;
  progress.replaceChildren();
  progress.classList.remove('failed');
  delete status.dataset.done;
  status.textContent = `Building ${e.name}…`;
  const ctrl = new AbortController();
  ctx.onStop(() => ctrl.abort());
  let failed = null;
  let imageId = null;
  const add = (text, cls) => {
    progress.append(cls ? h('span', { class: cls }, text) : document.createTextNode(text));
    progress.scrollTop = progress.scrollHeight;
  };
  try {
    await busy(btn, () => api.ndjson('POST', '/catalog/' + api.enc(e.name) + '/build', {}, (o) => {
      // berth's own first and last lines ("building", "built"/"failed") are
      // told by the status line under the output, and its last line repeats
      // dockerd's error: show each error once.
      if (o.stream) add(o.stream);
      else if (o.error) {
        if (o.error !== failed) add(o.error + '\n', 'err');
        failed = o.error;
      } else if (o.status && !['building', 'built', 'failed'].includes(o.status)) {
        add(o.status + (o.progress ? ' ' + o.progress : '') + '\n');
      }
      if (o.image_id) imageId = o.image_id;
    }, ctrl.signal));
  } catch (err) {
    if (err.name === 'AbortError') return;
    failed = errorText(err);
  }
  if (failed) {
    progress.classList.add('failed');
    clear(status, alertBox(failed, `Build of ${e.name} failed`));
    return;
  }
  status.textContent = `Built ${e.name}${imageId ? ' (' + shortId(imageId) + ')' : ''}.`;
  status.dataset.done = '1';
  toast(`Built ${e.name}`);
  built(imageId);
}
