// Differential test of pdsd's lexicon validator against the official
// one (@atproto/lexicon), on the same schemas (lexicons/).
//
// A few thousand records are made by mutating valid posts, profiles,
// likes, follows, lists, threadgates and starter packs (and the interop
// fixtures' example record, whose schema has a closed union): fields
// dropped, values replaced by other types, strings at their byte and
// grapheme limits -1/0/+1 in ASCII, accented, CJK, flag and ZWJ-emoji
// text, arrays at their limits, unknown $types in open and closed
// unions, and random pairs of these.  Every verdict (accept or refuse)
// of $B/tests/lexcheck (pdsd's validator, JSON lines) must equal
// @atproto/lexicon's; then a sample of several hundred goes through
// createRecord on a real pdsd, whose 200/400 must agree too.  When the
// reference PDS is installed (bench/), the verdicts of its own compiled
// record schemas (@atproto/lex) are compared as well.  Prints the count
// compared; one disagreement fails.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Lexicons, jsonToLex } from '@atproto/lexicon';

import { BUILD, ROOT, isExecutable, runProgram, startPdsd } from './lib.mjs';

const LEXCHECK = path.join(BUILD, 'tests', 'lexcheck');
const PDSD = path.join(BUILD, 'bin', 'pdsd');
const skip = isExecutable(LEXCHECK) && isExecutable(PDSD) ? false :
    `${LEXCHECK} or ${PDSD} is not built yet`;
const CATALOG = path.join(ROOT, 'tests/fixtures/lexicon/catalog/record.json');

function loadDocs(dir) {
	const docs = [];
	const walk = (d) => {
		for (const e of fs.readdirSync(d, { withFileTypes: true })) {
			const p = path.join(d, e.name);
			if (e.isDirectory())
				walk(p);
			else if (p.endsWith('.json'))
				docs.push(JSON.parse(fs.readFileSync(p, 'utf8')));
		}
	};
	walk(dir);
	return docs;
}

function prng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const NOW = '2024-05-01T12:00:00.000Z';
const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const CID = 'bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq';
const URI = `at://${DID}/app.bsky.feed.post/3kznmn7xqxl22`;
const LIST = `at://${DID}/app.bsky.graph.list/3kznmn7xqxl22`;
const REF = { uri: URI, cid: CID };

// Text units: bytes per grapheme 1, 2, 3, 8 (a flag), 25 (ZWJ family).
const UNITS = ['a', '\u00e9', '\u5b57', '\u{1f1eb}\u{1f1f7}',
    '\u{1f469}\u200d\u{1f469}\u200d\u{1f467}\u200d\u{1f466}'];

// The valid records mutated, with their collections and the limits of
// their strings ([path, maxGraphemes, maxLength]) and arrays ([path,
// maxLength, an item]).
function bases(blob) {
	return [
		{ collection: 'app.bsky.feed.post', rkey: null,
		  record: { $type: 'app.bsky.feed.post', text: 'hello @bob',
		    createdAt: NOW, langs: ['en'], tags: ['x'],
		    facets: [{ index: { byteStart: 0, byteEnd: 5 },
		      features: [{ $type: 'app.bsky.richtext.facet#mention',
		        did: DID }] }],
		    reply: { root: REF, parent: REF },
		    embed: { $type: 'app.bsky.embed.images', images: [
		      { alt: 'a cat', image: blob,
		        aspectRatio: { width: 3, height: 2 } }] } },
		  strings: [['text', 300, 3000], ['embed.images.0.alt', null, null],
		    ['tags.0', 64, 640]],
		  arrays: [['langs', 3, 'fr'], ['tags', 8, 't'],
		    ['embed.images', 4, null], ['facets', null, null]] },
		{ collection: 'app.bsky.actor.profile', rkey: 'self',
		  record: { $type: 'app.bsky.actor.profile', displayName: 'Al',
		    description: 'about me', createdAt: NOW,
		    pinnedPost: REF,
		    labels: { $type: 'com.atproto.label.defs#selfLabels',
		      values: [{ val: 'porn' }] } },
		  strings: [['displayName', 64, 640], ['description', 256, 2560]],
		  arrays: [['labels.values', 10, { val: 'x' }]] },
		{ collection: 'app.bsky.feed.like', rkey: null,
		  record: { $type: 'app.bsky.feed.like', subject: REF,
		    createdAt: NOW },
		  strings: [], arrays: [] },
		{ collection: 'app.bsky.graph.follow', rkey: null,
		  record: { $type: 'app.bsky.graph.follow', subject: DID,
		    createdAt: NOW },
		  strings: [], arrays: [] },
		{ collection: 'app.bsky.graph.list', rkey: null,
		  record: { $type: 'app.bsky.graph.list', name: 'friends',
		    purpose: 'app.bsky.graph.defs#curatelist',
		    description: 'my list', createdAt: NOW },
		  strings: [['name', null, 64], ['description', 300, 3000]],
		  arrays: [] },
		{ collection: 'app.bsky.feed.threadgate', rkey: null,
		  record: { $type: 'app.bsky.feed.threadgate', post: URI,
		    createdAt: NOW, allow: [
		      { $type: 'app.bsky.feed.threadgate#mentionRule' },
		      { $type: 'app.bsky.feed.threadgate#listRule',
		        list: LIST }],
		    hiddenReplies: [URI] },
		  strings: [],
		  arrays: [['allow', 5,
		    { $type: 'app.bsky.feed.threadgate#followerRule' }],
		    ['hiddenReplies', 300, URI]] },
		{ collection: 'app.bsky.graph.starterpack', rkey: null,
		  record: { $type: 'app.bsky.graph.starterpack', name: 'pack',
		    description: 'come', list: LIST, createdAt: NOW,
		    feeds: [{ uri: `at://${DID}/app.bsky.feed.generator/x` }] },
		  strings: [['name', 50, 500], ['description', 300, 3000]],
		  arrays: [['feeds', 3,
		    { uri: `at://${DID}/app.bsky.feed.generator/y` }]] },
	];
}

