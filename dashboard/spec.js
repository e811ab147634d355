// spec.js - berth's rules for what a container, service or job may ask
// for, mirrored so a form shows every mistake at once, each at its field,
// before anything is sent: an explicit image tag (src/policy.c
// pol_has_tag), the caller role's policy (GET /api/v1/whoami .policy),
// port numbers, sizes, CPUs, KEY=value lines.  berth still checks all of it;
// what it refuses is shown the same way.  Also the container form itself,
// shared by "create" and "edit arguments".

import { h, field, FieldError, onSubmit, size } from './ui.js';

export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const SIZE_RE = /^[0-9]+[kKmMgG]?[bB]?$/;
const MIN_MEMORY = 6 * 1024 * 1024;
const PROTOCOLS = ['tcp', 'udp', 'sctp'];
const RESTARTS = ['no', 'on-failure', 'always', 'unless-stopped'];

// --- the rules -------------------------------------------------------------------

// pol_has_tag: the last path part names a tag after its colon, or a digest pins it.
export function hasTag(ref) {
  if (ref.includes('@sha256:')) return true;
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon >= 0 && colon < last.length - 1;
}

const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// An fnmatch(3) pattern without flags, as berth matches the allow-list:
// * and ? match any character ('/' too), [...] a set, \x the x itself.
function globRe(p) {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    const close = c === '[' ? p.indexOf(']', i + (p[i + 1] === '!' ? 3 : 2)) : -1;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '\\' && i + 1 < p.length) re += reEscape(p[++i]);
    else if (close > 0) {
      const set = p.slice(i + 1, close);
      re += '[' + (set[0] === '!' ? '^' + set.slice(1) : set).replace(/\\/g, '\\\\') + ']';
      i = close;
    } else re += reEscape(c);
  }
  return new RegExp('^' + re + '$');
}

export function imageAllowed(policy, ref, catalogTags = []) {
  return catalogTags.includes(ref) || policy.images.some((p) => p === '*' || globRe(p).test(ref));
}

// Each check below adds what is wrong with one field to ERRS (FieldErrors).

export function checkName(errs, name, value, max = 64) {
  if (value && (!NAME_RE.test(value) || value.length > max)) {
    errs.push(new FieldError(name, `up to ${max} letters, digits, dot, dash and underscore, starting with a letter or digit`));
  }
}

// ME is GET /whoami's answer; CATALOG the tags berth builds itself, which
// containers (not services or jobs) may use whatever the allow-list says.
export function checkImage(errs, name, ref, me, catalogTags = []) {
  if (!ref) errs.push(new FieldError(name, 'name the image to run, with its tag (name:tag)'));
  else if (!hasTag(ref)) errs.push(new FieldError(name, `${ref} has no explicit tag; name one, e.g. ${ref}:1.0`));
  else if (!imageAllowed(me.policy, ref, catalogTags)) {
    errs.push(new FieldError(name, `${ref} is not an image the ${me.role} role may run (${allowedImages(me.policy, catalogTags.length > 0)})`));
  }
}

// The images a role may run, in words; WITH_CATALOG adds the catalog's.
export function allowedImages(policy, withCatalog) {
  if (policy.images.includes('*')) return 'any image';
  const pats = policy.images.concat(withCatalog ? ["the catalog's images"] : []);
  return pats.length ? pats.join(', ') : 'none';
}

function portNumber(v) {
  return /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535;
}

export function checkPort(errs, name, v) {
  if (!portNumber(v)) errs.push(new FieldError(name, 'a port number from 1 to 65535'));
}

export function checkHostPort(errs, name, v, me) {
  const range = me.policy.ports;
  if (!portNumber(v)) errs.push(new FieldError(name, 'a port number from 1 to 65535, or empty for a free one'));
  else if (!range) errs.push(new FieldError(name, `the ${me.role} role may not choose host ports: leave it empty for a free one`));
  else if (Number(v) < range[0] || Number(v) > range[1]) {
    errs.push(new FieldError(name, `host port ${v} is outside the ${me.role} role's range ${range[0]}-${range[1]}`));
  }
}

export function hostPortHint(me) {
  const range = me.policy.ports;
  return range ? `Host ports: empty for a free one, or one from ${range[0]} to ${range[1]}.`
    : `Host ports: berth picks free ones (the ${me.role} role may not choose).`;
}

// "512m" -> bytes, as berth's cfg_parse_size reads it; NaN when it is not a size.
export function parseSize(s) {
  const m = /^([0-9]+)([kKmMgG]?)[bB]?$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()]);
}

export function checkMemory(errs, name, v, me) {
  const max = me.policy.memory_max;
  if (!SIZE_RE.test(v)) errs.push(new FieldError(name, 'a size such as 512m or 2g'));
  else if (parseSize(v) < MIN_MEMORY) errs.push(new FieldError(name, 'at least 6m'));
  else if (max && parseSize(v) > max) errs.push(new FieldError(name, `above the ${me.role} role's limit of ${size(max)}`));
}

