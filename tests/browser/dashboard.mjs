// tests/browser/dashboard.mjs - drives Debian's Chromium through the berth
// dashboard with playwright-core, as an operator, a viewer and an admin.
// Run by tests/integ/dashboard.sh: BERTH_URL, INST, SHOTS, NPM_DIR in the
// environment. Prints TAP lines ("ok - dashboard: ..."); exits 1 on failure.
import { createRequire } from 'node:module';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const require = createRequire(path.join(process.env.NPM_DIR, 'node_modules', 'x.js'));
const { chromium } = require('playwright-core');

const URL = process.env.BERTH_URL;
const INST = process.env.INST;
const SHOTS = process.env.SHOTS;
const CAT = process.env.CAT; // the prefix of the suite's catalog tags
const MOVING = process.env.MOVING; // a tag this script moves to another image
const IMG = 'berth-test/busybox:1';
const WAIT = 30000;
const users = { admin: ['ada', 'a'], operator: ['otto', 'o'], viewer: ['vera', 'v'] };

let failed = 0;
function ok(name) {
  console.log(`ok - dashboard: ${name}`);
}
function skip(name, why) {
  console.log(`ok - dashboard: ${name} # SKIP ${why}`);
}
// The page a step works on, for the screenshot and text shown when it fails.
let current = null;
async function step(name, fn) {
  try {
    await fn();
    ok(name);
    return true;
  } catch (e) {
    failed++;
    console.log(`not ok - dashboard: ${name}: ${String(e && e.message ? e.message : e).split('\n').slice(0, 3).join(' | ')}`);
    if (current && !current.isClosed()) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
      await current.screenshot({ path: `${SHOTS}/failed-${slug}.png`, fullPage: true }).catch(() => {});
      const text = await current.evaluate(() => document.body.innerText).catch((x) => String(x));
      console.log(`# page ${current.url()}: ${text.replace(/\s+/g, ' ').slice(0, 400)}`);
    }
    return false;
  }
}
function assert(cond, what) {
  if (!cond) throw new Error(what);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
});