const catalogBase = {
	collection: 'example.lexicon.record', rkey: null, catalog: true,
	record: { $type: 'example.lexicon.record', integer: 1, boolean: true,
	  string: 'blah', nullableString: null, unknown: { a: 1 },
	  array: [1, 2], object: { a: 1, b: 2 }, ref: { a: 1, b: 2 },
	  union: { $type: 'example.lexicon.record#demoObject', a: 1, b: 2 },
	  closedUnion: { $type: 'example.lexicon.record#demoObject', a: 1 },
	  constInteger: 42, enumInteger: 9, rangeInteger: 15,
	  lenString: 'abcdefghijkl', graphemeString: 'abcdefghijkl',
	  enumString: 'fish', lenArray: [1, 2, 3],
	  formats: { did: DID, handle: 'a.example.com', nsid: 'com.a.b',
	    aturi: URI, cid: CID, datetime: NOW, language: 'en-GB',
	    tid: '3kznmn7xqxl22', recordkey: 'self',
	    atidentifier: 'a.example.com', uri: 'https://example.com/' } },
	strings: [['graphemeString', 20, null], ['lenString', null, 20]],
	arrays: [['lenArray', 5, 4]],
};

const clone = (v) => (v === undefined ? undefined :
    JSON.parse(JSON.stringify(v)));

function get(obj, p) {
	return p.split('.').reduce((o, k) => (o == null ? undefined : o[k]),
	    obj);
}

function set(obj, p, v) {
	const ks = p.split('.');
	const last = ks.pop();
	const o = ks.reduce((x, k) => (x == null ? undefined : x[k]), obj);
	if (o == null || typeof o !== 'object')
		return false;
	if (v === undefined) {
		if (Array.isArray(o))
			o.splice(Number(last), 1);
		else
			delete o[last];
	} else
		o[last] = v;
	return true;
}

// Every path of a record, less $type at the top and blob insides.
function paths(v, pre = '') {
	const out = [];
	if (v && typeof v === 'object') {
		if (v.$type === 'blob')
			return out;
		for (const k of Object.keys(v)) {
			const p = pre ? `${pre}.${k}` : k;
			if (p === '$type')
				continue;
			out.push(p, ...paths(v[k], p));
		}
	}
	return out;
}

const OTHERS = [123, -1, 0, 'str', '', true, null, [], {}, [1, 'a'],
    { $link: CID }, { $type: 'com.example.unknown.thing', x: 1 },
    { $type: 'app.bsky.embed.external' }, 'not a date', 'x'.repeat(700),
    'did:plc:ewvi7nxzyoun6zhxrhs64oiz', URI, 2 ** 40, -(2 ** 40)];

