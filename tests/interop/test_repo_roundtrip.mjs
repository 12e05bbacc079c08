// Repository interop between our C repo code ($B/tests/repotool) and the
// official @atproto/repo:
//  (a) repos that "repotool build" makes (random records, signed commit)
//      verify with @atproto/repo against the did:key of the signing key,
//      their MST is the one @atproto/repo builds from the same leaves, and
//      their record set equals what "repotool import" reports;
//  (b) repos that @atproto/repo makes from random creates, updates and
//      deletes import with "repotool import" to the same commit, MST root,
//      rev and record set.
// Skipped, with a message, only while $B/tests/repotool is not built.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';

import { Secp256k1Keypair } from '@atproto/crypto';
import {
	MST,
	MemoryBlockstore,
	Repo,
	WriteOpAction,
	cidForRecord,
	concatBytesAsync,
	getFullRepo,
	readCarWithRoot,
	verifyRepoCar,
} from '@atproto/repo';

import { REPOTOOL, isExecutable, runProgram } from './lib.mjs';

const skip = isExecutable(REPOTOOL) ? false :
    `${REPOTOOL} is not built yet (make B=... tests)`;

const DID = 'did:plc:interopabcdefghijklmnopq';

// A fixed secp256k1 private key per test case, so failures reproduce.
function keyHex(label) {
	return createHash('sha256').update(`pds interop key ${label}`)
	    .digest('hex');
}

// mulberry32: a small seeded PRNG, for reproducible random repos.
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

// Last line of text that parses as a JSON object.
function lastJson(text, what) {
	const lines = text.trim().split('\n').reverse();
	for (const line of lines) {
		const s = line.trim();
		if (!s.startsWith('{'))
			continue;
		try {
			return JSON.parse(s);
		} catch {
			// not this one
		}
	}
	assert.fail(`${what}: no JSON object in output:\n${text}`);
}

async function repotool(args, input) {
	const res = await runProgram(REPOTOOL, args, { input,
	    timeoutMs: 120000 });
	return res;
}

async function repotoolImport(car, didKey) {
	const res = await repotool(['import', '--pubkey', didKey], car);
	assert.equal(res.code, 0,
	    `repotool import exited ${res.code ?? res.signal}: ${res.stderr}`);
	return lastJson(res.stdout.toString('utf8'), 'repotool import');
}

// { "collection/rkey": "cid" } of a repo, read with @atproto/repo.
async function recordMap(repo) {
	const out = {};
	for await (const r of repo.walkRecords())
		out[`${r.collection}/${r.rkey}`] = r.cid.toString();
	return out;
}

// The MST root @atproto/repo computes for the repo's leaves, inserted one
// by one into an empty tree in a shuffled order.
async function canonicalRoot(repo, seed) {
	const leaves = [];
	for await (const r of repo.walkRecords())
		leaves.push([`${r.collection}/${r.rkey}`, r.cid]);
	const rand = prng(seed);
	for (let i = leaves.length - 1; i > 0; i--) {
		const j = Math.floor(rand() * (i + 1));
		[leaves[i], leaves[j]] = [leaves[j], leaves[i]];
	}
	let mst = await MST.create(new MemoryBlockstore());
	for (const [key, cid] of leaves)
		mst = await mst.add(key, cid);
	return (await mst.getPointer()).toString();
}