export function memoryHint(policy) {
  return ['e.g. 64m or 1g; at least 6m', policy.memory_max ? `at most ${size(policy.memory_max)}` : null,
    policy.memory_default ? `${size(policy.memory_default)} when empty` : 'no limit when empty'].filter(Boolean).join('; ') + '.';
}

export function checkCpus(errs, name, v, me) {
  const max = me.policy.cpus_max;
  const n = Number(v);
  if (!/^\d*\.?\d+$/.test(v) || !(n > 0) || n > 1024) errs.push(new FieldError(name, 'a number of cores above 0, e.g. 0.5 or 2'));
  else if (max && n > max) errs.push(new FieldError(name, `above the ${me.role} role's limit of ${max}`));
}

export function cpusHint(policy) {
  return ['cores, e.g. 0.5', policy.cpus_max ? `at most ${policy.cpus_max}` : null,
    policy.cpus_default ? `${policy.cpus_default} when empty` : 'no limit when empty'].filter(Boolean).join('; ') + '.';
}

// Service ports: "8080" or "53/udp", each published on a free host port.
export function checkServicePorts(errs, name, list) {
  const bad = list.filter((p) => !/^[0-9]{1,5}(\/(tcp|udp|sctp))?$/.test(p) || !portNumber(p.split('/')[0]));
  if (bad.length) errs.push(new FieldError(name, `${bad.join(', ')}: a port is a number from 1 to 65535, optionally /tcp, /udp or /sctp`));
}

// "KEY=value" lines -> {KEY: value}; lines that are not add one error for NAME.
export function readEnv(errs, name, text) {
  const env = {};
  const bad = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) bad.push(`"${line}"`);
    else env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  if (bad.length) errs.push(new FieldError(name, `${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} not KEY=value`));
  return env;
}

// An environment as berth shows it (["K=V"] or {K: V}) as KEY=value lines.
export function envLines(env) {
  if (Array.isArray(env)) return env;
  return Object.entries(env || {}).map(([k, v]) => k + '=' + v);
}

// A catalog entry's ports (80, "53/udp" or {container, host?, protocol?}) as port rows.
export function catalogPorts(ports) {
  return (ports || []).map((p) => {
    const o = typeof p === 'object' ? p : { container: p };
    const [c, proto] = String(o.container).split('/');
    return { container: Number(c), host: o.host, protocol: o.protocol || proto || 'tcp' };
  });
}

// --- the container form -------------------------------------------------------------

// Port rows: container port, optional host port, protocol.
function portRows(initial, me) {
  const box = h('div.port-rows');
  const rows = [];
  const addRow = (p = {}) => {
    const i = rows.length;
    const num = (f, v, extra) => h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', value: v ? String(v) : '', dataset: { field: `ports[${i}].${f}` }, ...extra });
    const cont = num('container', p.container);
    const host = num('host', p.host, { placeholder: 'any free port' });
    const proto = h('select', { dataset: { field: `ports[${i}].protocol` } }, PROTOCOLS.map((v) => h('option', { value: v, selected: (p.protocol || 'tcp') === v }, v)));
    box.append(h('div.port-row', { dataset: { row: String(i) } },
      field(`Container port ${i + 1}`, cont), field('Host port', host), field('Protocol', proto)));
    rows.push({ cont, host, proto });
    return cont;
  };
  for (const p of initial || []) addRow(p);
  if (!rows.length) addRow();
  const add = h('button.btn.small', { type: 'button' }, 'Add a port');
  add.addEventListener('click', () => addRow().focus());
  // The rows a person filled in, checked; MAP[k] is the row of the k-th port sent.
  const read = (errs) => {
    const ports = [];
    const map = [];
    rows.forEach((r, i) => {
      const c = r.cont.value.trim();
      const hp = r.host.value.trim();
      if (!c && !hp) return;
      checkPort(errs, `ports[${i}].container`, c);
      const p = { container: Number(c), protocol: r.proto.value };
      if (hp) {
        checkHostPort(errs, `ports[${i}].host`, hp, me);
        p.host = Number(hp);
      }
      map.push(i);
      ports.push(p);
    });
    return { ports, map };
  };
  return { el: h('fieldset.port-set', h('legend', 'Ports'), h('p.hint', hostPortHint(me)), box, add), read };
}

const text = (f, v, placeholder) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: v || '', dataset: { field: f }, placeholder });

// The read-only list of what the image sets, under the environment field.
function imageEnvNote(imageEnv) {
  if (!imageEnv) return null;
  const lines = envLines(imageEnv);
  return h('div.image-env', { dataset: { imageEnv: '' } },
    h('p.hint', lines.length ? 'From the image (read only; set one above to override it):' : 'The image sets no environment.'),
    lines.length ? h('ul.plain', lines.map((l) => h('li', h('code', l)))) : null);
}

