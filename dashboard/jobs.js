// jobs.js - run-to-completion jobs: submit one, watch the list with each
// job's status and how long it has been in it, read a job's logs.

import * as api from './api.js';
import { h, cell, clear, alertBox, toast, errorText, field, clearErrors, showError, textToEnv, shellJoin, since, when, confirmDialog, FieldError, poller } from './ui.js';
import { notAvailable } from './catalog.js';

const POLL_MS = 3000;
const DONE = new Set(['succeeded', 'failed', 'canceled', 'cancelled', 'timed_out', 'exited']);

function jobState(j) {
  const s = j.status || j.state || 'unknown';
  const cls = { succeeded: 'running', running: 'running', queued: 'created', failed: 'dead', timed_out: 'dead', canceled: 'exited', cancelled: 'exited' }[s] || 'exited';
  return h('span.pill', { class: 'state-' + cls, dataset: { status: s } }, s.replace('_', ' '));
}

export async function jobsView(ctx) {
  const { app, main } = ctx;
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading jobs…'));
  const formBox = h('div');
  main.append(h('div.head', h('h1', 'Jobs')),
    h('p.hint', 'A job runs a command in a container until it finishes; berth keeps its status and logs.'),
    formBox, errBox, body);

  let first = true;
  const load = poller(ctx, POLL_MS, () => api.get('/jobs'), (data) => {
    if (first && app.atLeast('operator')) formBox.append(submitForm(app, load));
    first = false;
    clear(errBox);
    const jobs = (data && (data.jobs || data)) || [];
    renderJobs(body, Array.isArray(jobs) ? jobs : [], app);
  }, (e) => {
    if (e.missing) {
      clear(body, notAvailable('Jobs are'));
      clear(formBox);
      return false;
    }
    clear(errBox, alertBox(e, 'Could not list jobs'));
  });
  await load();
}

function renderJobs(body, jobs, app) {
  if (!jobs.length) {
    clear(body, h('div.empty', h('p', h('strong', 'No jobs yet.')),
      h('p', app.atLeast('operator') ? 'Submit one with the form above.' : 'Operators and admins submit jobs; yours will show here.')));
    return;
  }
  jobs.sort((a, b) => String(b.since || b.started || '').localeCompare(String(a.since || a.started || ''), undefined, { numeric: true }));
  clear(body, h('div.table-wrap', h('table.grid',
    h('thead', h('tr', ['Job', 'Status', 'For', 'Image', 'Command', 'Exit'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', jobs.map((j) => h('tr', { dataset: { job: j.id } },
      cell('Job', h('a', { href: '#/jobs/' + encodeURIComponent(j.id) }, j.name || j.id)),
      cell('Status', jobState(j)),
      cell('For', since(j.since)),
      cell('Image', h('code', j.image || '—')),
      cell('Command', j.command ? h('code', shellJoin(j.command)) : '—'),
      cell('Exit', j.exit_code ?? h('span.muted', '—'))))))));
}

function submitForm(app, reload) {
  const name = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: 'name' }, placeholder: 'optional' });
  const image = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: 'image' }, placeholder: 'name:tag' });
  const command = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: 'command' }, placeholder: 'e.g. sh -c "echo hello"' });
  const env = h('textarea', { rows: 2, spellcheck: 'false', dataset: { field: 'environment' }, placeholder: 'KEY=value, one per line' });
  const timeout = h('input', { type: 'number', min: '1', dataset: { field: 'timeout' }, placeholder: 'default', class: 'narrow' });
  const submit = h('button.btn.primary', { type: 'submit', dataset: { action: 'submit-job' } }, 'Submit job');
  const form = h('form.form#job-form', { novalidate: true },
    h('div.cols2', field('Image', image), field('Name', name)),
    field('Command', command, 'Split like a shell would.'),
    h('div.cols2', field('Environment', env), field('Timeout (seconds)', timeout)),
    h('div.row', submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    try {
      const b = { image: image.value.trim() };
      if (command.value.trim()) b.command = command.value.trim();
      if (name.value.trim()) b.name = name.value.trim();
      let environment;
      try {
        environment = textToEnv(env.value);
      } catch (e) {
        throw new FieldError('environment', e.message);
      }
      if (Object.keys(environment).length) b.environment = environment;
      if (timeout.value.trim()) {
        if (!/^\d+$/.test(timeout.value.trim())) throw new FieldError('timeout', 'seconds, a whole number');
        b.timeout = Number(timeout.value);
      }
      const res = await api.post('/jobs', b);
      toast(`Submitted job ${res && res.id ? res.id : ''}`);
      reload();
    } catch (e) {
      showError(form, e);
    } finally {
      submit.disabled = false;
    }
  });
  return h('details.card', { open: true }, h('summary', 'Submit a job'), form);
}

export async function jobView(ctx) {
  const { app, main, params } = ctx;
  const id = params[0];
  const path = '/jobs/' + api.enc(id);
  const head = h('div.head', h('h1', 'Job ' + id));
  const errBox = h('div.errors');
  const info = h('section.card');
  const pre = h('pre.logs#job-logs', { tabindex: '0', 'aria-label': 'Job logs' });
  main.append(h('p.crumbs', h('a', { href: '#/jobs' }, '← Jobs')), head, errBox, info,
    h('section.card', h('h2', 'Logs'), pre));
  const load = poller(ctx, POLL_MS, () => api.get(path), async (j) => {
    clear(errBox);
    const acts = [];
    if (app.canManage(j) && !DONE.has(j.status)) {
      const cancel = h('button.btn.danger', { type: 'button', dataset: { action: 'cancel' } }, 'Cancel job');
      cancel.addEventListener('click', async () => {
        if (!(await confirmDialog(`Cancel job ${j.name || id}?`, 'Cancel job'))) return;
        try {
          await api.del(path);
          toast('Cancelled ' + (j.name || id));
          load();
        } catch (e) {
          clear(errBox, alertBox(e, 'Could not cancel'));
        }
      });
      acts.push(cancel);
    }
    clear(head, h('h1', 'Job ', j.name || id, ' ', jobState(j)), acts.length ? h('div.row', acts) : null);
    clear(info, h('dl.kv',
      [['Id', h('code', j.id || id)], ['Status', `${j.status} for ${since(j.since)}`], ['Image', h('code', j.image || '—')],
        ['Command', j.command ? h('code', shellJoin(j.command)) : '—'], ['Owner', j.owner || '—'],
        ['Started', when(j.started)], ['Finished', when(j.finished)], ['Exit code', j.exit_code ?? '—']]
        .map(([k, v]) => [h('dt', k), h('dd', v)])));
    try {
      const text = await api.request('GET', path + '/logs');
      if (ctx.stopped) return false;
      pre.textContent = typeof text === 'string' ? text : JSON.stringify(text, null, 2);
      if (!pre.textContent) pre.textContent = DONE.has(j.status) ? '(no output)' : '(no output yet)';
    } catch (e) {
      pre.textContent = 'Could not read the logs: ' + errorText(e);
    }
    return !DONE.has(j.status); // a finished job changes no more
  }, (e) => {
    clear(errBox, e.missing ? h('div.empty', h('p', `There is no job ${id} that you can see.`), h('p', h('a', { href: '#/jobs' }, 'Back to the jobs.'))) : alertBox(e, 'Could not load the job'));
    return !e.missing;
  });
  await load();
}
