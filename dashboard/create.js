// create.js - the container form: create from an allowed image or a
// catalog entry, and (argsForm) the same fields for editing a container's
// arguments. berth validates; its errors are shown beside the field named.

import * as api from './api.js';
import { h, field, clearErrors, showError, toast, alertBox, textToEnv, FieldError, shellJoin, envToText } from './ui.js';

const RESTARTS = ['no', 'on-failure', 'always', 'unless-stopped'];

// Port rows: container port, optional host port, protocol.
function portRows(initial) {
  const box = h('div.port-rows');
  const rows = [];
  const addRow = (p = {}) => {
    const i = rows.length;
    const cont = h('input', { type: 'number', inputmode: 'numeric', min: '1', max: '65535', value: p.container ? String(p.container) : '', dataset: { field: `ports[${i}].container` } });
    const host = h('input', { type: 'number', inputmode: 'numeric', min: '1', max: '65535', value: p.host ? String(p.host) : '', placeholder: 'any free port', dataset: { field: `ports[${i}].host` } });
    const proto = h('select', { dataset: { field: `ports[${i}].protocol` } }, ['tcp', 'udp'].map((v) => h('option', { value: v, selected: (p.protocol || 'tcp') === v }, v)));
    const row = h('div.port-row', { dataset: { row: String(i) } },
      field(`Container port ${i + 1}`, cont), field('Host port', host), field('Protocol', proto));
    rows.push({ cont, host, proto, row });
    box.append(row);
    return cont;
  };
  for (const p of initial || []) addRow(p);
  if (!rows.length) addRow();
  const add = h('button.btn.small', { type: 'button' }, 'Add a port');
  add.addEventListener('click', () => addRow().focus());
  const read = () => {
    const out = [];
    const map = [];
    rows.forEach((r, i) => {
      const c = r.cont.value.trim();
      const hp = r.host.value.trim();
      if (!c && !hp) return;
      if (!/^\d+$/.test(c)) throw new FieldError(`ports[${i}].container`, 'give the port the container listens on (a number)');
      const p = { container: Number(c), protocol: r.proto.value };
      if (hp) {
        if (!/^\d+$/.test(hp)) throw new FieldError(`ports[${i}].host`, 'a host port is a number (or leave it empty)');
        p.host = Number(hp);
      }
      map.push(i);
      out.push(p);
    });
    return { ports: out, map };
  };
  return { el: h('fieldset.port-set', h('legend', 'Ports'), box, add), read };
}

// argsForm({id, values, fields, submitLabel, note, submit(body), onCancel})
export function argsForm(o) {
  const v = o.values || {};
  const want = new Set(o.fields);
  const parts = [];
  const controls = {};
  const form = h('form.form', { id: o.id, novalidate: true });
  if (o.note) parts.push(h('p.hint', o.note));
  if (want.has('name')) {
    controls.name = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: v.name || '', dataset: { field: 'name' }, placeholder: 'chosen for you when empty' });
    parts.push(field('Name', controls.name, 'Letters, digits, dot, dash and underscore.'));
  }
  if (want.has('image')) {
    controls.image = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: v.image || '', dataset: { field: 'image' }, list: 'image-options', placeholder: 'name:tag' });
    parts.push(field('Image', controls.image, 'An image your role may run, with its tag (name:tag).'), h('datalist#image-options'));
  }
  if (want.has('command')) {
    controls.command = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: v.command || '', dataset: { field: 'command' }, placeholder: "the image's default" });
    parts.push(field('Command', controls.command, 'Split like a shell would: quote arguments that contain spaces.'));
  }
  if (want.has('env')) {
    controls.env = h('textarea', { rows: 3, spellcheck: 'false', value: v.env || '', dataset: { field: 'env' }, placeholder: 'KEY=value, one per line' });
    parts.push(field('Environment', controls.env, 'One KEY=value per line.'));
  }
  let ports = null;
  if (want.has('ports')) {
    ports = portRows(v.ports);
    parts.push(ports.el);
  }
  const extra = [];
  if (want.has('restart')) {
    controls.restart = h('select', { dataset: { field: 'restart' } }, RESTARTS.map((r) => h('option', { value: r, selected: (v.restart || 'no') === r }, r)));
    extra.push(field('Restart policy', controls.restart));
  }
  if (want.has('memory')) {
    controls.memory = h('input', { type: 'text', autocomplete: 'off', value: v.memory || '', dataset: { field: 'memory' }, placeholder: 'role default', size: 8 });
    extra.push(field('Memory limit', controls.memory, 'e.g. 64m or 1g'));
  }
  if (extra.length) parts.push(h('div.row.wrap.fields', extra));
  if (want.has('start')) {
    controls.start = h('input', { type: 'checkbox', checked: v.start !== false, dataset: { field: 'start' } });
    parts.push(h('label.check', controls.start, ' start it now'));
  }
  const submitBtn = h('button.btn.primary', { type: 'submit', dataset: { action: 'submit' } }, o.submitLabel || 'Save');
  parts.push(h('div.row', submitBtn,
    o.onCancel ? h('button.btn', { type: 'button', on: { click: o.onCancel } }, 'Cancel') : null));
  form.append(...parts);

  const body = () => {
    const b = {};
    let map = [];
    if (controls.name && controls.name.value.trim()) b.name = controls.name.value.trim();
    if (controls.image) b.image = controls.image.value.trim();
    if (controls.command) {
      const cmd = controls.command.value.trim();
      if (cmd) b.command = cmd;
    }
    if (controls.env) {
      const env = textToEnv(controls.env.value);
      if (Object.keys(env).length || o.replace) b.env = env;
    }
    if (ports) {
      const p = ports.read();
      map = p.map;
      if (p.ports.length || o.replace) b.ports = p.ports;
    }
    if (controls.restart) b.restart = controls.restart.value;
    if (controls.memory && controls.memory.value.trim()) b.memory = controls.memory.value.trim();
    if (controls.start) b.start = controls.start.checked;
    return { b, map };
  };

  // Editing sends only what changed, so an untouched field keeps its value.
  const initial = o.changedOnly ? body().b : null;
  const changes = (b) => {
    if (!initial) return b;
    const out = {};
    for (const [k, v] of Object.entries(b)) if (JSON.stringify(v) !== JSON.stringify(initial[k])) out[k] = v;
    if (!Object.keys(out).length) throw new FieldError(null, 'Nothing changed: edit a field first.');
    return out;
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    let map = [];
    submitBtn.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const built = body();
      map = built.map;
      await o.submit(changes(built.b));
    } catch (e) {
      // berth numbers the ports it was sent; empty rows were not sent.
      if (e.field && /^ports\[\d+\]/.test(e.field) && !(e instanceof FieldError)) {
        e.field = e.field.replace(/^ports\[(\d+)\]/, (_, k) => `ports[${map[Number(k)] ?? k}]`);
      }
      showError(form, e);
    } finally {
      submitBtn.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
  form.controls = controls;
  return form;
}

