// seed: fill a PDS with many accounts, records of the shapes real use has,
// and blobs, through its public XRPC methods only (createAccount,
// uploadBlob, applyWrites), so that its repos, event log and indexes are
// the ones real writes make.  The same tool seeds pdsd and the reference.
//
//   node bench/seed.mjs --url http://127.0.0.1:2583 --accounts 200 \
//       --records 20000 [--blob-mb 20] [--conc 8] [--max-per-account N] \
//       [--out accounts.jsonl] [--name s] [--seed 1] [--bypass KEY]
//
// Records per account follow a long tail: the account of rank r gets a
// share proportional to 1/(r+1)^1.1, at most --max-per-account (20,000
// by default): a few accounts hold thousands, most hold a few dozen.
// Each account gets a profile, then posts (some with facets and langs,
// some with images), likes and reposts of earlier posts, and follows of
// other accounts, in applyWrites batches of up to 200 writes.  Blob
// bytes (--blob-mb in all) are split into images of 64 KiB to 0.9 MB,
// each one referenced by a post, so none is garbage.
//
// --out writes one JSON line per account (did, handle, password,
// records); the scale benchmark signs in with them later.  Prints one
// JSON line with the totals.  Exported as seed() for bench/scale.mjs.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const BATCH = 200;
const TAIL = 1.1;

// A small deterministic generator (mulberry32): the same seed gives the
// same records and sizes on both servers.
function rng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

// Records per account: a long tail scaled so that they add up to total
// (up to the per-account cap).  Rank 0 is the largest; the ranks are
// then spread over the accounts so that big accounts are not all first.
export function tailSizes(accounts, total, cap, rand) {
	const w = Array.from({ length: accounts }, (_, r) =>
	    1 / Math.pow(r + 1, TAIL));
	const sum = (k) => w.reduce((s, x) => s + Math.min(cap,
	    Math.floor(k * x)), 0);
	let lo = 0, hi = total * 2 + 1;
	for (let i = 0; i < 60; i++) {
		const mid = (lo + hi) / 2;
		if (sum(mid) < total)
			lo = mid;
		else
			hi = mid;
	}
	const sizes = w.map((x) => Math.min(cap, Math.floor(hi * x)));
	let left = total - sizes.reduce((s, x) => s + x, 0);
	for (let r = accounts - 1; left > 0 && r >= 0; r--) {
		if (sizes[r] < cap) {
			sizes[r]++;
			left--;
		}
	}
	for (let i = sizes.length - 1; i > 0; i--) {
		const j = Math.floor(rand() * (i + 1));
		[sizes[i], sizes[j]] = [sizes[j], sizes[i]];
	}
	return sizes;
}

const WORDS = ('the a coop garden river bread morning people city bike ' +
    'music library window coffee night friends market winter street ' +
    'sun rain book school train small quiet open new old good').split(' ');

function sentence(rand, n) {
	const out = [];
	for (let i = 0; i < n; i++)
		out.push(WORDS[Math.floor(rand() * WORDS.length)]);
	return out.join(' ');
}

function isoNow(i) {
	return new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString();
}

function postValue(rand, i, image) {
	const text = sentence(rand, 6 + Math.floor(rand() * 30));
	const v = { $type: 'app.bsky.feed.post', text, createdAt: isoNow(i) };
	if (rand() < 0.7)
		v.langs = [rand() < 0.8 ? 'en' : 'fr'];
	if (rand() < 0.3) {
		const link = 'https://example.com/' + Math.floor(rand() * 1e6);
		const start = Buffer.byteLength(v.text) + 1;
		v.text += ' ' + link;
		v.facets = [{
			index: { byteStart: start,
				byteEnd: start + Buffer.byteLength(link) },
			features: [{ $type: 'app.bsky.richtext.facet#link',
				uri: link }],
		}];
	}
	if (image) {
		v.embed = { $type: 'app.bsky.embed.images', images: [{
			alt: sentence(rand, 4), image }] };
	}
	return v;
}

class Client {
	constructor(url, bypass) {
		this.url = url.replace(/\/$/, '');
		this.bypass = bypass;
	}