// All single mutations of one base.
function mutations(b) {
	const out = [{ ...b, what: 'base' }];
	const add = (what, fn) => {
		const r = clone(b.record);
		if (fn(r) !== false)
			out.push({ ...b, record: r, what });
	};
	for (const p of paths(b.record)) {
		add(`drop ${p}`, (r) => set(r, p, undefined));
		for (const o of OTHERS) {
			// The data model wants a non-empty "$type" string
			// (pdsd's dmjson refuses "" before any lexicon);
			// the reference validator alone does not look.
			if (o === '' && p.endsWith('$type'))
				continue;
			add(`${p} = ${JSON.stringify(o).slice(0, 30)}`,
			    (r) => set(r, p, clone(o)));
		}
	}
	for (const [p, g, n] of b.strings) {
		for (const u of UNITS) {
			const ulen = Buffer.byteLength(u);
			const counts = new Set();
			if (g)
				[g - 1, g, g + 1].forEach((c) => counts.add(c));
			if (n)
				[-1, 0, 1].forEach((d) => counts.add(
				    Math.floor(n / ulen) + d));
			counts.add(1);
			for (const c of counts)
				if (c >= 0)
					add(`${p} = ${c} x U+${u.codePointAt(0)
					    .toString(16)}`,
					    (r) => set(r, p, u.repeat(c)));
		}
	}
	for (const [p, n, item] of b.arrays) {
		const cur = get(b.record, p);
		const it = item ?? (Array.isArray(cur) && cur.length ?
		    cur[0] : 1);
		for (const c of n ? [0, 1, n - 1, n, n + 1] : [0, 2, 50])
			add(`${p} has ${c} items`,
			    (r) => set(r, p, Array(c).fill(null).map(() =>
			    clone(it))));
	}
	return out;
}

// Random pairs of mutations of the same base.
function pairs(b, n, rnd) {
	const single = mutations(b).slice(1);
	const out = [];
	for (let i = 0; i < n && single.length > 1; i++) {
		const r = clone(single[Math.floor(rnd() * single.length)].record);
		const m = single[Math.floor(rnd() * single.length)];
		// replay the second as a diff on the first: take its changes
		for (const p of paths(m.record).concat(paths(b.record))) {
			const a = get(m.record, p), o = get(b.record, p);
			if (JSON.stringify(a) !== JSON.stringify(o) &&
			    !p.includes('.') )
				set(r, p, clone(a));
		}
		out.push({ ...b, record: r, what: `pair ${i}` });
	}
	return out;
}


// ---- every object def of the table, values made from the schemas ----

const FORMAT_VALUES = {
	datetime: [NOW, '2024-05-01', 'not a date'],
	uri: ['https://example.com/x', 'nope'],
	'at-uri': [URI, 'at://x', 'http://x'],
	did: [DID, 'did:x', 'plc:x'],
	handle: ['a.example.com', 'a..b', '-a.com'],
	'at-identifier': [DID, 'a.example.com', '@a'],
	nsid: ['com.example.thing', 'com.', 'x'],
	cid: [CID, 'b', 'xyz!'],
	language: ['en', 'pt-BR', 'not a tag'],
	tid: ['3kznmn7xqxl22', '3kznmn7xqxl2', 'zzzzzzzzzzzzz'],
	'record-key': ['self', '.', 'a/b'],
};