// Catalog entries describe ports in more than one way; make them port rows.
export function catalogPorts(ports) {
  if (!ports) return [];
  if (!Array.isArray(ports)) ports = Object.keys(ports);
  return ports.map((p) => {
    if (typeof p === 'number') return { container: p };
    if (typeof p === 'string') {
      const [c, proto] = p.split('/');
      return { container: Number(c.split(':').pop()), protocol: proto || 'tcp' };
    }
    return { container: p.container || p.port, host: p.host, protocol: p.protocol || 'tcp' };
  }).filter((p) => p.container);
}

export async function createView(ctx) {
  const { app, main, query } = ctx;
  main.append(h('p.crumbs', h('a', { href: '#/containers' }, '← Containers')), h('h1', 'Create a container'));
  if (!app.atLeast('operator')) {
    main.append(h('div.empty', h('p', `Your role (${app.me.role}) can look but not create containers. Ask an admin for the operator role.`)));
    return;
  }
  const values = { start: true };
  const fromCatalog = query.get('catalog');
  let entry = null;
  if (fromCatalog) {
    try {
      const cat = await api.get('/catalog');
      entry = catalogEntries(cat).find((e) => e.name === fromCatalog) || null;
    } catch (e) {
      main.append(alertBox(e, 'Could not read the catalog'));
    }
    if (entry) {
      values.image = entry.image || entry.tag || '';
      values.command = entry.command ? shellJoin(entry.command) : '';
      values.env = envToText(entry.env || entry.environment);
      values.ports = catalogPorts(entry.ports);
      values.name = entry.name;
      main.append(h('p.hint', 'From the catalog entry ', h('strong', entry.name), entry.built === false ? ' — its image is not built yet: build it in the catalog first.' : '.'));
    } else if (!main.querySelector('.alert')) {
      main.append(h('div.alert', { role: 'alert' }, `The catalog has no entry called ${fromCatalog}.`));
    }
  } else if (query.get('image')) {
    values.image = query.get('image');
  }
  const form = argsForm({
    id: 'create-form',
    values,
    fields: ['name', 'image', 'command', 'env', 'ports', 'restart', 'memory', 'start'],
    submitLabel: 'Create',
    onCancel: () => app.go('#/containers'),
    submit: async (b) => {
      const res = await api.post('/containers', b);
      toast(res && res.just_created === false ? `${res.name} already existed: showing it` : `Created ${res.name}`);
      app.go('#/containers/' + encodeURIComponent(res.name));
    },
  });
  main.append(h('section.card', form));
  form.controls.image.focus();
  fillImageOptions(form.querySelector('#image-options'));
}

export function catalogEntries(cat) {
  if (!cat) return [];
  const list = cat.entries || cat.catalog || cat;
  if (Array.isArray(list)) return list;
  return Object.entries(list).map(([name, e]) => ({ name, ...e }));
}

// Suggestions for the image field: catalog images and images already in use.
async function fillImageOptions(dl) {
  const seen = new Set();
  const add = (img) => {
    if (!img || seen.has(img) || !/:/.test(img) || /^sha256:/.test(img)) return;
    seen.add(img);
    dl.append(h('option', { value: img }));
  };
  const [cat, cts, imgs] = await Promise.allSettled([api.get('/catalog'), api.get('/containers?all=1'), api.get('/images')]);
  if (cat.status === 'fulfilled') for (const e of catalogEntries(cat.value)) add(e.image || e.tag);
  if (cts.status === 'fulfilled') for (const c of cts.value.containers || []) add(c.image);
  if (imgs.status === 'fulfilled') {
    const list = Array.isArray(imgs.value) ? imgs.value : imgs.value.images || [];
    for (const i of list) for (const t of i.tags || i.RepoTags || (i.tag ? [i.tag] : [])) add(t);
  }
}
