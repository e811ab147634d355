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
const LONG = process.env.LONG; // a tag too long for its column at 1280 px
const IMG = 'berth-test/busybox:1';
const WAIT = 30000;
const users = { admin: ['ada', 'a'], operator: ['otto', 'o'], viewer: ['vera', 'v'] };

let failed = 0;
function ok(name) {
  console.log(`ok - dashboard: ${name}`);
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
      const open = [...(inFlight.get(current) || [])].map((q) => `${q.method()} ${q.url().replace(URL, '')}`);
      if (open.length) console.log(`# its requests still unanswered: ${open.join(', ')}`);
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
const inFlight = new Map(); // page -> its requests not yet answered
async function as(role, viewport = { width: 1280, height: 860 }) {
  const [username, password] = users[role];
  const context = await browser.newContext({ httpCredentials: { username, password }, viewport, baseURL: URL });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  page.on('pageerror', (e) => consoleProblems.push(`${role}: page error: ${e.message}`));
  // Requests sent and not yet answered, for a failed step to name what it waited on.
  const mine = new Set();
  inFlight.set(page, mine);
  page.on('request', (q) => mine.add(q));
  page.on('requestfinished', (q) => mine.delete(q));
  page.on('requestfailed', (q) => mine.delete(q));
  page.on('console', (m) => {
    // A 404 from an API that is not there yet is logged by Chromium itself; the page handles it.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) consoleProblems.push(`${role}: ${m.text()}`);
  });
  return { context, page, api: context.request };
}
const shot = (page, name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const hash = (page, h) => page.waitForFunction((want) => location.hash === want, h);
async function apiJson(api, method, p, data) {
  const res = await api.fetch('/api/v1' + p, { method, data, headers: data ? { 'Content-Type': 'application/json' } : {} });
  return { status: res.status(), body: await res.json().catch(() => null) };
}
// A container's env as KEY=value lines, whichever of berth's two shapes it has.
const envOf = (env) => (Array.isArray(env) ? env : Object.entries(env || {}).map(([k, v]) => `${k}=${v}`));
// Requests the page sends to berth that change something, while FN runs.
async function mutations(page, fn) {
  const sent = [];
  const seen = (q) => {
    if (q.method() !== 'GET' && new globalThis.URL(q.url()).pathname.startsWith('/api/v1/')) sent.push(q);
  };
  page.on('request', seen);
  try {
    await fn();
  } finally {
    page.off('request', seen);
  }
  return sent;
}
// The field error shown beside the control with data-field F in FORM.
const fieldError = (form, f) => form.locator(`[data-field="${f}"]`).locator('xpath=ancestor::div[contains(@class,"field")][1]').locator('.field-error');

// The row buttons the list offers container C: what C.can allows in its state.
const offered = (c) => [!c.running && c.can.start && 'start', c.running && c.can.stop && 'stop',
  c.running && c.can.restart && 'restart', c.outdated && c.can.update && 'update', c.can.remove && 'remove']
  .filter(Boolean).sort();
const trueFlags = (can) => Object.keys(can).filter((k) => can[k]);

// Every row of PAGE's containers list offers exactly the buttons its
// container's can allows, in the answer the page itself was given (a list
// fetched apart could see another state: a container between create and start).
async function rowsMatchCan(page, who) {
  // From a blank page, so the answer awaited is the new page's first list (a reload could
  // hand over the old page's, whose body is gone with it).
  await page.goto('about:blank');
  const answer = page.waitForResponse((r) => /\/api\/v1\/containers\?/.test(r.url()) && r.request().method() === 'GET');
  await page.goto('/#/containers');
  const list = (await (await answer).json()).containers;
  assert(list.length > 0, `${who}: no containers to compare`);
  for (const c of list) {
    const row = page.locator(`tr[data-name="${c.name}"]`);
    await row.waitFor();
    const shown = (await row.locator('button[data-action]').evaluateAll((bs) => bs.map((b) => b.dataset.action))).sort();
    assert(JSON.stringify(shown) === JSON.stringify(offered(c)), `${who}: ${c.name} offers [${shown}] where its can allows [${offered(c)}]`);
  }
}

// Every visible control is named by its visible label, and every button by
// its text (a screen reader user hears what a sighted user reads).
async function namesMatchLabels(page, where) {
  const problems = await page.evaluate(() => {
    const out = [];
    const shown = (el) => el.getClientRects().length > 0;
    const words = (el) => el.textContent.replace(/\s+/g, ' ').trim();
    const what = (el) => `${el.tagName.toLowerCase()}[data-field=${el.dataset.field || el.id}]`;
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (!shown(el) || el.type === 'hidden') continue;
      const labels = [...el.labels].map((l) => {
        const c = l.cloneNode(true);
        for (const x of c.querySelectorAll('input, select, textarea')) x.remove();
        return words(c);
      }).filter(Boolean);
      const aria = el.getAttribute('aria-label');
      if (!labels.length) out.push(`${what(el)} has no visible label${aria ? ` (only aria-label "${aria}")` : ''}`);
      else if (aria !== null && aria !== labels[0]) out.push(`${what(el)} is labelled "${labels[0]}" but named "${aria}"`);
      if (el.hasAttribute('aria-labelledby')) out.push(`${what(el)} is named by aria-labelledby, not its label`);
    }
    for (const el of document.querySelectorAll('button, a.btn, [role="button"]')) {
      if (!shown(el)) continue;
      const aria = el.getAttribute('aria-label');
      if (!words(el)) out.push('a button without text');
      else if (aria !== null && aria !== words(el)) out.push(`button "${words(el)}" is named "${aria}"`);
      if (el.hasAttribute('aria-labelledby')) out.push(`button "${words(el)}" is named by aria-labelledby`);
    }
    return out;
  });
  assert(problems.length === 0, `${where}: ${problems.join('; ')}`);
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
let entryTag = null;
await step("creating from an unbuilt catalog entry says berth builds it on first use", async () => {
  await P.goto('/#/create?catalog=web');
  const note = await P.locator('[data-entry-note]').innerText();
  assert(/berth builds this image the first time a container is created from it/.test(note), `the note says "${note}"`);
  assert(!/in the catalog first/.test(await P.locator('main').innerText()), 'still told to build it in the catalog first');
  await P.goto('/#/catalog');
  const hint = await P.locator('main .hint').first().innerText();
  assert(/builds its image the first time/.test(hint), `the catalog says "${hint}"`);
});

{
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
    assert(await P.getByText('Build of broken failed').count() === 1, 'the failure is shown more than once (a toast too?)');
    await namesMatchLabels(P, 'catalog');
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
    assert(envOf(c.body.env).includes('GREETING=hello world'), "the entry's env default missing");
  });
}