// A value for schema def (in lexicon doc id), valid most of the time;
// `bad` is the chance of an invalid choice at each step.
function valueFor(lex, id, def, rnd, bad, depth = 0) {
	const pick = (a) => a[Math.floor(rnd() * a.length)];
	const wrong = () => rnd() < bad;
	if (depth > 6)
		return {};
	if (wrong())
		return clone(pick(OTHERS));
	switch (def.type) {
	case 'ref': {
		const target = def.ref.startsWith('#') ? id + def.ref : def.ref;
		const t = lex.getDef(target);
		return t ? valueFor(lex, target.split('#')[0], t, rnd, bad,
		    depth + 1) : {};
	}
	case 'union': {
		if (def.refs.length === 0 || rnd() < 0.1)
			return { $type: 'com.example.unknown.thing' };
		const r = pick(def.refs);
		const target = r.startsWith('#') ? id + r : r;
		const t = lex.getDef(target);
		const v = t ? valueFor(lex, target.split('#')[0], t, rnd, bad,
		    depth + 1) : {};
		if (v && typeof v === 'object' && !Array.isArray(v))
			v.$type = rnd() < 0.1 ? target + '#main' : target;
		return v;
	}
	case 'object': {
		const o = {};
		for (const [k, p] of Object.entries(def.properties ?? {})) {
			const req = def.required?.includes(k);
			if (!req && rnd() < 0.5)
				continue;
			if (req && rnd() < bad / 2)
				continue;
			o[k] = def.nullable?.includes(k) && rnd() < 0.2 ? null :
			    valueFor(lex, id, p, rnd, bad, depth + 1);
		}
		return o;
	}
	case 'array': {
		const max = def.maxLength ?? 3, min = def.minLength ?? 0;
		const n = Math.min(6, Math.max(0, min + Math.floor(rnd() *
		    (Math.min(max, min + 3) - min + 1)) + (wrong() ? 1 : 0)));
		return Array.from({ length: n }, () => valueFor(lex, id,
		    def.items, rnd, bad, depth + 1));
	}
	case 'string': {
		if (def.const !== undefined)
			return wrong() ? def.const + 'x' : def.const;
		if (def.enum)
			return wrong() ? 'not-in-enum' : pick(def.enum);
		if (def.format)
			return rnd() < 0.8 ? FORMAT_VALUES[def.format][0] :
			    pick(FORMAT_VALUES[def.format]);
		if (def.knownValues && rnd() < 0.5)
			return pick(def.knownValues);
		const lim = def.maxGraphemes ?? def.maxLength;
		if (lim !== undefined && rnd() < 0.3) {
			const u = pick(UNITS);
			return u.repeat(Math.max(0, Math.min(lim + pick([-1, 0, 1]),
			    Math.floor((def.maxLength ?? 1e9) /
			    Buffer.byteLength(u)) + pick([0, 1]))));
		}
		return 'x'.repeat(Math.max(def.minLength ?? 0,
		    def.minGraphemes ?? 0, 1));
	}
	case 'integer': {
		if (def.const !== undefined)
			return wrong() ? def.const + 1 : def.const;
		if (def.enum)
			return pick(def.enum);
		const lo = def.minimum ?? 0, hi = def.maximum ?? lo + 100;
		return pick([lo, hi, lo - 1, hi + 1, Math.floor((lo + hi) / 2)]);
	}
	case 'boolean':
		return def.const !== undefined ? def.const : rnd() < 0.5;
	case 'bytes':
		return { $bytes: 'AAAA' };
	case 'cid-link':
		return { $link: CID };
	case 'blob':
		return { $type: 'blob', ref: { $link:
		    'bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy' },
		    mimeType: 'image/png', size: 1000 };
	case 'unknown':
		return pick([{ a: 1 }, { $type: 'x.y.z' }, []]);
	default:
		return {};
	}
}

function refVerdict(lex, c) {
	try {
		lex.assertValidRecord(c.collection, jsonToLex(clone(c.record)));
		return { ok: true };
	} catch (e) {
		return { ok: false, error: e.message };
	}
}

async function lexcheck(cases, args) {
	const input = cases.map((c) => JSON.stringify({
	    collection: c.collection, record: c.record }) + '\n').join('');
	const r = await runProgram(LEXCHECK, args, { input,
	    timeoutMs: 120000 });
	assert.equal(r.code, 0, r.stderr);
	const lines = r.stdout.toString('utf8').trim().split('\n');
	assert.equal(lines.length, cases.length);
	return lines.map((l) => JSON.parse(l));
}

function compare(cases, ours, lex, label) {
	const bad = [];
	cases.forEach((c, i) => {
		const ref = refVerdict(lex, c);
		if (ref.ok !== ours[i].ok)
			bad.push(`${c.collection} ${c.what}: reference ` +
			    `${ref.ok ? 'accepts' : 'refuses (' + ref.error +
			    ')'}, pdsd ${ours[i].ok ? 'accepts' : 'refuses (' +
			    ours[i].error + ')'}`);
	});
	const acc = cases.filter((c, i) => ours[i].ok).length;
	console.log(`# ${label}: ${cases.length} records compared ` +
	    `(${acc} accepted, ${cases.length - acc} refused), ` +
	    `${bad.length} disagreements`);
	assert.deepEqual(bad.slice(0, 20), [], `${bad.length} disagreements`);
}

