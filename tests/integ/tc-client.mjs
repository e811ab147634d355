// tc-client.mjs - Testcontainers (npm, with dockerode underneath) against
// berth's Docker door, over client certificates (DOCKER_HOST, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH from the environment) with Ryuk disabled, as
// tests/integ/docker-clients.sh runs it.
//   node tc-client.mjs run IMAGE    start, wait for the port, exec, stop: JSON result
//   node tc-client.mjs hold IMAGE   start, print the id, then wait to be killed
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.NPM_DIR, 'node_modules', 'x.js'));
const { GenericContainer, Wait } = require('testcontainers');
const net = require('node:net');

const [mode, image] = process.argv.slice(2);

function tcpHello(host, port) {
	return new Promise((resolve, reject) => {
		const s = net.connect(port, host, () => {
			s.write('GET / HTTP/1.0\r\n\r\n');
		});
		let got = '';
		s.on('data', (d) => (got += d));
		s.on('end', () => resolve(got));
		s.on('error', reject);
		setTimeout(() => { s.destroy(); reject(new Error('tcp timeout')); }, 10000);
	});
}

async function main() {
	const c = await new GenericContainer(image)
		.withCommand(['httpd', '-f', '-p', '80', '-h', '/'])
		.withExposedPorts(80)
		.withWaitStrategy(Wait.forListeningPorts())
		.withStartupTimeout(60000)
		.start();
	const out = { id: c.getId(), host: c.getHost(), port: c.getMappedPort(80) };
	if (mode === 'hold') {
		console.log(JSON.stringify(out));
		await new Promise(() => {}); // killed by the suite
	}
	const ex = await c.exec(['echo', 'hello from exec']);
	out.exec = { exitCode: ex.exitCode, output: ex.output };
	const reply = await tcpHello(out.host, out.port);
	out.http = reply.split('\r\n')[0];
	await c.stop();
	out.stopped = true;
	console.log(JSON.stringify(out));
}

main().catch((e) => {
	console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
	process.exit(1);
});
