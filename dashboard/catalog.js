// catalog.js - the named-image catalog: which entries are built or
// outdated, a build with its progress streamed as it happens, and a
// shortcut to create a container from an entry.

import * as api from './api.js';
import { h, clear, alertBox, toast, errorText, shellJoin } from './ui.js';
import { catalogEntries, catalogPorts } from './create.js';

export function notAvailable(what) {
  return h('div.empty.unavailable', { dataset: { unavailable: what } },
    h('p', h('strong', `${what} not available on this server.`)),
    h('p', 'This berth does not offer that part of the API (it answered 404). Containers still work.'));
}

export async function catalogView(ctx) {
  const { app, main } = ctx;
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading the catalog…'));
  main.append(h('div.head', h('h1', 'Catalog')), h('p.hint', 'Named images your administrator set up. Build one, then start a container from it.'), errBox, body);

  const load = async () => {
    let cat;
    try {
      cat = await api.get('/catalog');
    } catch (e) {
      if (ctx.stopped) return;
      if (e.missing) clear(body, notAvailable('The catalog is'));
      else clear(errBox, alertBox(e, 'Could not read the catalog'));
      return;
    }
    if (ctx.stopped) return;
    clear(errBox);
    const entries = catalogEntries(cat).sort((a, b) => a.name.localeCompare(b.name));
    if (!entries.length) {
      clear(body, h('div.empty', h('p', h('strong', 'The catalog is empty.')),
        h('p', app.atLeast('admin') ? 'Add entries under catalog = { ... } in berth.conf, then reload berth.' : 'An admin adds entries to it in berth.conf.'),
        app.atLeast('operator') ? h('p', 'You can still ', h('a', { href: '#/create' }, 'create a container from an image'), '.') : null));
      return;
    }
    clear(body, h('div.cards', entries.map((e) => entryCard(e, app, ctx))));
  };
  await load();
}

function entryCard(e, app, ctx) {
  const image = e.image || e.tag;
  const progress = h('pre.logs.build', { hidden: true, 'aria-label': `Build output for ${e.name}` });
  const status = h('div.small.build-status', { 'aria-live': 'polite', dataset: { buildStatus: '' } });
  const acts = [];
  const idCode = h('code', e.image_id ? shortId(e.image_id) : '—');
  const outdatedBadge = e.outdated ? h('span.badge.warn', { title: 'The definition changed since this image was built' }, 'outdated') : null;
  const builtBadge = e.built === false ? h('span.badge.warn', 'not built') : h('span.badge.ok', 'built');
  if (app.atLeast('operator')) {
    const build = h('button.btn', { type: 'button', dataset: { action: 'build' }, 'aria-label': `build ${e.name}` }, e.built ? 'Rebuild' : 'Build');
    build.addEventListener('click', () => runBuild(e, build, progress, status, ctx, (id) => {
      builtBadge.replaceWith(h('span.badge.ok', 'built'));
      if (outdatedBadge) outdatedBadge.remove();
      if (id) clear(idCode, shortId(id));
      build.textContent = 'Rebuild';
    }));
    acts.push(build);
    acts.push(h('a.btn.primary', { href: '#/create?catalog=' + encodeURIComponent(e.name), dataset: { action: 'use' }, 'aria-label': `create a container from ${e.name}` }, 'Create container'));
  }
  const ports = catalogPorts(e.ports).map((p) => `${p.container}/${p.protocol || 'tcp'}`).join(', ');
  return h('article.card.entry', { dataset: { entry: e.name } },
    h('div.head', h('h2', e.name),
      h('div', builtBadge,
        outdatedBadge)),
    e.description ? h('p', e.description) : null,
    h('dl.kv.compact',
      h('dt', 'Image'), h('dd', h('code', image || '—')),
      e.command ? [h('dt', 'Command'), h('dd', h('code', shellJoin(e.command)))] : null,
      ports ? [h('dt', 'Ports'), h('dd', ports)] : null,
      h('dt', 'Image id'), h('dd', idCode)),
    acts.length ? h('div.row.wrap', acts) : null,
    status, progress);
}

const shortId = (id) => String(id).replace(/^sha256:/, '').slice(0, 12);

async function runBuild(e, btn, progress, status, ctx, built) {
  btn.disabled = true;
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
    await api.ndjson('POST', '/catalog/' + api.enc(e.name) + '/build', {}, (o) => {
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
    }, ctrl.signal);
  } catch (err) {
    if (err.name === 'AbortError') return;
    failed = errorText(err);
  }
  btn.disabled = false;
  if (failed) {
    progress.classList.add('failed');
    status.textContent = '';
    status.append(alertBox(failed, `Build of ${e.name} failed`));
    toast(`Build of ${e.name} failed`, 'error');
    return;
  }
  status.textContent = `Built ${e.name}${imageId ? ' (' + shortId(imageId) + ')' : ''}.`;
  status.dataset.done = '1';
  toast(`Built ${e.name}`);
  built(imageId);
}