// A logged-in browser context and an API client for one role.
const consoleProblems = [];
async function as(role, viewport = { width: 1280, height: 860 }) {
  const [username, password] = users[role];
  const context = await browser.newContext({ httpCredentials: { username, password }, viewport, baseURL: URL });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  page.on('pageerror', (e) => consoleProblems.push(`${role}: page error: ${e.message}`));
  page.on('console', (m) => {
    // A 404 from an API that is not there yet is logged by Chromium itself; the page handles it.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) consoleProblems.push(`${role}: ${m.text()}`);
  });
  return { context, page, api: context.request };
}
const shot = (page, name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const hash = (page, h) => page.waitForFunction((want) => location.hash === want, h);
const available = async (api, p) => (await api.get('/api/v1' + p)).status() !== 404;
async function apiJson(api, method, p, data) {
  const res = await api.fetch('/api/v1' + p, { method, data, headers: data ? { 'Content-Type': 'application/json' } : {} });
  return { status: res.status(), body: await res.json().catch(() => null) };
}

const op = await as('operator');
const P = op.page;
current = P;
const WEB = `${INST}-web`; // the container made from the catalog entry "web"

await step('operator logs in and sees who they are', async () => {
  const res = await P.goto('/');
  assert(/default-src 'self'/.test(res.headers()['content-security-policy'] || ''), 'no CSP header on /');
  await P.locator('#me', { hasText: 'otto · operator' }).waitFor();
  await P.getByRole('heading', { name: 'Containers' }).waitFor();
});

await step('an empty list says what to do next', async () => {
  await P.locator('.empty', { hasText: 'No containers here yet' }).waitFor();
  await P.locator('.empty a[href="#/create"]').waitFor();
  await shot(P, '01-containers-empty');
});

// --- the catalog: builds streamed, then the main flow on a container made from it ------
// berth.conf (tests/integ/dashboard.sh) declares "web", a busybox httpd
// serving a known /index.html with -v (each request is logged), and "broken".
const hasCatalog = await available(op.api, '/catalog');
let entryTag = null;
if (hasCatalog) {
  await step('catalog: Build streams the build output and ends built, with the image id', async () => {
    await P.goto('/#/catalog');
    const card = P.locator('article.entry[data-entry="web"]');
    await card.locator('.badge', { hasText: 'not built' }).waitFor();
    entryTag = (await card.locator('dd code').first().innerText()).trim();
    assert(entryTag === `${CAT}/web:1`, `the entry's image shown as ${entryTag}`);
    await card.locator('[data-action="build"]', { hasText: 'Build' }).click();
    await card.locator('pre.build', { hasText: /Step 1\/\d+ : FROM berth-test\/busybox:1/ }).waitFor({ timeout: 120000 });
    const done = card.locator('[data-build-status][data-done="1"]');
    await done.waitFor({ timeout: 120000 });
    const text = await done.innerText();
    assert(/^Built web \([0-9a-f]{12}\)/.test(text), `the end of the build says "${text}"`);
    const out = await card.locator('pre.build').innerText();
    const steps = [...out.matchAll(/Step (\d+)\/(\d+) :/g)].map((m) => `${m[1]}/${m[2]}`);
    const total = steps.length && steps[0].split('/')[1];
    assert(steps.length >= 3 && steps.at(-1) === `${total}/${total}` && /Successfully built/.test(out), `not every step shown: ${steps.join(' ')}`);
    await card.locator('.badge', { hasText: /^built$/ }).waitFor();
    await card.locator('[data-action="build"]', { hasText: 'Rebuild' }).waitFor();
  });

  await step('catalog: a broken entry\'s failed build is shown in words', async () => {
    const card = P.locator('article.entry[data-entry="broken"]');
    await card.locator('[data-action="build"]').click();
    const alert = card.locator('.alert', { hasText: 'Build of broken failed' });
    await alert.waitFor({ timeout: 120000 });
    const text = await alert.innerText();
    assert(/non-zero code: 7|returned/.test(text), `the failure does not say why: ${text}`);
    await card.locator('pre.build.failed', { hasText: 'failing on purpose' }).waitFor();
    assert(await card.locator('.badge', { hasText: 'not built' }).count() === 1, 'a failed build shown as built');
    await P.locator('.toast', { hasText: 'Build of broken failed' }).waitFor();
    await shot(P, '02-catalog-build');
  });

  await step('operator creates a container from the catalog entry (its image tag is sent)', async () => {
    const card = P.locator('article.entry[data-entry="web"]');
    await card.locator('[data-action="use"]').click();
    await hash(P, '#/create?catalog=web');
    const f = P.locator('#create-form');
    assert((await f.locator('[data-field="image"]').inputValue()) === entryTag, 'image not prefilled with the entry tag');
    assert((await f.locator('[data-field="ports[0].container"]').inputValue()) === '8080', 'port not prefilled from the entry');
    await f.locator('[data-field="name"]').fill(WEB);
    await shot(P, '03-create-from-catalog');
    const [sent] = await Promise.all([
      P.waitForRequest((q) => q.method() === 'POST' && new globalThis.URL(q.url()).pathname === '/api/v1/containers'),
      f.locator('[data-action="submit"]').click(),
    ]);
    assert(sent.postDataJSON().image === entryTag, `POST /containers sent image ${sent.postDataJSON().image}`);
    await hash(P, `#/containers/${WEB}`);
    await P.locator('h1 .pill', { hasText: 'running' }).waitFor();
    await P.locator('h1 .badge', { hasText: 'catalog web' }).waitFor();
    const c = await apiJson(op.api, 'GET', `/containers/${WEB}`);
    assert(c.status === 200, `created container not found (${c.status})`);
    assert(c.body.catalog === 'web', `catalog is ${c.body.catalog}`);
    assert(c.body.image === entryTag, `image is ${c.body.image}`);
    assert(c.body.env.includes('GREETING=hello world'), "the entry's env default missing");
  });
} else {
  await P.goto('/#/catalog');
  await step('the catalog view says when the server has no catalog', async () => {
    await P.locator('[data-unavailable]', { hasText: 'not available on this server' }).waitFor();
    await shot(P, '02-catalog');
  });
  skip('operator creates a container from the catalog', 'endpoint not available (GET /api/v1/catalog answered 404)');
}

// --- create from an image, with a validation error beside its field ------------------
const IMGC = `${INST}-img`;
await step("the server's validation error appears beside its field", async () => {
  await P.goto('/#/containers');
  await P.locator('a[data-action="create"]').click();
  await hash(P, '#/create');
  const f = P.locator('#create-form');
  await f.locator('[data-field="name"]').fill(IMGC);
  await f.locator('[data-field="image"]').fill(IMG);
  await f.locator('[data-field="command"]').fill('httpd -f -v -p 8080 -h /');
  await f.locator('[data-field="env"]').fill('GREETING=hello image');
  await f.locator('[data-field="ports[0].container"]').fill('8080');
  await f.locator('[data-field="ports[0].host"]').fill('80');
  await f.locator('[data-action="submit"]').click();
  const host = f.locator('[data-field="ports[0].host"]');
  const err = host.locator('xpath=..').locator('.field-error');
  await err.waitFor();
  const text = await err.innerText();
  assert(/port/i.test(text), `error text does not talk about the port: ${text}`);
  assert((await host.getAttribute('aria-invalid')) === 'true', 'host port not marked invalid');
  assert((await f.locator('.field-error:visible').count()) === 1, 'more than one field error shown');
  await shot(P, '03-create-validation-error');
});

await step('operator creates a container from an allowed image with ports and env', async () => {
  const f = P.locator('#create-form');
  await f.locator('[data-field="ports[0].host"]').fill('');
  await f.locator('[data-action="submit"]').click();
  await hash(P, `#/containers/${IMGC}`);
  await P.locator('h1 .pill', { hasText: 'running' }).waitFor();
  await P.locator('dd li', { hasText: 'GREETING=hello image' }).waitFor();
  const c = await apiJson(op.api, 'GET', `/containers/${IMGC}`);
  assert(c.body.image === IMG && !c.body.catalog, `image ${c.body.image}, catalog ${c.body.catalog}`);
  await apiJson(op.api, 'DELETE', `/containers/${IMGC}?force=1`);
});

// --- the container from the catalog: running, port, logs, stop, edit, remove ---------
await step('the list shows it running with its port as a link', async () => {
  await P.goto('/#/containers');
  const row = P.locator(`tr[data-name="${WEB}"]`);
  await row.locator('.pill', { hasText: 'running' }).waitFor();
  await row.locator('a.port', { hasText: '→ 8080' }).waitFor();
  const owner = await row.locator('td[data-label="Owner"]').innerText();
  assert(owner.trim() === 'otto', `owner shown as ${owner}`);
  for (const a of ['stop', 'restart', 'remove']) assert(await row.locator(`[data-action="${a}"]`).count() === 1, `no ${a} button`);
  assert(await row.locator('[data-action="start"]').count() === 0, 'start offered for a running container');
  await P.locator(`tr[data-name="${IMGC}"]`).waitFor({ state: 'detached' });
  await shot(P, '04-containers');
});

await step("opening its port link shows the entry's page, and the followed logs show the request live", async () => {
  await P.locator(`tr[data-name="${WEB}"] a[href="#/containers/${WEB}"]`).click();
  await hash(P, `#/containers/${WEB}`);
  await P.locator('#log-state', { hasText: 'Following' }).waitFor();
  const link = P.locator('section.card a.port').first();
  const href = await link.getAttribute('href');
  assert(/^http:\/\/127\.0\.0\.1:\d+\/$/.test(href), `port link ${href}`);
  const [popup] = await Promise.all([P.context().waitForEvent('page'), link.click()]);
  await popup.waitForLoadState();
  const status = await popup.evaluate(() => performance.getEntriesByType('navigation')[0].responseStatus);
  assert(status === 200, `the port answered ${status}`);
  const heading = await popup.locator('h1').innerText();
  assert(heading === 'hello from the berth catalog', `the port link shows "${heading}"`);
  await popup.close();
  await P.locator('#log-text', { hasText: 'response:200' }).waitFor();
});

await step('CPU and memory charts fill in', async () => {
  await P.locator('svg.spark polyline').nth(1).waitFor({ state: 'attached', timeout: 30000 });
  assert(await P.locator('svg.spark polyline').count() === 2, 'two charts with lines');
  await shot(P, '05-container-details');
});

await step('operator stops it', async () => {
  await P.locator('h1 ~ div [data-action="stop"]').click();
  await P.locator('h1 .pill', { hasText: 'exited' }).waitFor({ timeout: 40000 });
  await P.locator('h1 ~ div [data-action="start"]').waitFor();
  await P.locator('#log-state', { hasText: 'ended' }).waitFor();
});

await step('operator edits its arguments (recreated with the new command, still from the catalog)', async () => {
  await P.locator('[data-action="edit"]').click();
  const f = P.locator('#edit-form');
  await f.waitFor();
  const cmd = f.locator('[data-field="command"]');
  assert((await cmd.inputValue()) === 'httpd -f -v -p 8080 -h /', `command prefilled as ${await cmd.inputValue()}`);
  await cmd.fill('httpd -f -v -p 9090 -h /');
  await f.locator('[data-field="ports[0].container"]').fill('9090');
  await shot(P, '06-edit-arguments');
  await f.locator('[data-action="submit"]').click();
  await P.locator('dd code', { hasText: 'httpd -f -v -p 9090 -h /' }).waitFor();
  const c = await apiJson(op.api, 'GET', `/containers/${WEB}`);
  assert(c.body.command.join(' ') === 'httpd -f -v -p 9090 -h /', `server says command is ${c.body.command}`);
  assert('9090/tcp' in c.body.ports, 'new port not published');
  assert(c.body.env.includes('GREETING=hello world'), 'env lost in the recreate');
  assert(c.body.catalog === 'web' && c.body.image === entryTag, `recreated as image ${c.body.image}, catalog ${c.body.catalog}`);
  assert(c.body.state !== 'running', 'a stopped container was started by the edit');
});

await step('operator starts it again on its new port', async () => {
  await P.locator('h1 ~ div [data-action="start"]').click();
  await P.locator('h1 .pill', { hasText: 'running' }).waitFor();
  await P.locator('section.card a.port', { hasText: '→ 9090' }).waitFor();
});

await step('operator removes it (after confirming)', async () => {
  await P.locator('h1 ~ div [data-action="remove"]').click();
  await P.locator('dialog#confirm[open]').waitFor();
  await P.locator('#confirm-ok').click();
  await hash(P, '#/containers');
  await P.locator('.empty', { hasText: 'No containers here yet' }).waitFor();
  const c = await apiJson(op.api, 'GET', `/containers/${WEB}`);
  assert(c.status === 404, `still there (${c.status})`);
});

// --- update: a container whose tag now names another image ---------------------------
await step('an outdated container shows a badge and an Update control; Update brings it current', async () => {
  const name = `${INST}-moving`;
  const r = await apiJson(op.api, 'POST', '/containers', { name, image: MOVING, command: ['sleep', '600'] });
  assert(r.status === 201 && r.body.outdated === false, `create on ${MOVING}: ${r.status}`);
  execFileSync('docker', ['tag', 'berth-test/busybox:2', MOVING]);
  await P.goto('/#/containers');
  const row = P.locator(`tr[data-name="${name}"]`);
  await row.locator('.badge', { hasText: 'outdated' }).waitFor();
  await row.locator('[data-action="update"]').waitFor();
  await shot(P, '04-containers-outdated');
  await row.locator('[data-action="update"]').click();
  await P.locator('.toast', { hasText: `Updated ${name}` }).waitFor();
  await row.locator('.badge', { hasText: 'outdated' }).waitFor({ state: 'detached' });
  assert(await row.locator('[data-action="update"]').count() === 0, 'Update still offered');
  await row.locator('.pill', { hasText: 'running' }).waitFor();
  const c = await apiJson(op.api, 'GET', `/containers/${name}`);
  assert(c.body.outdated === false && c.body.command.join(' ') === 'sleep 600', `after update: outdated ${c.body.outdated}, command ${c.body.command}`);
  await apiJson(op.api, 'DELETE', `/containers/${name}?force=1`);
  await row.waitFor({ state: 'detached' });
});

// --- phone width ----------------------------------------------------------------------
await step('works at phone width (390 px) without sideways scrolling', async () => {
  const r = await apiJson(op.api, 'POST', '/containers', { name: `${INST}-small`, image: IMG, command: ['httpd', '-f', '-p', '8080', '-h', '/'], ports: [{ container: 8080 }] });
  assert(r.status === 201, `create via API: ${r.status}`);
  const phone = await op.context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  current = phone;
  for (const [where, name] of [['/#/containers', '07-phone-containers'], [`/#/containers/${INST}-small`, '08-phone-details'], ['/#/create', '09-phone-create']]) {
    await phone.goto(where);
    await phone.locator('main h1').waitFor();
    await phone.waitForTimeout(300);
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert(wide <= 391, `${where} is ${wide} px wide`);
    await shot(phone, name);
  }
  await phone.close();
  current = P;
});

await step('keyboard: the skip link comes first and a row action is reachable with Tab and works with Enter', async () => {
  await P.goto('/#/containers');
  await P.reload(); // a fresh page: focus starts at the top, not where the last step left it
  await P.locator(`tr[data-name="${INST}-small"]`).waitFor();
  await P.keyboard.press('Tab');
  assert(await P.evaluate(() => document.activeElement.classList.contains('skip')), 'first Tab is not the skip link');
  let seen = false;
  for (let i = 0; i < 40 && !seen; i++) {
    await P.keyboard.press('Tab');
    seen = await P.evaluate(() => document.activeElement.dataset.action === 'stop');
  }
  assert(seen, 'the stop button is not reachable by Tab');
  await P.keyboard.press('Enter');
  await P.locator(`tr[data-name="${INST}-small"] .pill`, { hasText: 'exited' }).waitFor({ timeout: 40000 });
});

// --- a viewer -----------------------------------------------------------------------------
const ad = await as('admin');
const vw = await as('viewer');
await step('a viewer sees their container but no mutating controls', async () => {
  const r = await apiJson(ad.api, 'POST', '/containers', { name: `${INST}-vera`, image: IMG, command: ['sleep', '600'], owner: 'vera' });
  assert(r.status === 201, `admin creates for vera: ${r.status}`);
  const V = vw.page;
  current = V;
  await V.goto('/');
  await V.locator('#me', { hasText: 'vera · viewer' }).waitFor();
  await V.locator(`tr[data-name="${INST}-vera"] .pill`, { hasText: 'running' }).waitFor();
  assert(await V.locator('[data-action]').count() === 0, 'the list offers actions to a viewer');
  assert(await V.locator('a[href="#/create"]').count() === 0, 'a viewer is offered "create"');
  await shot(V, '10-viewer-containers');
  await V.locator(`a[href="#/containers/${INST}-vera"]`).click();
  await V.locator('h1 .pill', { hasText: 'running' }).waitFor();
  await V.locator('#log-state').waitFor();
  assert(await V.locator('[data-action]').count() === 0, 'the details page offers actions to a viewer');
  await V.goto('/#/create');
  await V.locator('.empty', { hasText: 'can look but not create' }).waitFor();
  assert(await V.locator('#create-form').count() === 0, 'a create form shown to a viewer');
  assert(await V.locator('[data-nav="audit"]').isHidden(), 'audit link shown to a viewer');
});

// --- services -------------------------------------------------------------------------------
if (await available(op.api, '/services')) {
  await step('operator defines a service and scales it to 2', async () => {
    current = P;
    await P.goto('/#/services');
    const f = P.locator('#service-form');
    await P.locator('summary', { hasText: 'Define a new service' }).click();
    await f.locator('[data-field="name"]').fill(`${INST}-svc`);
    await f.locator('[data-field="image"]').fill(IMG);
    await f.locator('[data-field="command"]').fill('sleep 600');
    await f.locator('[data-action="define"]').click();
    const row = P.locator(`tr[data-service="${INST}-svc"]`);
    await row.waitFor();
    await row.locator('input[type="number"]').fill('2');
    await row.locator('[data-action="scale"]').click();
    await row.locator('.pill[data-running="2"]').waitFor({ timeout: 60000 });
    await shot(P, '11-services');
    await row.locator('input[type="number"]').fill('0');
    await row.locator('[data-action="scale"]').click();
    await row.locator('.pill[data-running="0"]').waitFor({ timeout: 60000 });
  });
} else {
  await step('the services view says when the server has no services', async () => {
    current = P;
    await P.goto('/#/services');
    await P.locator('[data-unavailable]').waitFor();
    await shot(P, '11-services');
  });
  skip('operator scales a service', 'endpoint not available (GET /api/v1/services answered 404)');
}

// --- jobs ---------------------------------------------------------------------------------------
if (await available(op.api, '/jobs')) {
  await step('operator submits a job and sees it finish, with its logs', async () => {
    current = P;
    await P.goto('/#/jobs');
    const f = P.locator('#job-form');
    await f.locator('[data-field="image"]').fill(IMG);
    await f.locator('[data-field="name"]').fill(`${INST}-job`);
    await f.locator('[data-field="command"]').fill('sh -c "echo job-says-hello"');
    await f.locator('[data-action="submit-job"]').click();
    const row = P.locator('tr[data-job]', { hasText: `${INST}-job` });
    await row.locator('.pill[data-status="succeeded"]').waitFor({ timeout: 60000 });
    await shot(P, '12-jobs');
    await row.locator('a').click();
    await P.locator('#job-logs', { hasText: 'job-says-hello' }).waitFor();
  });
} else {
  await step('the jobs view says when the server has no jobs', async () => {
    current = P;
    await P.goto('/#/jobs');
    await P.locator('[data-unavailable]').waitFor();
    await shot(P, '12-jobs');
  });
  skip('operator submits a job and sees it finish', 'endpoint not available (GET /api/v1/jobs answered 404)');
}

// --- admin -------------------------------------------------------------------------------------
await step('an admin reads the audit log', async () => {
  const A = ad.page;
  current = A;
  await A.goto('/');
  await A.locator('#me', { hasText: 'ada · admin' }).waitFor();
  await A.locator('[data-nav="audit"]').click();
  await A.locator('table.audit td', { hasText: 'POST /api/v1/containers' }).first().waitFor();
  await A.locator('table.audit td[data-label="User"]', { hasText: 'otto' }).first().waitFor();
  await shot(A, '13-audit');
});

await step('an admin sees every owner in the list', async () => {
  const A = ad.page;
  current = A;
  await A.goto('/#/containers');
  await A.locator(`tr[data-name="${INST}-vera"] td[data-label="Owner"]`, { hasText: 'vera' }).waitFor();
  await A.locator(`tr[data-name="${INST}-small"] td[data-label="Owner"]`, { hasText: 'otto' }).waitFor();
  await shot(A, '14-admin-containers');
  await A.emulateMedia({ colorScheme: 'dark' });
  await A.goto(`/#/containers/${INST}-small`);
  await A.locator('h1 .pill').waitFor();
  await shot(A, '17-dark-details');
  await A.emulateMedia({ colorScheme: 'light' });
});

await step('"who am I" shows the user and role', async () => {
  current = P;
  await P.goto('/#/me');
  await P.locator('#whoami dd', { hasText: 'otto' }).waitFor();
  await P.locator('#whoami .pill', { hasText: 'operator' }).waitFor();
  await shot(P, '15-me');
});

// --- failures are shown in words -------------------------------------------------------------
await step('dockerd down shows a clear banner', async () => {
  const page = await op.context.newPage();
  current = page;
  await page.route('**/api/v1/health', (r) => r.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"docker_unavailable","message":"dockerd is not answering"}}' }));
  await page.route('**/api/v1/containers?*', (r) => r.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"docker_unavailable","message":"cannot reach dockerd at /var/run/docker.sock"}}' }));
  await page.goto('/#/containers');
  await page.locator('.banner[data-banner="docker"]', { hasText: 'dockerd is not answering' }).waitFor();
  await page.locator('.alert', { hasText: 'cannot reach dockerd' }).waitFor();
  await shot(page, '16-dockerd-down');
  await page.close();
});

await step('an API refusal is shown in words', async () => {
  current = P;
  await P.goto(`/#/containers/${INST}-nope`);
  await P.locator('.empty', { hasText: `no container called ${INST}-nope` }).waitFor();
  await P.goto('/#/create');
  await P.locator('#create-form [data-field="image"]').fill('debian:12');
  await P.locator('#create-form [data-action="submit"]').click();
  await P.locator('#create-form [data-field="image"] ~ .field-error').waitFor();
  const t = await P.locator('#create-form [data-field="image"] ~ .field-error').innerText();
  assert(/403/.test(t), `no status in "${t}"`);
});

await step('no script errors or CSP violations in the console', async () => {
  assert(consoleProblems.length === 0, consoleProblems.join(' | '));
});

await browser.close();
process.exit(failed ? 1 : 0);