	async call(nsid, { body, token, raw, type } = {}) {
		const headers = {};
		if (this.bypass)
			headers['x-ratelimit-bypass'] = this.bypass;
		if (token)
			headers.authorization = `Bearer ${token}`;
		if (raw)
			headers['content-type'] = type;
		else if (body !== undefined)
			headers['content-type'] = 'application/json';
		for (let attempt = 0; ; attempt++) {
			let res;
			try {
				res = await fetch(`${this.url}/xrpc/${nsid}`, {
					method: 'POST', headers,
					body: raw ?? JSON.stringify(body),
					signal: AbortSignal.timeout(120000),
				});
			} catch (e) {
				if (attempt < 3)
					continue;
				throw new Error(`${nsid}: ${e.message}`);
			}
			const text = await res.text();
			if (res.status === 200)
				return JSON.parse(text);
			if ((res.status === 429 || res.status === 503) &&
			    attempt < 20) {
				await new Promise((r) => setTimeout(r, 200));
				continue;
			}
			throw new Error(`${nsid}: HTTP ${res.status} ` +
			    text.slice(0, 200));
		}
	}
}

async function handleDomain(c) {
	const r = await fetch(`${c.url}/xrpc/com.atproto.server.describeServer`);
	const j = await r.json();
	return j.availableUserDomains?.[0] ?? '.test';
}

// Seed one account: create it, upload its images, write its records.
async function seedAccount(c, o, idx, size, nimages, shared) {
	const rand = rng(o.seed * 1000003 + idx);
	const handle = `${o.name}${String(idx).padStart(5, '0')}` +
	    shared.domain;
	const password = `seed-${o.name}-${idx}-pw`;
	const a = await c.call('com.atproto.server.createAccount', {
		body: { handle, email: `${o.name}${idx}@example.com`,
			password } });
	const token = a.accessJwt;
	const images = [];
	for (let i = 0; i < nimages; i++) {
		const len = shared.blobLen(rand);
		const bytes = randomBytes(len);
		// a JPEG's first bytes, for servers that sniff
		bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
		const r = await c.call('com.atproto.repo.uploadBlob', {
			token, raw: bytes, type: 'image/jpeg' });
		images.push(r.blob);
		shared.blobBytes += len;
	}
	shared.dids.push(a.did);
	const writes = [{ $type: 'com.atproto.repo.applyWrites#create',
		collection: 'app.bsky.actor.profile', rkey: 'self',
		value: { $type: 'app.bsky.actor.profile',
			displayName: `Member ${idx}`,
			description: sentence(rand, 12) } }];
	let written = 0;
	const flush = async () => {
		const r = await c.call('com.atproto.repo.applyWrites', {
			token, body: { repo: a.did, writes } });
		for (const x of r.results ?? []) {
			if (x.uri?.includes('/app.bsky.feed.post/') &&
			    shared.posts.length < 4096)
				shared.posts.push({ uri: x.uri, cid: x.cid });
		}
		written += writes.length;
		writes.length = 0;
	};
	for (let i = 1; i < size; i++) {
		const p = rand();
		const subj = shared.posts.length > 0 ? shared.posts[
		    Math.floor(rand() * shared.posts.length)] : null;
		const other = shared.dids.length > 1 ? shared.dids[
		    Math.floor(rand() * shared.dids.length)] : null;
		let coll, value;
		if (images.length > 0 && (p < 0.1 || size - i <= images.length)) {
			coll = 'app.bsky.feed.post';
			value = postValue(rand, i, images.pop());
		} else if (p < 0.55 || subj === null) {
			coll = 'app.bsky.feed.post';
			value = postValue(rand, i, null);
		} else if (p < 0.82) {
			coll = 'app.bsky.feed.like';
			value = { $type: coll, subject: subj,
				createdAt: isoNow(i) };
		} else if (p < 0.9) {
			coll = 'app.bsky.feed.repost';
			value = { $type: coll, subject: subj,
				createdAt: isoNow(i) };
		} else if (other !== null && other !== a.did) {
			coll = 'app.bsky.graph.follow';
			value = { $type: coll, subject: other,
				createdAt: isoNow(i) };
		} else {
			coll = 'app.bsky.feed.post';
			value = postValue(rand, i, null);
		}
		writes.push({ $type: 'com.atproto.repo.applyWrites#create',
			collection: coll, value });
		if (writes.length === BATCH)
			await flush();
	}
	// an account with fewer records than images posts the rest alone
	while (images.length > 0) {
		writes.push({ $type: 'com.atproto.repo.applyWrites#create',
			collection: 'app.bsky.feed.post',
			value: postValue(rand, size + images.length,
			    images.pop()) });
		if (writes.length === BATCH)
			await flush();
	}
	if (writes.length > 0)
		await flush();
	return { did: a.did, handle, password, records: written };
}

