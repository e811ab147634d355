// jobs.js - run-to-completion jobs: submit one, watch the list with each
// job's status and how long it has been in it, read a job's logs, cancel
// or remove it as its can allows.

import * as api from './api.js';
import { h, cell, table, clear, empty, alertBox, toast, errorText, field, shellJoin, since, when, confirmDialog, FieldError, poller, busy, onSubmit } from './ui.js';
import { follow } from './events.js';
import { checkName, checkImage, readEnv } from './spec.js';

const POLL_MS = 3000;
// The statuses berth reports (src/jobs.c); the last four are final.
const DONE = new Set(['succeeded', 'failed', 'canceled', 'timed_out']);
const PILL = { queued: 'created', running: 'running', succeeded: 'running', failed: 'dead', canceled: 'exited', timed_out: 'dead' };
const MAX_TIMEOUT = 7 * 86400;

function jobState(j) {
  return h('span.pill', { class: 'state-' + PILL[j.status], dataset: { status: j.status } }, j.status.replace('_', ' '));
}

export async function jobsView(ctx) {
  const { app, main } = ctx;
  const errBox = h('div.errors');
  const body = h('div', h('p.muted', 'Loading jobs…'));
  main.append(h('div.head', h('h1', 'Jobs')),
    h('p.hint', 'A job runs a command in a container until it finishes; berth keeps its status and logs.'));
  const load = poller(ctx, POLL_MS, () => api.get('/jobs'), (data) => {
    clear(errBox);
    renderJobs(body, data.jobs, app);
  }, (e) => clear(errBox, alertBox(e, 'Could not list jobs')), follow(ctx, ['job'], () => load()));
  if (app.me.can.submit_jobs) main.append(submitForm(app.me, load));
  main.append(errBox, body);
  await load();
}

// berth lists the newest first.
function renderJobs(body, jobs, app) {
  if (!jobs.length) {
    clear(body, empty(h('p', h('strong', 'No jobs yet.')),
      app.me.can.submit_jobs ? 'Submit one with the form above.' : 'Operators and admins submit jobs; yours will show here.'));
    return;
  }
  clear(body, table('jobs', ['Job', 'Status', 'For', 'Image', 'Command', 'Exit'], jobs.map((j) => h('tr', { dataset: { job: j.id } },
    cell('Job', h('a', { href: '#/jobs/' + encodeURIComponent(j.id) }, j.name || j.id)),
    cell('Status', jobState(j)),
    cell('For', since(j.since)),
    cell('Image', h('code', j.image)),
    cell('Command', h('code', shellJoin(j.command))),
    cell('Exit', j.exit_code ?? h('span.muted', '—'))))));
}

function submitForm(me, reload) {
  const text = (f, placeholder) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', dataset: { field: f }, placeholder });
  const name = text('name', 'optional');
  const image = text('image', 'name:tag');
  const command = text('command', 'e.g. sh -c "echo hello"');
  const env = h('textarea', { rows: 2, spellcheck: 'false', dataset: { field: 'environment' }, placeholder: 'KEY=value, one per line' });
  const timeout = h('input.narrow', { type: 'text', inputmode: 'numeric', autocomplete: 'off', dataset: { field: 'timeout' }, placeholder: 'default' });
  const form = h('form.form#job-form', { novalidate: true },
    h('div.cols2', field('Image', image, 'With its tag (name:tag).'), field('Name', name)),
    field('Command', command, 'Split like a shell would.'),
    h('div.cols2', field('Environment', env, 'One KEY=value per line.'), field('Timeout (seconds)', timeout)),
    h('div.row', h('button.btn.primary', { type: 'submit', dataset: { action: 'submit-job' } }, 'Submit job')));
  onSubmit(form, async () => {
    const errs = [];
    const b = { image: image.value.trim(), command: command.value.trim() };
    checkImage(errs, 'image', b.image, me);
    if (!b.command) errs.push(new FieldError('command', 'give the command the job runs'));
    if (name.value.trim()) b.name = name.value.trim();
    checkName(errs, 'name', name.value.trim());
    const environment = readEnv(errs, 'environment', env.value);
    if (Object.keys(environment).length) b.environment = environment;
    const t = timeout.value.trim();
    if (t) {
      if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > MAX_TIMEOUT) errs.push(new FieldError('timeout', `whole seconds, from 1 to ${MAX_TIMEOUT}`));
      b.timeout = Number(t);
    }
    if (errs.length) throw errs;
    const res = await api.post('/jobs', b);
    toast(`Submitted job ${res.id}`);
    reload();
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
  const pre = h('pre.logs#job-logs', { tabindex: '0', 'aria-labelledby': 'job-logs-h' });
  main.append(h('p.crumbs', h('a', { href: '#/jobs' }, '← Jobs')), head, errBox, info,
    h('section.card', h('h2#job-logs-h', 'Logs'), pre));
  const load = poller(ctx, POLL_MS, () => api.get(path), async (j) => {
    clear(errBox);
    const acts = [];
    // One DELETE: it cancels a job that has not finished and removes one that has.
    const act = (action, label, question, done, after) => {
      const b = h('button.btn.danger', { type: 'button', dataset: { action } }, label);
      b.addEventListener('click', async () => {
        if (!(await confirmDialog(`${question} job ${j.name || id}?`, label))) return;
        try {
          await busy(b, () => api.del(path));
          toast(`${done} ${j.name || id}`);
          after();
        } catch (e) {
          clear(errBox, alertBox(e, `Could not ${action}`));
        }
      });
      acts.push(b);
    };
    if (j.can.cancel) act('cancel', 'Cancel job', 'Cancel', 'Cancelled', load);
    if (j.can.remove) act('remove', 'Remove job', 'Remove, with its logs,', 'Removed', () => app.go('#/jobs'));
    clear(head, h('h1', 'Job ', j.name || id, ' ', jobState(j)), acts.length ? h('div.row', acts) : null);
    clear(info, h('dl.kv',
      [['Id', h('code', j.id)], ['Status', `${j.status} for ${since(j.since)}`], ['Image', h('code', j.image)],
        ['Command', h('code', shellJoin(j.command))], ['Owner', j.owner],
        ['Started', when(j.started)], ['Finished', when(j.finished)], ['Exit code', j.exit_code ?? '—'],
        j.error ? ['Error', j.error] : null]
        .filter(Boolean).map(([k, v]) => [h('dt', k), h('dd', v)])));
    try {
      const text = await api.text(path + '/logs');
      if (ctx.stopped) return false;
      pre.textContent = text || (DONE.has(j.status) ? '(no output)' : '(no output yet)');
    } catch (e) {
      pre.textContent = 'Could not read the logs: ' + errorText(e);
    }
    return !DONE.has(j.status); // a finished job changes no more
  }, (e) => {
    clear(errBox, e.missing ? empty(`There is no job ${id} that you can see.`, h('p', h('a', { href: '#/jobs' }, 'Back to the jobs.'))) : alertBox(e, 'Could not load the job'));
    return !e.missing;
  });
  await load();
}