describe('lexicon validation: pdsd against @atproto/lexicon', { skip }, () => {
	const docs = loadDocs(path.join(ROOT, 'lexicons'));
	const lex = new Lexicons(docs);
	const catLex = new Lexicons([JSON.parse(fs.readFileSync(CATALOG,
	    'utf8'))]);
	const blob = { $type: 'blob', ref: { $link:
	    'bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy' },
	    mimeType: 'image/png', size: 1000 };
	let cases = [];
	let pds, token, did;

	before(() => {
		const rnd = prng(19);
		for (const b of bases(blob))
			cases.push(...mutations(b), ...pairs(b, 150, rnd));
	});

	test('the compiled-in table, thousands of mutated records', async () => {
		const ours = await lexcheck(cases, []);
		assert.ok(cases.length >= 2000, `${cases.length} records`);
		compare(cases, ours, lex, 'compiled-in table');
	});

	test('a table built at run time (closed and open unions)', async () => {
		const rnd = prng(7);
		const cat = [...mutations(catalogBase),
		    ...pairs(catalogBase, 200, rnd)];
		for (const t of ['example.unknown.x', 'example.lexicon.record#demoObjectTwo',
		    'example.lexicon.record', 'lex:example.lexicon.record#demoObject',
		    'example.lexicon.record#main']) {
			for (const f of ['union', 'closedUnion']) {
				const r = clone(catalogBase.record);
				r[f] = { $type: t, a: 1, b: 2 };
				cat.push({ ...catalogBase, record: r,
				    what: `${f} $type ${t}` });
			}
		}
		const ours = await lexcheck(cat, ['-l', CATALOG]);
		compare(cat, ours, catLex, 'run-time table');
	});

	// The reference PDS itself (bench/, @atproto/pds) validates its
	// known record types with its compiled schemas (@atproto/lex):
	// pdsd's verdicts must equal those too, when it is installed.
	const refPds = path.join(ROOT, 'bench/node_modules/@atproto/pds/dist/' +
	    'lexicons/index.js');
	const refJson = path.join(ROOT, 'bench/node_modules/@atproto/lex-json/' +
	    'dist/index.js');
	test('the reference PDS\'s own record schemas', {
	    skip: fs.existsSync(refPds) && fs.existsSync(refJson) ? false :
	    'the reference PDS is not installed (bench/setup.sh)' },
	    async () => {
		const { app } = await import(refPds);
		const { jsonToLex: lexJson } = await import(refJson);
		const schemas = new Map([app.bsky.feed.post, app.bsky.actor.profile,
		    app.bsky.feed.like, app.bsky.graph.follow, app.bsky.graph.list,
		    app.bsky.feed.threadgate, app.bsky.graph.starterpack]
		    .map((ns) => [ns.main.$type, ns.main]));
		const ours = await lexcheck(cases, []);
		const bad = [];
		cases.forEach((c, i) => {
			const r = schemas.get(c.collection).safeValidate(
			    lexJson(clone(c.record)), { path: ['record'] });
			if (r.success !== ours[i].ok)
				bad.push(`${c.collection} ${c.what}: reference ` +
				    `PDS ${r.success ? 'accepts' : 'refuses (' +
				    r.reason.message + ')'}, pdsd ` +
				    `${ours[i].ok ? 'accepts' : 'refuses'}`);
		});
		console.log(`# reference PDS schemas: ${cases.length} records ` +
		    `compared, ${bad.length} disagreements`);
		assert.deepEqual(bad.slice(0, 20), []);
	});

	test('every object and record def, values made from the schemas',
	    async () => {
		const rnd = prng(840);
		const defs = [];
		for (const d of docs)
			for (const [name, def] of Object.entries(d.defs))
				if (def.type === 'object' || def.type === 'record')
					defs.push([name === 'main' ? d.id :
					    `${d.id}#${name}`, d.id, def]);
		const items = [];
		for (const [uri, id, def] of defs) {
			const schema = def.type === 'record' ? def.record : def;
			for (let i = 0; i < 6; i++) {
				const v = valueFor(lex, id, schema, rnd,
				    i === 0 ? 0 : 0.08);
				if (v && typeof v === 'object' && !Array.isArray(v))
					items.push({ def: uri, value: v });
			}
		}
		const input = items.map((c) => JSON.stringify(c) + '\n').join('');
		const r = await runProgram(LEXCHECK, [], { input,
		    timeoutMs: 120000 });
		assert.equal(r.code, 0, r.stderr);
		const ours = r.stdout.toString('utf8').trim().split('\n')
		    .map((l) => JSON.parse(l));
		const bad = [];
		let acc = 0;
		items.forEach((c, i) => {
			let ok;
			let why = '';
			try {
				const res = lex.validate(c.def,
				    jsonToLex(clone(c.value)));
				ok = res.success;
				why = ok ? '' : res.error.message;
			} catch (e) {
				ok = false;
				why = e.message;
			}
			if (ours[i].ok)
				acc++;
			if (ok !== ours[i].ok)
				bad.push(`${c.def} ${JSON.stringify(c.value)
				    .slice(0, 200)}: reference ${ok ? 'accepts' :
				    'refuses (' + why + ')'}, pdsd ${ours[i].ok ?
				    'accepts' : 'refuses (' + ours[i].error + ')'}`);
		});
		console.log(`# object defs: ${defs.length} defs, ` +
		    `${items.length} values compared (${acc} accepted), ` +
		    `${bad.length} disagreements`);
		assert.deepEqual(bad.slice(0, 10), []);
	});

	describe('through createRecord on a real pdsd', () => {
		before(async () => {
			pds = await startPdsd({});
			const r = await fetch(`${pds.url}/xrpc/` +
			    'com.atproto.server.createAccount', {
			    method: 'POST',
			    headers: { 'content-type': 'application/json' },
			    body: JSON.stringify({ handle: 'lexdiff.test',
			      email: 'lexdiff@example.com',
			      password: 'lexdiff-password-1' }) });
			const j = await r.json();
			assert.equal(r.status, 200, JSON.stringify(j));
			token = j.accessJwt;
			did = j.did;
		});
		after(async () => {
			if (pds)
				await pds.stop();
		});

		test('several hundred records: the same verdicts', async () => {
			// The server checks blob refs against stored blobs:
			// upload one and use it.
			const png = Buffer.from('89504e470d0a1a0a0000000d494844' +
			    '52000000010000000108060000001f15c4890000000d4944' +
			    '415478da63f8ffff3f0005fe02fea7d6a4e6000000004945' +
			    '4e44ae426082', 'hex');
			const up = await fetch(`${pds.url}/xrpc/` +
			    'com.atproto.repo.uploadBlob', { method: 'POST',
			    headers: { authorization: `Bearer ${token}`,
			      'content-type': 'image/png' }, body: png });
			const ub = (await up.json()).blob;
			assert.equal(up.status, 200);
			const rnd = prng(99);
			const sample = [];
			for (const b of bases(ub)) {
				const all = [...mutations(b), ...pairs(b, 20, rnd)];
				for (let i = 0; i < 60; i++)
					sample.push(all[Math.floor(rnd() *
					    all.length)]);
			}
			const bad = [];
			let acc = 0;
			for (const c of sample) {
				const body = { repo: did, collection: c.collection,
				    record: c.record };
				if (c.rkey)
					body.rkey = c.rkey;
				const r = await fetch(`${pds.url}/xrpc/` +
				    'com.atproto.repo.createRecord', {
				    method: 'POST', headers: {
				      authorization: `Bearer ${token}`,
				      'content-type': 'application/json' },
				    body: JSON.stringify(body) });
				const j = await r.json();
				// A profile already written answers 400
				// for createRecord on "self": use putRecord.
				const ok = r.status === 200;
				const ref = refVerdict(lex, c);
				if (ok)
					acc++;
				if (r.status !== 200 && r.status !== 400)
					bad.push(`${c.what}: status ${r.status}`);
				else if (ok !== ref.ok &&
				    !(c.rkey === 'self' && !ok &&
				    /already exists/i.test(j.message ?? '')))
					bad.push(`${c.collection} ${c.what}: ` +
					    `reference ${ref.ok}, pdsd ` +
					    `${r.status} ${j.message ?? ''}`);
				if (c.rkey === 'self' && ok)
					await fetch(`${pds.url}/xrpc/` +
					    'com.atproto.repo.deleteRecord', {
					    method: 'POST', headers: {
					      authorization: `Bearer ${token}`,
					      'content-type': 'application/json' },
					    body: JSON.stringify({ repo: did,
					      collection: c.collection,
					      rkey: 'self' }) });
			}
			console.log(`# createRecord: ${sample.length} records ` +
			    `compared (${acc} accepted), ${bad.length} ` +
			    'disagreements');
			assert.ok(sample.length >= 400);
			assert.deepEqual(bad.slice(0, 20), []);
		});
	});
});
