// console.js - a terminal in a container, on its page: xterm.js (vendored in
// vendor/, loaded only when a console opens) over a WebSocket to
// GET /api/v1/containers/{ref}/console (docs/console.md).  Binary frames
// carry the terminal's bytes both ways; text frames are JSON: resize from
// here, exit (the process's code) and error from berth.

import { h, clear } from './ui.js';

const enc = new TextEncoder();
let xterm = null; // the loaded modules, once

// xterm writes its theme and cell sizes into <style> elements.  The CSP
// (style-src 'self') refuses inline style blocks, even empty ones, but not
// CSSOM: what xterm asks for as a <style> is an inert <template> here, and
// the text xterm gives it goes to a constructed sheet the document adopts,
// so xterm works without loosening the CSP.  The dashboard itself makes no
// <style> elements (the CSP would refuse them anyway).
function routeStyles() {
  if (document.createElement.berthStyles) return;
  const make = document.createElement.bind(document);
  const sheets = new WeakMap();
  const sheetOf = (el) => {
    let s = sheets.get(el);
    if (!s) {
      s = new CSSStyleSheet();
      sheets.set(el, s);
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, s];
    }
    return s;
  };
  const text = { get() { return ''; }, set(v) { sheetOf(this).replaceSync(String(v)); } };
  const create = (tag, opts) => {
    if (String(tag).toLowerCase() !== 'style') return make(tag, opts);
    const el = make('template');
    el.dataset.style = 'xterm';
    Object.defineProperty(el, 'textContent', text);
    Object.defineProperty(el, 'innerText', text);
    Object.defineProperty(el, 'sheet', { get() { return sheetOf(this); } });
    el.remove = () => {
      const s = sheets.get(el);
      if (s) document.adoptedStyleSheets = document.adoptedStyleSheets.filter((x) => x !== s);
      Element.prototype.remove.call(el);
    };
    return el;
  };
  create.berthStyles = true;
  document.createElement = create;
}

async function load() {
  if (xterm) return xterm;
  routeStyles();
  if (!document.querySelector('link[href="vendor/xterm.css"]'))
    document.head.append(h('link', { rel: 'stylesheet', href: 'vendor/xterm.css' }));
  const [{ Terminal }, { FitAddon }] = await Promise.all([import('./vendor/xterm.mjs'), import('./vendor/addon-fit.mjs')]);
  xterm = { Terminal, FitAddon };
  return xterm;
}

// The console card of container C (its page): a command, Open, and the terminal.
export function consolePanel(path, ctx) {
  const cmd = h('input#con-cmd', { type: 'text', value: 'sh', spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'con-state' });
  const state = h('span.small.muted#con-state', { 'aria-live': 'polite' });
  const screen = h('div.console#con-screen', { hidden: true });
  const openBtn = h('button.btn.small', { type: 'button', dataset: { action: 'console-open' } }, 'Open');
  const closeBtn = h('button.btn.small', { type: 'button', dataset: { action: 'console-close' }, hidden: true }, 'Close');
  let cur = null; // { ws, term, ro, off }

  const end = (why) => {
    if (!cur) return;
    const c = cur;
    cur = null;
    c.ro.disconnect();
    window.removeEventListener('resize', c.fitNow);
    c.term.options.disableStdin = true;
    c.term.options.cursorBlink = false;
    if (c.ws.readyState <= 1) c.ws.close(1000);
    if (why) state.textContent = why;
    openBtn.hidden = false;
    openBtn.textContent = 'Open again';
    closeBtn.hidden = true;
    cmd.readOnly = false;
  };

  const open = async () => {
    end();
    state.textContent = 'Opening…';
    let mods;
    try {
      mods = await load();
    } catch (e) {
      state.textContent = 'Could not load the terminal: ' + e.message;
      return;
    }
    clear(screen);
    screen.hidden = false;
    const term = new mods.Terminal({ cursorBlink: true, fontSize: 14, scrollback: 2000, fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' });
    const fit = new mods.FitAddon();
    term.loadAddon(fit);
    term.open(screen);
    fit.fit();
    // xterm draws nothing while its element is out of the viewport (an
    // IntersectionObserver pauses its renderer), and Open sits at the card's
    // top: opened at the window's bottom edge, the terminal would stay blank
    // below the fold.  The user asked for it, so it comes into view.
    screen.scrollIntoView({ block: 'nearest' });
    const qs = new URLSearchParams({ command: cmd.value.trim() || 'sh', cols: String(term.cols), rows: String(term.rows) });
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/v1${path}/console?${qs}`);
    ws.binaryType = 'arraybuffer';
    const fitNow = () => { try { fit.fit(); } catch { /* hidden: no size */ } };
    const ro = new ResizeObserver(fitNow);
    const c = { ws, term, ro, fitNow };
    cur = c;
    let exited = null;
    openBtn.hidden = true;
    closeBtn.hidden = false;
    cmd.readOnly = true; // the command of the console that runs

    ws.addEventListener('open', () => {
      if (cur !== c) return;
      state.textContent = 'Connected: keys and paste go to the container.';
      screen.dataset.open = '1';
      term.focus();
    });
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') {
        term.write(new Uint8Array(ev.data));
        return;
      }
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      if (m.type === 'exit') exited = m.code;
      else if (m.type === 'error') state.textContent = m.message;
    });
    ws.addEventListener('close', (ev) => {
      if (cur !== c) return;
      delete screen.dataset.open;
      screen.dataset.ended = '1';
      end(exited !== null ? `The process exited with code ${exited}.`
        : ev.code === 1006 ? 'The console could not be opened or was cut off (the container may be stopped, or you may not have the rights).'
          : 'The console closed.');
    });
    term.onData((d) => { if (ws.readyState === 1) ws.send(enc.encode(d)); });
    term.onBinary((d) => { if (ws.readyState === 1) ws.send(Uint8Array.from(d, (ch) => ch.charCodeAt(0))); });
    term.onResize(({ cols, rows }) => {
      screen.dataset.size = `${cols}x${rows}`;
      if (ws.readyState === 1) ws.send(JSON.stringify({ type: 'resize', cols, rows }));
    });
    screen.dataset.size = `${term.cols}x${term.rows}`;
    ro.observe(screen);
    window.addEventListener('resize', fitNow);
  };

  openBtn.addEventListener('click', open);
  closeBtn.addEventListener('click', () => end('Closed.'));
  cmd.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); open(); } });
  ctx.onStop(() => end());
  const el = h('section.card', { 'aria-labelledby': 'con-h' },
    h('div.head', h('h2#con-h', 'Console'),
      h('div.row.wrap', h('label', { for: 'con-cmd' }, 'Command'), cmd, openBtn, closeBtn)),
    state, screen);
  return { el, close: () => end() };
}
