// create.js - the create-a-container page: from an allowed image or a
// catalog entry, with every mistake the role's policy makes knowable shown
// at once, beside its field, before anything is sent.

import * as api from './api.js';
import { h, toast, alertBox, empty, shellJoin } from './ui.js';
import { argsForm, catalogPorts, envLines } from './spec.js';

// The form's values from catalog entry E (berth applies the same defaults).
function fromEntry(e) {
  return {
    name: e.name, image: e.image, command: shellJoin(e.command), env: envLines(e.env).join('\n'),
    ports: catalogPorts(e.ports), start: true,
  };
}

function entryNote(e) {
  return h('p.hint', { dataset: { entryNote: '' } }, 'From the catalog entry ', h('strong', e.name), e.built
    ? '.'
    : ': its image is not built yet. berth builds this image the first time a container is created from it, so creating this one takes a little longer.');
}

export async function createView(ctx) {
  const { app, main, query } = ctx;
  main.append(h('p.crumbs', h('a', { href: '#/containers' }, '← Containers')), h('h1', 'Create a container'));
  if (!app.me.can.create_containers) {
    main.append(empty(`Your role (${app.me.role}) can look but not create containers. Ask an admin for the operator role.`));
    return;
  }
  let entries = [];
  try {
    entries = (await api.get('/catalog')).entries;
  } catch (e) {
    main.append(alertBox(e, 'Could not read the catalog'));
  }
  let values = { start: true, image: query.get('image') || '' };
  const wanted = query.get('catalog');
  if (wanted) {
    const entry = entries.find((e) => e.name === wanted);
    if (entry) {
      values = fromEntry(entry);
      main.append(entryNote(entry));
    } else {
      main.append(h('div.alert', { role: 'alert' }, `The catalog has no entry called ${wanted}.`));
    }
  }
  const quota = app.me.policy.quota;
  if (quota !== null) main.append(h('p.hint', `The ${app.me.role} role may hold up to ${quota} containers.`));
  const catalogTags = entries.map((e) => e.image);
  const form = argsForm({
    id: 'create-form',
    me: app.me,
    catalogTags,
    values,
    fields: ['name', 'image', 'command', 'env', 'ports', 'restart', 'memory', 'cpus', 'start'],
    submitLabel: 'Create',
    onCancel: () => app.go('#/containers'),
    submit: async (b) => {
      const res = await api.post('/containers', b);
      toast(res.just_created ? `Created ${res.name}` : `${res.name} already existed: showing it`);
      app.go('#/containers/' + encodeURIComponent(res.name));
    },
  });
  main.append(h('section.card', form));
  form.controls.image.focus();
  fillImageOptions(form.querySelector('#image-options'), catalogTags);
}

// Suggestions for the image field: catalog images and local images the role may see.
async function fillImageOptions(dl, catalogTags) {
  const seen = new Set();
  const add = (img) => {
    if (seen.has(img) || img.endsWith(':<none>')) return;
    seen.add(img);
    dl.append(h('option', { value: img }));
  };
  catalogTags.forEach(add);
  try {
    for (const i of (await api.get('/images')).images) for (const t of i.tags || []) add(t);
  } catch {
    // Only suggestions: the field still takes any image.
  }
}