function sorted(obj) {
	return Object.fromEntries(Object.entries(obj).sort(
	    ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const TID_CHARS = '234567abcdefghijklmnopqrstuvwxyz';
const RKEY_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const COLLECTIONS = ['app.bsky.feed.post', 'app.bsky.feed.like',
    'app.bsky.graph.follow', 'app.bsky.actor.profile',
    'com.example.interop.thing'];

function randomRkey(rand) {
	const r = rand();
	if (r < 0.6) {
		// TID shaped: 13 base32-sortable characters
		let s = TID_CHARS[Math.floor(rand() * 16)];
		for (let i = 1; i < 13; i++)
			s += TID_CHARS[Math.floor(rand() * 32)];
		return s;
	}
	if (r < 0.65)
		return 'self';
	const len = 1 + Math.floor(rand() * 30);
	let s = '';
	for (let i = 0; i < len; i++)
		s += RKEY_CHARS[Math.floor(rand() * RKEY_CHARS.length)];
	return s;
}

async function randomRecord(rand, collection, n, link) {
	const bytes = new Uint8Array(Math.floor(rand() * 40));
	for (let i = 0; i < bytes.length; i++)
		bytes[i] = Math.floor(rand() * 256);
	const rec = {
		$type: collection,
		text: `record ${n} \u00e9\u65e5\u{1f600} ${rand().toString(36)}`,
		createdAt: new Date(1700000000000 + n * 1000).toISOString(),
		n,
		neg: -1 - Math.floor(rand() * 2 ** 40),
		flag: rand() < 0.5,
		nothing: null,
		tags: ['a', 'b', String(n)].slice(0, Math.floor(rand() * 4)),
		nested: { deep: { k: n % 7, empty: {} }, list: [[], [1, 2]] },
		bytes,
	};
	if (link)
		rec.ref = link;
	return rec;
}

// Build a repo with @atproto/repo: commits of random creates, updates and
// deletes.  Returns { repo, storage, records } (records: the expected
// "collection/rkey" -> cid map, tracked independently of the MST).
async function buildJsRepo({ seed, commits, perCommit, deleteAll = false,
    keypair }) {
	const rand = prng(seed);
	const storage = new MemoryBlockstore();
	let repo = await Repo.create(storage, DID, keypair);
	const live = new Map();	// key -> record
	let n = 0;
	const link = await cidForRecord({ hello: 'world' });
	for (let c = 0; c < commits; c++) {
		const writes = [];
		const touched = new Set();
		for (let w = 0; w < perCommit; w++) {
			const r = rand();
			const keys = [...live.keys()].filter((k) =>
			    !touched.has(k));
			if (r < 0.6 || keys.length === 0) {
				const collection = COLLECTIONS[
				    Math.floor(rand() * COLLECTIONS.length)];
				const rkey = randomRkey(rand);
				const key = `${collection}/${rkey}`;
				if (live.has(key) || touched.has(key))
					continue;
				const record = await randomRecord(rand,
				    collection, n++, rand() < 0.2 ? link : null);
				writes.push({ action: WriteOpAction.Create,
				    collection, rkey, record });
				live.set(key, record);
				touched.add(key);
			} else {
				const key = keys[Math.floor(rand() *
				    keys.length)];
				const slash = key.indexOf('/');
				const collection = key.slice(0, slash);
				const rkey = key.slice(slash + 1);
				touched.add(key);
				if (r < 0.8) {
					const record = await randomRecord(rand,
					    collection, n++, null);
					writes.push({ action:
					    WriteOpAction.Update, collection,
					    rkey, record });
					live.set(key, record);
				} else {
					writes.push({ action:
					    WriteOpAction.Delete, collection,
					    rkey });
					live.delete(key);
				}
			}
		}
		if (writes.length > 0)
			repo = await repo.applyWrites(writes, keypair);
	}
	if (deleteAll && live.size > 0) {
		const writes = [...live.keys()].map((key) => {
			const slash = key.indexOf('/');
			return { action: WriteOpAction.Delete,
			    collection: key.slice(0, slash),
			    rkey: key.slice(slash + 1) };
		});
		live.clear();
		repo = await repo.applyWrites(writes, keypair);
	}
	const records = {};
	for (const [key, record] of live)
		records[key] = (await cidForRecord(record)).toString();
	return { repo, storage, records };
}

describe('repotool build -> @atproto/repo', { skip }, () => {
	const cases = [
		{ seed: 1, records: 1, deletes: 0 },
		{ seed: 2, records: 10, deletes: 3 },
		{ seed: 3, records: 300, deletes: 100 },
		{ seed: 4, records: 2000, deletes: 500 },
		{ seed: 5, records: 50, deletes: 50 },
	];
	for (const c of cases) {
		test(`seed ${c.seed}, ${c.records} records, ${c.deletes} deletes`,
		    async () => {
			const hex = keyHex(`build ${c.seed}`);
			const keypair = await Secp256k1Keypair.import(hex);
			const didKey = keypair.did();
			const args = ['build', '--seed', String(c.seed),
			    '--records', String(c.records),
			    '--deletes', String(c.deletes),
			    '--key', hex, '--did', DID];
			const res = await repotool(args);
			assert.equal(res.code, 0, `repotool ${args.join(' ')}` +
			    ` exited ${res.code ?? res.signal}: ${res.stderr}`);
			const car = new Uint8Array(res.stdout);
			const info = lastJson(res.stderr, 'repotool build');

			// Signature, DID and CIDs checked by the reference.
			const verified = await verifyRepoCar(car, DID, didKey);
			const { root, blocks } = await readCarWithRoot(car);
			assert.equal(verified.commit.cid.toString(),
			    root.toString());
			const repo = await Repo.load(
			    new MemoryBlockstore(blocks), root);
			assert.equal(repo.did, DID);
			assert.equal(repo.version, 3);
			assert.equal(repo.commit.prev ?? null, null);
			assert.match(repo.commit.rev, /^[2-7a-j][2-7a-z]{12}$/);
			assert.equal(info.commit, root.toString(),
			    'commit CID on stderr vs CAR root');
			assert.equal(info.root, repo.commit.data.toString(),
			    'MST root on stderr vs commit.data');

			// A different key must not verify.
			const other = await Secp256k1Keypair.create();
			await assert.rejects(verifyRepoCar(car, DID, other.did()),
			    /signature/i);

			const records = await recordMap(repo);
			const creates = {};
			for (const w of verified.creates)
				creates[`${w.collection}/${w.rkey}`] =
				    w.cid.toString();
			assert.deepEqual(sorted(creates), sorted(records));
			// --records N creates N, --deletes M deletes M of them.
			const count = Object.keys(records).length;
			assert.equal(count, c.records - c.deletes);
			if (info.rev !== undefined)
				assert.equal(info.rev, repo.commit.rev);
			if (typeof info.records === 'number')
				assert.equal(info.records, count);
			else if (info.records !== undefined)
				assert.deepEqual(sorted(info.records),
				    sorted(records));

			// Leaf blocks hash to their CIDs (readCar checked the
			// bytes); the MST shape is the canonical one.
			assert.equal(await canonicalRoot(repo, c.seed),
			    repo.commit.data.toString(),
			    'MST root differs from @atproto/repo rebuilding it');

			const imp = await repotoolImport(car, didKey);
			assert.equal(imp.commit, root.toString());
			assert.equal(imp.root, repo.commit.data.toString());
			assert.equal(imp.rev, repo.commit.rev);
			assert.deepEqual(sorted(imp.records), sorted(records));
		});
	}
});

describe('@atproto/repo -> repotool import', { skip }, () => {
	const cases = [
		{ name: 'empty repo', seed: 10, commits: 0, perCommit: 0 },
		{ name: 'one commit of creates', seed: 11, commits: 1,
		    perCommit: 5 },
		{ name: 'many small commits', seed: 12, commits: 60,
		    perCommit: 8 },
		{ name: 'large batches', seed: 13, commits: 6,
		    perCommit: 200 },
		{ name: 'everything deleted again', seed: 14, commits: 10,
		    perCommit: 10, deleteAll: true },
	];
	for (const c of cases) {
		test(c.name, async () => {
			const keypair = await Secp256k1Keypair.import(
			    keyHex(`js ${c.seed}`));
			const didKey = keypair.did();
			const { repo, storage, records } = await buildJsRepo({
			    ...c, keypair });
			// Our own bookkeeping agrees with the MST.
			assert.deepEqual(sorted(await recordMap(repo)),
			    sorted(records));
			const car = await concatBytesAsync(
			    getFullRepo(storage, repo.cid));

			const imp = await repotoolImport(car, didKey);
			assert.equal(imp.commit, repo.cid.toString(), 'commit');
			assert.equal(imp.root, repo.commit.data.toString(),
			    'MST root');
			assert.equal(imp.rev, repo.commit.rev, 'rev');
			assert.deepEqual(sorted(imp.records), sorted(records));

			// The wrong key must be refused.
			const other = await Secp256k1Keypair.create();
			const bad = await repotool(['import', '--pubkey',
			    other.did()], car);
			assert.notEqual(bad.code, 0,
			    'repotool import accepted a commit signed by ' +
			    'another key');
		});
	}
});
