// console-client.mjs - a small WebSocket client for tests/integ/console.sh
// (the `ws` npm package): opens a container's console and runs one scenario,
// printing what it saw as one JSON line on stdout.
//   node console-client.mjs SCENARIO URL USER:PASS
// URL is the ws:// console URL (query included).  Scenarios:
//   talk     echo hi, resize to 123x45 and stty size, exit 3: what came back
//   refused  the handshake's HTTP status (a refusal is no WebSocket)
//   leave    opens, sees a prompt's worth of output, drops the TCP connection
//   ping     a ping gets its pong with the same payload
import { createRequire } from 'node:module';

const require = createRequire(process.env.NPM_DIR + '/node_modules/');
const WebSocket = require('ws');
const [scenario, url, auth] = process.argv.slice(2);
const origin = new URL(url.replace(/^ws/, 'http')).origin;
const res = { scenario };
const done = () => { console.log(JSON.stringify(res)); process.exit(0); };
setTimeout(() => { res.timeout = true; done(); }, 20000);

const ws = new WebSocket(url, { headers: { Authorization: 'Basic ' + Buffer.from(auth).toString('base64'), Origin: origin } });
let out = '';
const texts = [];
ws.on('unexpected-response', (req, r) => {
  res.status = r.statusCode;
  let b = '';
  r.on('data', (d) => { b += d; });
  r.on('end', () => { try { res.body = JSON.parse(b); } catch { res.body = b; } done(); });
});
ws.on('error', (e) => { res.error = String(e.message); if (scenario !== 'talk') done(); });
ws.on('message', (data, isBinary) => {
  if (isBinary) out += data.toString('latin1');
  else texts.push(JSON.parse(data.toString()));
});
ws.on('close', (code) => { res.close = code; res.texts = texts; res.out = out; done(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (pred, ms = 8000) => {
  for (let t = 0; t < ms; t += 50) { if (pred()) return true; await sleep(50); }
  return false;
};

ws.on('open', async () => {
  res.open = true;
  if (scenario === 'leave') {
    await until(() => out.length > 0, 3000);
    ws._socket.destroy(); // no close frame: the client just goes
    res.left = true;
    return setTimeout(done, 200);
  }
  if (scenario === 'ping') {
    ws.on('pong', (p) => { res.pong = p.toString(); ws.close(1000); });
    return ws.ping('berth');
  }
  ws.send(Buffer.from('echo h""i\n'));
  res.hi = await until(() => /\r?\nhi\r?\n/.test(out));
  ws.send(JSON.stringify({ type: 'resize', cols: 1001, rows: 5 }));
  res.bad_resize = await until(() => texts.some((t) => t.type === 'error'), 3000);
  ws.send(JSON.stringify({ type: 'resize', cols: 123, rows: 45 }));
  // The resize is a call of its own to dockerd: ask until the shell sees it.
  res.size = await until(() => { if (!/45 123/.test(out)) ws.send(Buffer.from('stty size\n')); return /45 123/.test(out); }, 8000);
  ws.send(Buffer.from('exit 3\n'));
});