// --- create from an image: every mistake at once, each at its field ----------------
const IMGC = `${INST}-img`;
await step("whoami's policy is what the create form checks and shows", async () => {
  const me = await apiJson(op.api, 'GET', '/whoami');
  const p = me.body.policy;
  assert(JSON.stringify(p.ports) === '[20000,60999]' && p.memory_max === 512 * 1048576 && p.memory_default === 64 * 1048576 &&
    p.cpus_max === 2 && p.quota === 10 && p.images.includes('berth-test/*') && p.privileged === false, `policy ${JSON.stringify(p)}`);
  await P.goto('/#/containers');
  await P.locator('a[data-action="create"]').click();
  await hash(P, '#/create');
  const f = P.locator('#create-form');
  const memHint = await f.locator('[data-field="memory"] ~ .hint').innerText();
  assert(/at most 512m/.test(memHint) && /64m when empty/.test(memHint), `memory hint "${memHint}"`);
  assert(/20000 to 60999/.test(await f.locator('fieldset.port-set .hint').innerText()), 'host port range not shown');
  assert(/berth-test\/\*/.test(await f.locator('[data-field="image"] ~ .hint').innerText()), 'allowed images not shown');
  await namesMatchLabels(P, 'create');
});

await step('the create form shows every mistake at once, each beside its field, without sending', async () => {
  const f = P.locator('#create-form');
  await f.locator('[data-field="name"]').fill(IMGC);
  await f.locator('[data-field="image"]').fill('berth-test/busybox');
  await f.locator('[data-field="command"]').fill('httpd -f -v -p 8080 -h /');
  await f.locator('[data-field="env"]').fill('GREETING=hello image\nnot a pair');
  await f.locator('[data-field="ports[0].container"]').fill('8080');
  await f.locator('[data-field="ports[0].host"]').fill('80');
  await f.locator('[data-field="memory"]').fill('2g');
  await f.locator('[data-field="cpus"]').fill('0');
  const sent = await mutations(P, async () => {
    await f.locator('[data-action="submit"]').click();
    await fieldError(f, 'cpus').waitFor();
  });
  assert(sent.length === 0, `sent ${sent.map((q) => q.method() + ' ' + q.url()).join(', ')}`);
  const want = { image: /no explicit tag/, env: /not a pair.*KEY=value/, 'ports[0].host': /outside the operator role's range 20000-60999/, memory: /limit of 512m/, cpus: /above 0/ };
  for (const [name, re] of Object.entries(want)) {
    const text = await fieldError(f, name).innerText();
    assert(re.test(text), `${name}: "${text}"`);
    assert((await f.locator(`[data-field="${name}"]`).getAttribute('aria-invalid')) === 'true', `${name} not marked invalid`);
  }
  assert((await f.locator('.field-error:visible').count()) === 5, 'not exactly the five errors shown');
  assert(await P.evaluate(() => document.activeElement.dataset.field) === 'image', 'focus not on the first field in error');
  await shot(P, '03-create-validation-errors');
  // Memory syntax and the 6m floor, as berth reads sizes.
  for (const [v, re] of [['12x', /a size such as/], ['5m', /at least 6m/], ['512MB', null]]) {
    await f.locator('[data-field="memory"]').fill(v);
    await f.locator('[data-action="submit"]').click();
    const err = fieldError(f, 'memory');
    if (re) assert(re.test(await err.innerText()), `memory ${v}: "${await err.innerText()}"`);
    else assert(await err.isHidden(), `memory ${v} refused: ${await err.innerText()}`);
  }
});

await step('operator creates a container from an allowed image with ports, env and limits; memory reads 64m', async () => {
  const f = P.locator('#create-form');
  await f.locator('[data-field="image"]').fill(IMG);
  await f.locator('[data-field="env"]').fill('GREETING=hello image');
  await f.locator('[data-field="ports[0].host"]').fill('');
  await f.locator('[data-field="memory"]').fill('64m');
  await f.locator('[data-field="cpus"]').fill('0.5');
  await f.locator('[data-action="submit"]').click();
  await hash(P, `#/containers/${IMGC}`);
  await P.locator('h1 .pill', { hasText: 'running' }).waitFor();
  await P.locator('dd li', { hasText: 'GREETING=hello image' }).waitFor();
  const c = await apiJson(op.api, 'GET', `/containers/${IMGC}`);
  assert(c.body.image === IMG && !c.body.catalog, `image ${c.body.image}, catalog ${c.body.catalog}`);
  assert(c.body.memory === 64 * 1048576 && c.body.cpus === 0.5, `memory ${c.body.memory}, cpus ${c.body.cpus}`);
  const mem = await P.locator('dd [data-memory]').innerText();
  assert(mem === '64m', `memory limit shown as "${mem}"`);
  await P.locator('figure.chart .chart-note', { hasText: 'limit 64m' }).waitFor();
  await namesMatchLabels(P, 'container details');
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

// The terminal's text, row by row (xterm's DOM renderer), each row without
// its trailing blanks: the DOM renderer draws the cursor's cell as one more
// blank, so the prompt "/ # " reads "/ #  " (two blanks) while the cursor
// sits after it, and a pattern anchored at the row's end must not see it.
const termText = async (page) => (await page.locator('#con-screen .xterm-rows').innerText())
  .replace(/[ \u00a0]+$/gm, '');
// What the page's consoles' WebSockets carried, for a failure to say where the
// bytes stopped: on the wire, or between the wire and the screen.
const wsSeen = [];
P.on('websocket', (ws) => {
  if (!/\/console\?/.test(ws.url())) return;
  const w = { url: ws.url(), got: '', sent: '', closed: false };
  wsSeen.push(w);
  const str = (f) => (typeof f.payload === 'string' ? f.payload : f.payload.toString('latin1'));
  ws.on('framereceived', (f) => { w.got += str(f); });
  ws.on('framesent', (f) => { w.sent += str(f); });
  ws.on('close', () => { w.closed = true; });
});
const wsNote = () => {
  const w = wsSeen[wsSeen.length - 1];
  return w ? `; its WebSocket${w.closed ? ' (closed)' : ''} received ${JSON.stringify(w.got.slice(-200))}, sent ${JSON.stringify(w.sent.slice(-80))}`
    : '; no console WebSocket was opened';
};
async function termWait(page, re, what) {
  for (let i = 0; i < 150; i++) {
    if (re.test(await termText(page))) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`the console never showed ${what}: ${JSON.stringify((await termText(page)).slice(-300))}${wsNote()}`);
}

await step('console: it opens a shell, echo hi shows hi, a resize reaches stty, exit 3 is reported', async () => {
  // The catalog's server image is busybox alone: no /bin/sh link.
  await P.locator('#con-cmd').fill('/bin/busybox sh');
  await P.locator('[data-action="console-open"]').click();
  await P.locator('#con-screen[data-open="1"]').waitFor();
  // dockerd may take a few seconds to start the shell on a busy machine.
  await termWait(P, /# ?$/m, 'a prompt').catch(async () => {
    await P.keyboard.press('Enter');
    await termWait(P, /# ?$/m, 'a prompt, even after Enter');
  });
  await P.keyboard.type('echo h""i');
  await P.keyboard.press('Enter');
  await termWait(P, /^hi\s*$/m, 'hi');
  const before = await P.locator('#con-screen').getAttribute('data-size');
  await P.setViewportSize({ width: 900, height: 700 });
  await P.waitForFunction((b) => document.querySelector('#con-screen').dataset.size !== b, before);
  const [cols, rows] = (await P.locator('#con-screen').getAttribute('data-size')).split('x');
  // xterm draws nothing while it is out of the viewport (an IntersectionObserver
  // pauses it), and the smaller window may have left it below the fold: the
  // user would look at it.  (On open the page brings it into view itself: the
  // prompt above is read without scrolling.)
  await P.locator('#con-screen').scrollIntoViewIfNeeded();
  // The resize is a call of its own to dockerd: ask until the shell sees it.
  const want = new RegExp(`^${rows} ${cols}\\s*$`, 'm');
  for (let i = 0; i < 20 && !want.test(await termText(P)); i++) {
    await P.keyboard.type('stty size');
    await P.keyboard.press('Enter');
    await P.waitForTimeout(300);
  }
  await termWait(P, want, `stty size ${rows} ${cols} (was ${before})`);
  await shot(P, '05b-console');
  await P.keyboard.type('exit 3');
  await P.keyboard.press('Enter');
  await P.locator('#con-state', { hasText: 'exited with code 3' }).waitFor();
  await P.locator('[data-action="console-open"]', { hasText: 'Open again' }).waitFor();
  await P.setViewportSize({ width: 1280, height: 860 });
});

await step('console: Close ends it from the page', async () => {
  await P.locator('[data-action="console-open"]').click();
  await P.locator('#con-screen[data-open="1"]').waitFor();
  await P.locator('[data-action="console-close"]').click();
  await P.locator('#con-state', { hasText: 'Closed.' }).waitFor();
  assert(await P.locator('[data-action="console-close"]').isHidden(), 'Close is still offered');
});

await step('operator stops it', async () => {
  await P.locator('h1 ~ div [data-action="stop"]').click();
  await P.locator('h1 .pill', { hasText: 'exited' }).waitFor({ timeout: 40000 });
  await P.locator('h1 ~ div [data-action="start"]').waitFor();
  await P.locator('#log-state', { hasText: 'ended' }).waitFor();
});

// berth's details carry env (dockerd's merged Config.Env) until the server
// tells the container's own env from its image's (image_env): both shapes
// are played here, from the real answer.
const own = (e) => !e.startsWith('PATH=');
async function detailsAs(page, shape) {
  await page.unroute(`**/api/v1/containers/${WEB}`);
  await page.route(`**/api/v1/containers/${WEB}`, async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const res = await route.fetch();
    const b = await res.json();
    const all = 'image_env' in b ? [...envOf(b.image_env), ...envOf(b.env)] : envOf(b.env);
    delete b.image_env;
    if (shape === 'split') Object.assign(b, { env: all.filter(own), image_env: all.filter((e) => !own(e)) });
    else b.env = all;
    return route.fulfill({ response: res, json: b });
  });
}

await step("edit arguments without image_env: the merged env, and a note that none of it is pinned unless changed", async () => {
  await detailsAs(P, 'merged');
  await P.reload();
  await P.locator('[data-action="edit"]').click();
  const env = await P.locator('#edit-form [data-field="env"]').inputValue();
  assert(/^PATH=/m.test(env) && /GREETING=hello world/.test(env), `env prefilled as ${env}`);
  assert(/does not say which of these come from the image/.test(await P.locator('#edit-form [data-field="env"] ~ .hint').innerText()), 'no note about the merged env');
  await P.locator('#edit-form button', { hasText: 'Cancel' }).click();
});

await step("edit arguments pre-fills the container's own env and shows the image's apart, read only", async () => {
  await detailsAs(P, 'split');
  await P.reload();
  await P.locator('dt', { hasText: 'From the image' }).waitFor();
  assert(/^PATH=/.test(await P.locator('dd [data-image-env] li').first().innerText()), "the image's env not shown apart");
  await P.locator('[data-action="edit"]').click();
  const f = P.locator('#edit-form');
  const env = await f.locator('[data-field="env"]').inputValue();
  assert(env === 'GREETING=hello world', `env prefilled as ${JSON.stringify(env)}`);
  await f.locator('[data-image-env] li', { hasText: /^PATH=/ }).waitFor();
  assert(await f.locator('[data-image-env] input, [data-image-env] textarea').count() === 0, "the image's env is editable");
  await namesMatchLabels(P, 'edit arguments');
});

await step('operator edits its arguments: only what changed is sent (no env, no host ports), recreated still from the catalog', async () => {
  const f = P.locator('#edit-form');
  const cmd = f.locator('[data-field="command"]');
  assert((await cmd.inputValue()) === 'httpd -f -v -p 8080 -h /', `command prefilled as ${await cmd.inputValue()}`);
  await cmd.fill('httpd -f -v -p 9090 -h /');
  await f.locator('[data-field="ports[0].container"]').fill('9090');
  await shot(P, '06-edit-arguments');
  const [sent] = await Promise.all([
    P.waitForRequest((q) => q.method() === 'PATCH'),
    f.locator('[data-action="submit"]').click(),
  ]);
  const body = sent.postDataJSON();
  assert(!('env' in body) && !('restart' in body), `sent ${JSON.stringify(body)}`);
  assert(body.ports.length === 1 && !('host' in body.ports[0]) && body.ports[0].container === 9090, `ports sent ${JSON.stringify(body.ports)}`);
  await P.unroute(`**/api/v1/containers/${WEB}`);
  await P.locator('dd code', { hasText: 'httpd -f -v -p 9090 -h /' }).waitFor();
  const c = await apiJson(op.api, 'GET', `/containers/${WEB}`);
  assert(c.body.command.join(' ') === 'httpd -f -v -p 9090 -h /', `server says command is ${c.body.command}`);
  assert('9090/tcp' in c.body.ports, 'new port not published');
  assert(envOf(c.body.env).includes('GREETING=hello world'), 'env lost in the recreate');
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

// --- the list at 1280 px: one line per container, however long its names --------------
await step('at 1280x800 each container is one line: long names cut with an ellipsis (whole in the title), buttons unwrapped', async () => {
  const long = `${INST}-a-container-name-long-enough-to-be-cut-in-the-list`.slice(0, 64);
  const stopped = `${INST}-stopped-with-the-long-image`;
  for (const b of [{ name: long, image: LONG, command: ['sleep', '600'] }, { name: stopped, image: LONG, command: ['true'], start: false }]) {
    const r = await apiJson(op.api, 'POST', '/containers', b);
    assert(r.status === 201, `create ${b.name}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  execFileSync('docker', ['tag', 'berth-test/busybox:2', LONG]); // outdated: four buttons on its row
  await P.setViewportSize({ width: 1280, height: 800 });
  await P.goto('/#/containers');
  await P.locator(`tr[data-name="${long}"] [data-action="update"]`).waitFor();
  await P.locator(`tr[data-name="${stopped}"] [data-action="start"]`).waitFor();
  await shot(P, '18-containers-1280-long-names');
  const rows = await P.evaluate(() => [...document.querySelectorAll('table.containers tbody tr')].map((tr) => {
    const td = getComputedStyle(tr.cells[0]);
    const btn = tr.querySelector('.btn');
    const line = Math.max(btn ? btn.getBoundingClientRect().height : 0, parseFloat(td.lineHeight));
    const pad = parseFloat(td.paddingTop) + parseFloat(td.paddingBottom) + parseFloat(td.borderBottomWidth);
    const tops = [...tr.querySelectorAll('td.actions .btn')].map((b) => Math.round(b.getBoundingClientRect().top));
    const cut = [...tr.querySelectorAll('.clip')].filter((e) => e.scrollWidth > e.clientWidth).map((e) => [e.textContent, e.title]);
    return { name: tr.dataset.name, height: tr.getBoundingClientRect().height, most: line + pad + 1, tops, cut };
  }));
  for (const r of rows) {
    assert(r.height <= r.most, `${r.name}: ${r.height} px high, one line is ${r.most}`);
    assert(new Set(r.tops).size <= 1, `${r.name}: its buttons wrap`);
    for (const [text, title] of r.cut) assert(text === title, `${r.name}: "${text}" is cut without its whole in the title`);
  }
  const row = rows.find((r) => r.name === long);
  assert(row.cut.some(([t]) => t === long) && row.cut.some(([t]) => t === LONG), `the long names are not cut: ${JSON.stringify(row.cut)}`);
  assert(await P.evaluate(() => { const w = document.querySelector('.table-wrap'); return w.scrollWidth <= w.clientWidth; }), 'the table scrolls sideways');
  await namesMatchLabels(P, 'containers list');
  for (const n of [long, stopped]) await apiJson(op.api, 'DELETE', `/containers/${n}?force=1`);
  await P.setViewportSize({ width: 1280, height: 860 });
});

await step("a job's container offers no start, stop, edit or remove (its can says so): it links to its job", async () => {
  const sub = await apiJson(op.api, 'POST', '/jobs', { image: IMG, command: ['sleep', '60'], name: `${INST}-holder` });
  assert(sub.status === 202, `submit: ${sub.status}`);
  const id = sub.body.id;
  let cid = null;
  for (let i = 0; i < 150 && !cid; i++) {
    cid = (await apiJson(op.api, 'GET', `/jobs/${id}`)).body.container;
    if (!cid) await P.waitForTimeout(200);
  }
  const real = await apiJson(op.api, 'GET', `/containers/${cid}`);
  assert(trueFlags(real.body.can).join() === 'exec,console,logs', `berth says a job's container can ${trueFlags(real.body.can)}`);
  await P.goto(`/#/containers/${cid}`);
  await P.locator('h1 .pill').waitFor();
  assert(await P.locator('h1 ~ div [data-action]').count() === 0, 'actions offered on a job container');
  await P.locator(`h1 ~ div a[href="#/jobs/${id}"]`).waitFor();
  // berth does not list job containers; one that still shows, with berth's can for it, is not offered start.
  await P.route('**/api/v1/containers?*', async (route) => {
    const res = await route.fetch();
    const b = await res.json();
    b.containers.push({ ...real.body, state: 'exited', running: false, status: 'Exited (0) 1 minute ago', created: 1700000000, outdated: false });
    return route.fulfill({ response: res, json: b });
  });
  await P.goto('/#/containers');
  const row = P.locator(`tr[data-name="${real.body.name}"]`);
  await row.waitFor();
  assert(await row.locator('[data-action]').count() === 0, 'start (or another action) offered on a job container');
  assert(await row.locator(`a[href="#/jobs/${id}"]`).count() === 1, 'no link to the job');
  await P.unroute('**/api/v1/containers?*');
  await apiJson(op.api, 'DELETE', `/jobs/${id}`);
});

// --- live updates (GET /api/v1/events) ---------------------------------------------------
await step('the open list follows the event stream: no polls while live, a container made elsewhere appears within 2 s and goes as fast', async () => {
  await P.goto('/#/containers');
  await P.waitForFunction(() => document.documentElement.dataset.events === 'live', null, { timeout: 10000 });
  // The 5 s poll is only the fallback: while the stream is open the list sends no GETs of its own.
  await P.waitForTimeout(300); // the refresh that going live makes
  const polls = [];
  const seen = (q) => /\/api\/v1\/containers\?/.test(q.url()) && polls.push(Date.now());
  P.on('request', seen);
  await P.waitForTimeout(5600);
  assert(polls.length === 0, `the list polled ${polls.length} times while the stream was live`);
  assert(/live/.test(await P.locator('main').innerText()), 'the list does not say it is live');
  // "Another tab": the API, as the same operator.
  const name = `${INST}-evt`;
  // The row may come before the create answers (its create event does): timed from both ends.
  const t0 = Date.now();
  const listed = P.locator(`tr[data-name="${name}"]`).waitFor({ timeout: 20000 }).then(() => Date.now());
  const r = await apiJson(op.api, 'POST', '/containers', { name, image: IMG, command: ['sleep', '600'] });
  const answered = Date.now();
  assert(r.status === 201, `create via API: ${r.status}`);
  const at = await listed;
  assert(at - answered < 2000, `listed ${at - answered} ms after the create answered`);
  await P.locator(`tr[data-name="${name}"] .pill`, { hasText: 'running' }).waitFor({ timeout: 2000 });
  const d = await apiJson(op.api, 'DELETE', `/containers/${name}?force=1`);
  assert(d.status < 300, `remove via API: ${d.status}`);
  await P.locator(`tr[data-name="${name}"]`).waitFor({ state: 'detached', timeout: 2000 });
  P.off('request', seen);
  console.log(`# live: the new container was listed ${at - t0} ms after its create was sent, ${at - answered} ms after it answered`);
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
  const mine = await apiJson(vw.api, 'GET', `/containers/${INST}-vera`);
  assert(trueFlags(mine.body.can).join() === 'logs', `berth says the viewer can ${trueFlags(mine.body.can)}`);
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

await step('each role is offered exactly what can allows: a protected container offers no stop, restart, edit or remove, but an admin may remove it', async () => {
  const prot = `${INST}-prot`;
  const r = await apiJson(ad.api, 'POST', '/containers', { name: prot, image: IMG, command: ['sleep', '600'], owner: 'otto', protected: true });
  assert(r.status === 201 && r.body.protected, `admin creates a protected one for otto: ${r.status}`);
  const mine = await apiJson(op.api, 'GET', `/containers/${prot}`);
  assert(trueFlags(mine.body.can).join() === 'start,exec,console,logs', `berth says its owner can ${trueFlags(mine.body.can)}`);
  current = P;
  await rowsMatchCan(P, 'operator');
  const row = P.locator(`tr[data-name="${prot}"]`);
  for (const a of ['stop', 'restart', 'remove']) assert(await row.locator(`[data-action="${a}"]`).count() === 0, `${a} offered on a protected container`);
  await P.goto(`/#/containers/${prot}`);
  await P.locator('h1 .badge', { hasText: 'protected' }).waitFor();
  assert(await P.locator('h1 ~ div [data-action]').count() === 0, 'the protected container offers its owner an action');
  current = ad.page;
  await rowsMatchCan(ad.page, 'admin');
  await ad.page.locator(`tr[data-name="${prot}"] [data-action="remove"]`).waitFor();
  current = vw.page;
  await rowsMatchCan(vw.page, 'viewer');
  await apiJson(ad.api, 'DELETE', `/containers/${prot}?force=1`);
});

// --- services -------------------------------------------------------------------------------
await step('services: with none defined, the text points at the form, and the form is open', async () => {
  current = P;
  await P.goto('/#/services');
  await P.locator('.empty', { hasText: 'Define one with the form below' }).waitFor();
  assert(await P.locator('#service-form').isVisible(), 'the form the text points at is closed');
  await namesMatchLabels(P, 'services (empty)');
});

await step('services: the form shows every mistake at once, without sending', async () => {
  const f = P.locator('#service-form');
  await f.locator('[data-field="image"]').fill('berth-test/busybox');
  await f.locator('[data-field="environment"]').fill('nope');
  await f.locator('[data-field="ports"]').fill('8080, 53/udp, 99999, x');
  const sent = await mutations(P, async () => {
    await f.locator('[data-action="define"]').click();
    await fieldError(f, 'ports').waitFor();
  });
  assert(sent.length === 0, 'the form sent a request');
  for (const [name, re] of [['name', /give the service a name/], ['image', /no explicit tag/], ['environment', /"nope" is not KEY=value/], ['ports', /^99999, x: /]]) {
    const text = await fieldError(f, name).innerText();
    assert(re.test(text), `${name}: "${text}"`);
  }
});

await step('operator defines a service with a udp port and scales it to 2', async () => {
  const f = P.locator('#service-form');
  await f.locator('[data-field="name"]').fill(`${INST}-svc`);
  await f.locator('[data-field="image"]').fill(IMG);
  await f.locator('[data-field="command"]').fill('sleep 600');
  await f.locator('[data-field="environment"]').fill('');
  await f.locator('[data-field="ports"]').fill('8080, 53/udp');
  const [sent] = await Promise.all([
    P.waitForRequest((q) => q.method() === 'POST' && q.url().endsWith('/api/v1/services')),
    f.locator('[data-action="define"]').click(),
  ]);
  assert(JSON.stringify(sent.postDataJSON().ports) === '["8080","53/udp"]', `ports sent ${JSON.stringify(sent.postDataJSON().ports)}`);
  const row = P.locator(`tr[data-service="${INST}-svc"]`);
  await row.waitFor();
  const def = await apiJson(op.api, 'GET', `/services/${INST}-svc`);
  assert(JSON.stringify(def.body.ports) === '["8080","53/udp"]', `berth keeps ports ${JSON.stringify(def.body.ports)}`);
  assert(JSON.stringify(def.body.can) === '{"scale":true,"edit":true,"remove":true}', `berth says its owner can ${JSON.stringify(def.body.can)}`);
  for (const a of ['scale', 'delete']) assert(await row.locator(`[data-action="${a}"]`).count() === 1, `no ${a} control for its owner`);
  await row.locator('input[type="number"]').fill('2');
  await row.locator('[data-action="scale"]').click();
  await row.locator('.pill[data-running="2"]').waitFor({ timeout: 60000 });
  await namesMatchLabels(P, 'services');
  await shot(P, '11-services');
  await row.locator('input[type="number"]').fill('0');
  await row.locator('[data-action="scale"]').click();
  await row.locator('.pill[data-running="0"]').waitFor({ timeout: 60000 });
});

await step('a refused scale is shown once (no toast), and notices do not follow to the next page', async () => {
  // The last step's own notice ("Scaled ... to 0") lasts 4 s: let it go, or two would match below.
  await P.waitForFunction(() => document.querySelectorAll('#toasts .toast').length === 0, null, { timeout: 10000 });
  const row = P.locator(`tr[data-service="${INST}-svc"]`);
  await row.locator('input[type="number"]').fill('50');
  await row.locator('[data-action="scale"]').click();
  const alert = P.locator('.alert', { hasText: 'quota' });
  await alert.waitFor();
  assert(await P.getByText(/quota/).count() === 1, 'the refusal is shown more than once');
  assert(await P.locator('#toasts .toast', { hasText: 'quota' }).count() === 0, 'the refusal is also a toast');
  await row.locator('input[type="number"]').fill('0');
  await row.locator('[data-action="scale"]').click();
  await P.locator('.toast', { hasText: `Scaled ${INST}-svc to 0` }).waitFor();
  await P.locator('[data-nav="jobs"]').click();
  await P.getByRole('heading', { name: 'Jobs' }).waitFor();
  assert(await P.locator('#toasts .toast').count() === 0, "the services page's notice followed to the jobs page");
});

// --- jobs ---------------------------------------------------------------------------------------
await step('operator submits a job and sees it finish, with its logs', async () => {
  current = P;
  await P.goto('/#/jobs');
  const f = P.locator('#job-form');
  await f.locator('[data-field="image"]').fill(IMG);
  await f.locator('[data-field="name"]').fill(`${INST}-job`);
  await f.locator('[data-field="command"]').fill('sh -c "echo job-says-hello"');
  await namesMatchLabels(P, 'jobs');
  await f.locator('[data-action="submit-job"]').click();
  const row = P.locator('tr[data-job]', { hasText: `${INST}-job` });
  await row.locator('.pill[data-status="succeeded"]').waitFor({ timeout: 60000 });
  await shot(P, '12-jobs');
  await row.locator('a').click();
  await P.locator('#job-logs', { hasText: 'job-says-hello' }).waitFor();
  // A finished job: berth's can says remove, not cancel.
  await P.locator('[data-action="remove"]', { hasText: 'Remove job' }).waitFor();
  assert(await P.locator('[data-action="cancel"]').count() === 0, 'cancel offered on a finished job');
});

// --- admin -------------------------------------------------------------------------------------
await step('an admin reads the audit log', async () => {
  const A = ad.page;
  current = A;
  await A.goto('/');
  await A.locator('#me', { hasText: 'ada · admin' }).waitFor();
  await A.locator('[data-nav="audit"]').click();
  await A.locator('table.audit td', { hasText: 'POST /api/v1/containers' }).first().waitFor();
  await A.locator('table.audit td[data-label="User"]', { hasText: 'otto' }).first().waitFor();
  await namesMatchLabels(A, 'audit');
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
  const mem = await P.locator('#policy [data-memory]').innerText();
  assert(mem === 'at most 512m, 64m unless asked', `memory policy shown as "${mem}"`);
  await P.locator('#policy dd', { hasText: '20000-60999' }).waitFor();
  // What the role allows is whoami's can, in words.
  const can = await P.locator('#can').innerText();
  assert(/Create containers/.test(can) && /Submit jobs/.test(can) && !/audit log/.test(can) && !/Pull images/.test(can), `the operator is told they may: ${can}`);
  // What they hold against each quota is whoami's usage.
  const me = await apiJson(op.api, 'GET', '/whoami');
  const held = await P.locator('#usage-self tbody tr', { hasText: 'Containers' }).innerText();
  const lim = me.body.usage.containers.limit === null ? 'no limit' : String(me.body.usage.containers.limit);
  assert(held.includes(String(me.body.usage.containers.used)) && held.includes(lim), `containers held shown as "${held}"`);
  await namesMatchLabels(P, 'who am I');
  await shot(P, '15-me');
});

await step('the Networks and Volumes pages list what the operator owns, and only that', async () => {
  current = P;
  await apiJson(op.api, 'POST', '/volumes', { name: `${INST}-vol` });
  await P.goto('/#/networks');
  // otto's containers made his default network on first use.
  await P.locator('tr[data-network="default"]').waitFor();
  const nets = await apiJson(op.api, 'GET', '/networks');
  assert(nets.body.networks.every((n) => n.owner === 'otto'), `otto's networks: ${JSON.stringify(nets.body.networks.map((n) => n.owner))}`);
  await P.goto('/#/volumes');
  await P.locator(`tr[data-volume="${INST}-vol"]`).waitFor();
  await namesMatchLabels(P, 'volumes');
  const del = await apiJson(op.api, 'DELETE', `/volumes/${INST}-vol`);
  assert(del.status === 204, `volume removed: ${del.status}`);
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

await step("an image outside the role's allow-list is refused before sending; berth's own refusal shows at its field", async () => {
  current = P;
  await P.goto('/#/create');
  const f = P.locator('#create-form');
  await f.locator('[data-field="image"]').fill('debian:12');
  const sent = await mutations(P, async () => {
    await f.locator('[data-action="submit"]').click();
    await fieldError(f, 'image').waitFor();
  });
  assert(sent.length === 0, 'sent a create berth would refuse');
  assert(/not an image the operator role may run/.test(await fieldError(f, 'image').innerText()), 'the allow-list is not named');
  // Only berth knows the name is on berth.conf's protected list (another owner's name is no longer taken: names are per owner).
  await f.locator('[data-field="image"]').fill(IMG);
  await f.locator('[data-field="name"]').fill(`${INST}-guarded`);
  await f.locator('[data-action="submit"]').click();
  await fieldError(f, 'name').waitFor();
  const t = await fieldError(f, 'name').innerText();
  assert(/protected/.test(t) && /403/.test(t), `the name's error says "${t}"`);
  assert(await P.locator('.toast, .form-error').count() === 0, 'the refusal is shown twice');
});

// --- stacks: a compose file deployed, refused at its key, taken down -------------------------
await step('stacks: a refused file shows the key and its line at the file; a good one deploys, shows its services, and comes down', async () => {
  current = P;
  const ST = `${INST}-st`;
  await P.goto('/#/stacks');
  await P.locator('.empty', { hasText: 'No stacks' }).waitFor();
  const card = P.locator('details.card', { hasText: 'Deploy a stack' });
  await card.locator('summary').click();
  const f = card.locator('form');
  await f.locator('[data-field="name"]').fill(ST);
  const bad = `services:\n  web:\n    image: ${IMG}\n    privileged: true\n`;
  await f.locator('[data-field="file"]').fill(bad);
  await f.locator('[data-action="deploy"]').click();
  await fieldError(f, 'file').waitFor();
  const t = await fieldError(f, 'file').innerText();
  assert(/line 4/.test(t) && /services\.web\.privileged/.test(t), `the file's error says "${t}"`);
  const sel = await f.locator('[data-field="file"]').evaluate((ta) => ta.value.slice(ta.selectionStart, ta.selectionEnd));
  assert(sel.trim() === 'privileged: true', `the line selected is "${sel}"`);
  const none = await apiJson(op.api, 'GET', `/stacks/${ST}`);
  assert(none.status === 404, `the refused file made a stack (${none.status})`);
  const good = `services:\n  web:\n    image: ${IMG}\n    command: [sh, -c, "trap 'exit 0' TERM; httpd -f -p 8080 & wait"]\n    ports: ["8080"]\n    depends_on: [db]\n  db:\n    image: ${IMG}\n    command: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"]\n`;
  await f.locator('[data-field="file"]').fill(good);
  await f.locator('[data-action="deploy"]').click();
  await hash(P, `#/stacks/${ST}`);
  await P.locator('tr[data-service="web"] td[data-label="Running"]', { hasText: '1 of 1' }).waitFor();
  await P.locator('tr[data-service="db"] td[data-label="Running"]', { hasText: '1 of 1' }).waitFor();
  await shot(P, '18-stack');
  await P.goto('/#/stacks');
  await P.locator(`tr[data-stack="${ST}"] [data-status="running"]`).waitFor();
  await P.locator(`tr[data-stack="${ST}"] [data-action="down"]`).click();
  await P.locator('dialog#confirm[open]').waitFor();
  await P.locator('#confirm-ok').click();
  await P.locator('.empty', { hasText: 'No stacks' }).waitFor();
  const gone = await apiJson(op.api, 'GET', `/stacks/${ST}`);
  assert(gone.status === 404, `still there (${gone.status})`);
});

await step('no script errors or CSP violations in the console', async () => {
  assert(consoleProblems.length === 0, consoleProblems.join(' | '));
});

await browser.close();
process.exit(failed ? 1 : 0);
