// events.js - one EventSource on GET /api/v1/events for the whole page
// (docs/events.md): a view follows the kinds of event it lists and is
// refreshed within a moment of one, instead of waiting for its next poll.
// While the stream is open the views' polls stand still; when it drops
// they poll again (the fallback), and each one refreshes once so nothing
// that happened meanwhile is missed.  The stream is open only while a view
// follows it and the tab is visible: a browser gives a site six HTTP/1.1
// connections, and log follows and other tabs need theirs.  The page's
// state is on <html data-events="live|down">.

const KINDS = ['container', 'service', 'job', 'build', 'volume', 'network'];
const SETTLE_MS = 150; // events come in bursts (create, start, connect…): one refresh for each
const RETRY_MS = 10000; // after berth refused the stream itself (EventSource gives up then)
const IDLE_MS = 2000; // no view follows it (a details page): closed after this

const subs = new Set();
let source = null;
let live = false;

function setLive(on) {
  if (live === on) return;
  live = on;
  document.documentElement.dataset.events = on ? 'live' : 'down';
  // Going live: catch up on what came before the stream; going down: restart the polls.
  for (const s of subs) s.refresh();
}

function deliver(kind) {
  for (const s of subs) {
    if (!s.kinds.has(kind) || s.timer) continue;
    s.timer = setTimeout(() => {
      s.timer = null;
      s.refresh();
    }, SETTLE_MS);
  }
}

function close() {
  if (source) source.close();
  source = null;
  setLive(false);
}

// Opens the stream when it is wanted and closed, closes it when it is not.
function want() {
  const wanted = subs.size > 0 && !document.hidden;
  if (wanted && !source) connect();
  else if (!wanted && source) close();
}
document.addEventListener('visibilitychange', want);

function connect() {
  const es = new EventSource('/api/v1/events');
  document.documentElement.dataset.events = 'down';
  source = es;
  es.onopen = () => source === es && setLive(true);
  es.onerror = () => {
    if (source !== es) return;
    setLive(false);
    // CLOSED: berth answered with an error (429, 503), not a dropped stream.
    if (es.readyState === EventSource.CLOSED) {
      source = null;
      setTimeout(want, RETRY_MS);
    }
  };
  for (const k of KINDS) es.addEventListener(k, () => deliver(k));
}

// follow(ctx, kinds, refresh): while CTX's view is open, REFRESH() (never
// called synchronously) follows events of KINDS.  Returns the function a
// poller asks whether the stream keeps the view current (ui.js poller).
export function follow(ctx, kinds, refresh) {
  const sub = { kinds: new Set(kinds), refresh, timer: null };
  subs.add(sub);
  ctx.onStop(() => {
    clearTimeout(sub.timer);
    subs.delete(sub);
    setTimeout(want, IDLE_MS); // the next view may follow it again at once
  });
  want();
  return () => live;
}
