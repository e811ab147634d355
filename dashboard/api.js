// api.js - the only module that talks to berth: JSON requests, streamed
// text and NDJSON, and one error type that carries berth's error shape
// ({error: {code, message, field}}) so views can show it in words.

const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
  // One sentence for a person: berth's message, then the status in brackets.
  get text() {
    const what = this.status ? `${this.status} ${this.code}` : this.code;
    return `${this.message} (${what})`;
  }
  get missing() {
    return this.status === 404;
  }
}

// Listeners told about every failed request (the app shows a banner when
// dockerd is down or the session is gone, whatever view asked).
const failListeners = [];
export function onFailure(fn) {
  failListeners.push(fn);
}

async function errorFrom(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const e = body && body.error ? body.error : {};
  const err = new ApiError(res.status, e.code || 'http_' + res.status,
    e.message || res.statusText || 'the server answered ' + res.status, e.field);
  // A stack's refusal says on which line of the file the key is.
  err.line = Number.isInteger(e.line) ? e.line : null;
  for (const fn of failListeners) fn(err);
  return err;
}

function networkError(cause) {
  if (cause && cause.name === 'AbortError') return cause;
  const err = new ApiError(0, 'network', 'could not reach berth: ' + (cause && cause.message ? cause.message : cause));
  for (const fn of failListeners) fn(err);
  return err;
}

function options(method, body, signal) {
  const o = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin', signal };
  // berth refuses mutating requests without a JSON body type (CSRF guard).
  if (method !== 'GET' && method !== 'HEAD') {
    o.headers['Content-Type'] = 'application/json';
    o.body = JSON.stringify(body === undefined ? {} : body);
  }
  return o;
}

// send(method, path, body, signal) -> the 2xx Response; throws ApiError for
// any other answer or a network failure.
async function send(method, path, body, signal) {
  let res;
  try {
    res = await fetch(BASE + path, options(method, body, signal));
  } catch (cause) {
    throw networkError(cause);
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

// request(method, path, body?) -> parsed JSON (or null for an empty answer,
// such as a 204).  Throws ApiError for any non-2xx answer or a network failure.
async function request(method, path, body, signal) {
  const res = await send(method, path, body, signal);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// text(path) -> a plain-text answer (a job's logs) as it is.
export async function text(path) {
  return (await send('GET', path)).text();
}

export const get = (path, signal) => request('GET', path, undefined, signal);
export const post = (path, body) => request('POST', path, body);
export const patch = (path, body) => request('PATCH', path, body);
export const put = (path, body) => request('PUT', path, body);
export const del = (path) => request('DELETE', path);

// stream(method, path, body, onChunk, signal): reads a streamed answer and
// calls onChunk(text) as pieces arrive; resolves when the stream ends.
export async function stream(method, path, body, onChunk, signal) {
  const res = await send(method, path, body, signal);
  if (!res.body) {
    onChunk(await res.text());
    return;
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      onChunk(dec.decode(value, { stream: true }));
    }
    const rest = dec.decode();
    if (rest) onChunk(rest);
  } catch (cause) {
    throw networkError(cause);
  }
}

// ndjson(method, path, body, onObject, signal): a stream of JSON lines.
export async function ndjson(method, path, body, onObject, signal) {
  let buf = '';
  const flush = (final) => {
    const lines = buf.split('\n');
    buf = final ? '' : lines.pop();
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        onObject(JSON.parse(line));
      } catch {
        onObject({ stream: line + '\n' });
      }
    }
  };
  await stream(method, path, body, (chunk) => {
    buf += chunk;
    flush(false);
  }, signal);
  flush(true);
}

export const enc = encodeURIComponent;