// argsForm({id, me, catalogTags, values, imageEnv, fields, replace,
// changedOnly, submitLabel, note, submit(body), onCancel}) -> <form>.
// ME is GET /whoami's answer (role and policy).  With changedOnly only the
// fields that differ from VALUES are sent, so an untouched field (its host
// ports, the environment) keeps what the container has.
export function argsForm(o) {
  const v = o.values || {};
  const me = o.me;
  const want = new Set(o.fields);
  const parts = [];
  const c = {};
  const form = h('form.form', { id: o.id, novalidate: true });
  if (o.note) parts.push(h('p.hint', o.note));
  if (want.has('name')) {
    c.name = text('name', v.name, 'chosen for you when empty');
    parts.push(field('Name', c.name, 'Letters, digits, dot, dash and underscore.'));
  }
  if (want.has('image')) {
    c.image = text('image', v.image, 'name:tag');
    c.image.setAttribute('list', 'image-options');
    parts.push(field('Image', c.image, `With its tag (name:tag). The ${me.role} role may run: ${allowedImages(me.policy, Boolean(o.catalogTags && o.catalogTags.length))}.`), h('datalist#image-options'));
  }
  if (want.has('command')) {
    c.command = text('command', v.command, "the image's default");
    parts.push(field('Command', c.command, 'Split like a shell would: quote arguments that contain spaces.'));
  }
  if (want.has('env')) {
    c.env = h('textarea', { rows: 3, spellcheck: 'false', value: v.env || '', dataset: { field: 'env' }, placeholder: 'KEY=value, one per line' });
    parts.push(field('Environment', c.env, o.envHint || 'One KEY=value per line.'), imageEnvNote(o.imageEnv));
  }
  let ports = null;
  if (want.has('ports')) {
    ports = portRows(v.ports, me);
    parts.push(ports.el);
  }
  const extra = [];
  if (want.has('restart')) {
    c.restart = h('select', { dataset: { field: 'restart' } }, RESTARTS.map((r) => h('option', { value: r, selected: (v.restart || 'no') === r }, r)));
    extra.push(field('Restart policy', c.restart));
  }
  if (want.has('memory')) {
    c.memory = text('memory', v.memory, me.policy.memory_default ? size(me.policy.memory_default) : 'no limit');
    extra.push(field('Memory limit', c.memory, memoryHint(me.policy)));
  }
  if (want.has('cpus')) {
    c.cpus = text('cpus', v.cpus, me.policy.cpus_default ? String(me.policy.cpus_default) : 'no limit');
    extra.push(field('CPUs', c.cpus, cpusHint(me.policy)));
  }
  if (extra.length) parts.push(h('div.row.wrap.fields', extra));
  if (want.has('start')) {
    c.start = h('input', { type: 'checkbox', checked: v.start !== false, dataset: { field: 'start' } });
    parts.push(h('label.check', c.start, ' start it now'));
  }
  parts.push(h('div.row', h('button.btn.primary', { type: 'submit', dataset: { action: 'submit' } }, o.submitLabel),
    o.onCancel ? h('button.btn', { type: 'button', on: { click: o.onCancel } }, 'Cancel') : null));
  form.append(...parts.filter(Boolean));

  const val = (k) => (c[k] ? c[k].value.trim() : '');
  const read = () => {
    const errs = [];
    const b = {};
    let map = [];
    checkName(errs, 'name', val('name'));
    if (val('name')) b.name = val('name');
    if (c.image) {
      checkImage(errs, 'image', val('image'), me, o.catalogTags);
      b.image = val('image');
    }
    if (val('command')) b.command = val('command');
    if (c.env) {
      const env = readEnv(errs, 'env', c.env.value);
      if (Object.keys(env).length || o.replace) b.env = env;
    }
    if (ports) {
      const p = ports.read(errs);
      map = p.map;
      if (p.ports.length || o.replace) b.ports = p.ports;
    }
    if (c.restart) b.restart = c.restart.value;
    if (val('memory')) {
      checkMemory(errs, 'memory', val('memory'), me);
      b.memory = val('memory');
    }
    if (val('cpus')) {
      checkCpus(errs, 'cpus', val('cpus'), me);
      b.cpus = Number(val('cpus'));
    }
    if (c.start) b.start = c.start.checked;
    return { b, errs, map };
  };

  const initial = o.changedOnly ? read().b : null;
  const changes = (b) => {
    if (!initial) return b;
    const out = {};
    for (const [k, x] of Object.entries(b)) if (JSON.stringify(x) !== JSON.stringify(initial[k])) out[k] = x;
    return out;
  };

  onSubmit(form, async () => {
    const { b, errs, map } = read();
    if (errs.length) throw errs;
    const body = changes(b);
    if (!Object.keys(body).length) throw new FieldError(null, 'Nothing changed: edit a field first.');
    try {
      await o.submit(body);
    } catch (e) {
      // berth numbers the ports it was sent; empty rows were not sent.
      if (e.field) e.field = e.field.replace(/^ports\[(\d+)\]/, (_, k) => `ports[${map[Number(k)] ?? k}]`);
      throw e;
    }
  });
  form.controls = c;
  return form;
}