export async function seed(o) {
	o = { accounts: 200, records: 20000, blobMb: 0, conc: 8,
		maxPerAccount: 20000, name: 's', seed: 1, out: null,
		bypass: null, log: () => {}, ...o };
	if (o.records < o.accounts)
		throw new Error('--records must be at least --accounts ' +
		    '(every account has a profile)');
	const c = new Client(o.url, o.bypass);
	const rand = rng(o.seed);
	const sizes = tailSizes(o.accounts, o.records, o.maxPerAccount, rand);
	// images: their count from the byte total, shared by the same tail
	const avgBlob = 512 << 10;
	const nimg = Math.round(o.blobMb * 1048576 / avgBlob);
	const imgs = tailSizes(o.accounts, Math.max(nimg, 0),
	    Number.MAX_SAFE_INTEGER, rand);
	const shared = {
		domain: await handleDomain(c), dids: [], posts: [],
		blobBytes: 0,
		// under the lexicon's 1,000,000 bytes for an image
		blobLen: (r) => (64 << 10) + Math.floor(r() * 880000),
	};
	const out = o.out ? fs.openSync(o.out, 'w') : null;
	const t0 = performance.now();
	let next = 0, done = 0, records = 0;
	const worker = async () => {
		while (next < o.accounts) {
			const i = next++;
			const r = await seedAccount(c, o, i, sizes[i],
			    nimg > 0 ? imgs[i] : 0, shared);
			records += r.records;
			if (out !== null)
				fs.writeSync(out, JSON.stringify(r) + '\n');
			if (++done % 100 === 0)
				o.log(`seeded ${done}/${o.accounts} accounts, ` +
				    `${records} records`);
		}
	};
	await Promise.all(Array.from({ length: o.conc }, worker));
	if (out !== null)
		fs.closeSync(out);
	const sorted = [...sizes].sort((x, y) => x - y);
	return {
		accounts: o.accounts, records, blobs: nimg,
		blob_bytes: shared.blobBytes,
		secs: +((performance.now() - t0) / 1000).toFixed(1),
		largest: sorted[sorted.length - 1],
		median: sorted[Math.floor(sorted.length / 2)],
		under_50: sorted.filter((x) => x < 50).length,
	};
}

function parse(argv) {
	const o = {};
	const names = { '--url': 'url', '--accounts': 'accounts',
		'--records': 'records', '--blob-mb': 'blobMb', '--conc': 'conc',
		'--max-per-account': 'maxPerAccount', '--out': 'out',
		'--name': 'name', '--seed': 'seed', '--bypass': 'bypass' };
	const numeric = ['accounts', 'records', 'blobMb', 'conc',
		'maxPerAccount', 'seed'];
	for (let i = 0; i < argv.length; i++) {
		const k = names[argv[i]];
		if (k === undefined || i + 1 >= argv.length) {
			process.stderr.write(`seed: bad option ${argv[i]}\n` +
			    'usage: seed.mjs --url URL [--accounts N] ' +
			    '[--records N] [--blob-mb N] [--conc N] ' +
			    '[--max-per-account N] [--out FILE] [--name S] ' +
			    '[--seed N] [--bypass KEY]\n');
			process.exit(2);
		}
		o[k] = numeric.includes(k) ? Number(argv[++i]) : argv[++i];
	}
	if (!o.url) {
		process.stderr.write('seed: --url is required\n');
		process.exit(2);
	}
	return o;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const o = parse(process.argv.slice(2));
	o.log = (m) => process.stderr.write(`seed: ${m}\n`);
	seed(o).then((r) => {
		process.stdout.write(JSON.stringify(r) + '\n');
	}, (e) => {
		process.stderr.write(`seed: ${e.message}\n`);
		process.exit(1);
	});
}
