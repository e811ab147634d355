// tests/integ/schemas.js - checks berth's published JSON Schemas and OpenAPI
// document with a real JSON Schema validator (ajv), run by jobs.sh:
//   node schemas.js BASE_URL AUTH_HEADER SRC_DIR
// Every schema under /api/v1/schemas compiles; its examples (whole-body and
// per-field) validate; every ```json block in README.md and docs/*.md that
// follows a <!-- schema: KIND --> marker validates against KIND; GET /schema
// (seed 001) is the "submit" schema; every route of the index is in
// openapi.json, whose $refs resolve and whose schemas compile.
// Prints "PASS name" / "FAIL name: why" lines; jobs.sh turns them into TAP.
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020');
const AjvDraft7 = require('ajv');

const [base, auth, srcDir] = process.argv.slice(2);
let failed = 0;
const pass = (name) => console.log(`PASS ${name}`);
const fail = (name, why) => {
	failed++;
	console.log(`FAIL ${name}: ${why}`);
};

async function get(p) {
	const res = await fetch(base + p, { headers: auth ? { Authorization: auth } : {} });
	if (res.status !== 200) throw new Error(`GET ${p}: ${res.status}`);
	return res.json();
}

function validator(schema) {
	const draft7 = /draft-07/.test(schema.$schema || '');
	const ajv = draft7 ? new AjvDraft7({ strict: true, allowUnionTypes: true, allErrors: true })
	                   : new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
	return ajv.compile(schema);
}

function errs(v) {
	return (v.errors || []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
}

// Every "examples" value below the top level, with the subschema it belongs to.
function fieldExamples(schema, where, out) {
	for (const [k, sub] of Object.entries(schema.properties || {})) {
		const w = `${where}.${k}`;
		for (const ex of sub.examples || []) out.push([w, sub, ex]);
		fieldExamples(sub, w, out);
		if (sub.items) fieldExamples(sub.items, `${w}[]`, out);
	}
	return out;
}

// Blocks of ```json text preceded by <!-- schema: KIND --> in a Markdown file.
function docBodies(file) {
	const text = fs.readFileSync(file, 'utf8');
	const re = /<!--\s*schema:\s*([a-z_]+)\s*-->\s*\n```json\n([\s\S]*?)\n```/g;
	const found = [];
	let m;
	while ((m = re.exec(text)) !== null) {
		const line = text.slice(0, m.index).split('\n').length;
		found.push({ kind: m[1], body: m[2], where: `${path.basename(file)}:${line}` });
	}
	return found;
}

async function main() {
	const index = await get('/api/v1/schemas');
	const kinds = Object.keys(index);
	const validators = {};
	for (const kind of kinds) {
		const name = `schema ${kind}`;
		let schema;
		try {
			schema = await get(index[kind]);
			validators[kind] = validator(schema);
			pass(`${name} compiles (${schema.$schema})`);
		} catch (e) {
			fail(`${name} compiles`, e.message);
			continue;
		}
		const v = validators[kind];
		const whole = schema.examples || [];
		if (whole.length === 0) fail(`${name} has a whole-body example`, 'none');
		whole.forEach((ex, i) => {
			if (v(ex)) pass(`${name} example ${i} validates`);
			else fail(`${name} example ${i} validates`, errs(v));
		});
		for (const [w, sub, ex] of fieldExamples(schema, kind, [])) {
			try {
				const fv = validator({ $schema: schema.$schema, ...sub });
				if (fv(ex)) pass(`${w} example validates`);
				else fail(`${w} example validates`, errs(fv));
			} catch (e) {
				fail(`${w} example validates`, e.message);
			}
		}
	}

	const docs = [path.join(srcDir, 'README.md')];
	const docDir = path.join(srcDir, 'docs');
	if (fs.existsSync(docDir))
		for (const f of fs.readdirSync(docDir).sort())
			if (f.endsWith('.md')) docs.push(path.join(docDir, f));
	let nDoc = 0;
	for (const file of docs) {
		for (const d of docBodies(file)) {
			nDoc++;
			const name = `doc example ${d.where} is a valid ${d.kind} body`;
			const v = validators[d.kind];
			if (!v) {
				fail(name, `no published schema ${d.kind}`);
				continue;
			}
			let body;
			try {
				body = JSON.parse(d.body);
			} catch (e) {
				fail(name, `not JSON: ${e.message}`);
				continue;
			}
			if (v(body)) pass(name);
			else fail(name, errs(v));
		}
	}
	if (nDoc > 0) pass(`${nDoc} marked request bodies found in the docs`);
	else fail('marked request bodies found in the docs', 'none');

	// Seed 001: GET /schema is what POST /submit is validated against.
	try {
		const seed = await get('/schema');
		const submit = await get('/api/v1/schemas/submit');
		if (JSON.stringify(seed) === JSON.stringify(submit)) pass('GET /schema is the submit schema');
		else fail('GET /schema is the submit schema', 'they differ');
	} catch (e) {
		fail('GET /schema is the submit schema', e.message);
	}

	// OpenAPI: every route of the index, refs resolve, schemas compile.
	const api = await get('/api/v1/openapi.json');
	const routes = await get('/api/v1');
	if (/^3\.[01]\./.test(api.openapi || '') && api.info && api.paths) pass('openapi.json has openapi, info, paths');
	else fail('openapi.json has openapi, info, paths', JSON.stringify(Object.keys(api)));
	const missing = [];
	for (const key of Object.keys(routes)) {
		const [method, p] = key.split(' ');
		if (!api.paths[p] || !api.paths[p][method.toLowerCase()]) missing.push(key);
	}
	if (missing.length === 0) pass(`all ${Object.keys(routes).length} routes of the index are in openapi.json`);
	else fail('every route of the index is in openapi.json', missing.join(', '));
	const refs = JSON.stringify(api).match(/"\$ref":"[^"]*"/g) || [];
	const bad = [];
	for (const r of refs) {
		const target = r.slice(8, -1);
		const m = /^#\/components\/schemas\/(.+)$/.exec(target);
		if (!m || !api.components || !api.components.schemas || !api.components.schemas[m[1]]) bad.push(target);
	}
	if (bad.length === 0) pass(`all ${refs.length} $refs of openapi.json resolve`);
	else fail('every $ref of openapi.json resolves', bad.join(', '));
	for (const [k, s] of Object.entries((api.components || {}).schemas || {})) {
		try {
			validator(s);
			pass(`openapi component ${k} compiles`);
		} catch (e) {
			fail(`openapi component ${k} compiles`, e.message);
		}
	}
	for (const [p, ops] of Object.entries(api.paths))
		for (const [m, op] of Object.entries(ops)) {
			const params = (p.match(/\{[^}]+\}/g) || []).map((x) => x.slice(1, -1));
			const declared = (op.parameters || []).filter((x) => x.in === 'path').map((x) => x.name);
			if (JSON.stringify(params) !== JSON.stringify(declared))
				fail(`openapi ${m} ${p} declares its path parameters`, declared.join(','));
		}
	return failed;
}

main().then((n) => process.exit(n ? 1 : 0), (e) => {
	fail('schema checks ran', e.stack || e.message);
	process.exit(1);
});
