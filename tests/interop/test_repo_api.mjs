// The repository API of pdsd driven by the official client @atproto/api,
// and its sync output checked by @atproto/repo: posts (facets, an image
// embed), likes, reposts, follows, a profile with an avatar written by
// putRecord, applyWrites batches, deletes; getRecord and listRecords
// (paging both ways) give back what was written; swapCommit/swapRecord
// conflicts are InvalidSwap; invalid records are 400; an oversize blob
// is 413; getRepo verifies against the account's key from the PLC
// directory and holds exactly the live records; sync.getRecord proofs
// verify for present and deleted records.  On a server that already
// holds accounts (PDS_INTEROP_SEED), listRepos must give those and this
// file's two, and nothing else.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';
import { IdResolver } from '@atproto/identity';
import { verifyProofs, verifyRecords, verifyRepoCar } from '@atproto/repo';

import { PDSD, isExecutable, startPdsd } from './lib.mjs';

const skip = isExecutable(PDSD) ? false : `${PDSD} is not built yet`;
const BLOB_LIMIT = 200000;

// A 1x1 PNG and a tiny JPEG header: enough for the MIME sniffer.
const PNG = Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4' +
    '890000000d4944415478da63f8ffff3f0005fe02fea7d6a4e60000000049454e' +
    '44ae426082', 'hex');
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a46494600', 'hex'),
    Buffer.alloc(300, 7), Buffer.from('ffd9', 'hex')]);

let pds, alice, bob, did, key;
// The DIDs listRepos gave before this file created its accounts.
let baseRepos;
// What the repo should hold: "collection/rkey" -> cid
const live = new Map();

function rkeyOf(uri) {
	return uri.split('/').pop();
}

function track(uri, cid) {
	const p = uri.split('/');
	live.set(`${p[3]}/${p[4]}`, cid);
}

function untrack(collection, rkey) {
	live.delete(`${collection}/${rkey}`);
}

async function xrpc(method, params, { body, token, raw } = {}) {
	const qs = params ? '?' + new URLSearchParams(params).toString() : '';
	const headers = {};
	if (body !== undefined)
		headers['content-type'] = 'application/json';
	if (token)
		headers.authorization = `Bearer ${token}`;
	const res = await fetch(`${pds.url}/xrpc/${method}${qs}`, {
		method: body !== undefined ? 'POST' : 'GET',
		headers,
		body: body !== undefined ? JSON.stringify(body) : undefined,
	});
	const buf = Buffer.from(await res.arrayBuffer());
	if (raw)
		return { status: res.status, headers: res.headers, buf };
	let json = null;
	try {
		json = JSON.parse(buf.toString('utf8'));
	} catch {
		// not JSON
	}
	return { status: res.status, json };
}

// Every repo listRepos gives, page after page of limit.
async function listAllRepos(limit = 500) {
	const all = [];
	let cursor;
	for (;;) {
		const r = await xrpc('com.atproto.sync.listRepos',
		    cursor ? { limit, cursor } : { limit });
		assert.equal(r.status, 200, JSON.stringify(r.json));
		assert.ok(r.json.repos.length <= limit);
		all.push(...r.json.repos);
		if (!r.json.cursor || r.json.repos.length === 0)
			return all;
		cursor = r.json.cursor;
	}
}

async function expectXrpcError(promise, status, name) {
	await assert.rejects(promise, (e) => {
		assert.equal(e.status, status, `status of ${e.message}`);
		if (name)
			assert.equal(e.error, name, e.message);
		return true;
	});
}

describe('repository API with @atproto/api', { skip }, () => {
	before(async () => {
		pds = await startPdsd({
		    env: { PDS_BLOB_UPLOAD_LIMIT: String(BLOB_LIMIT) } });
		baseRepos = (await listAllRepos()).map((r) => r.did);
		alice = new AtpAgent({ service: pds.url });
		await alice.createAccount({ handle: 'alice.test',
		    email: 'alice@example.com', password: 'alice-password-1' });
		bob = new AtpAgent({ service: pds.url });
		await bob.createAccount({ handle: 'bob.test',
		    email: 'bob@example.com', password: 'bob-password-1' });
		did = alice.session.did;
		const idr = new IdResolver({ plcUrl: pds.plc.url,
		    fetch: globalThis.fetch });
		key = await idr.did.resolveAtprotoKey(did, true);
		assert.match(key, /^did:key:z/);
	});
	after(async () => {
		if (pds)
			await pds.stop();
	});

	let post, image;

	test('a post with facets and an embedded image', async () => {
		const up = await alice.uploadBlob(PNG, { encoding: 'image/png' });
		image = up.data.blob;
		assert.equal(image.mimeType, 'image/png');
		assert.equal(image.size, PNG.length);
		const text = 'hello @bob.test see https://example.com';
		const facets = [{
			index: { byteStart: 6, byteEnd: 15 },
			features: [{ $type: 'app.bsky.richtext.facet#mention',
			    did: bob.session.did }],
		}, {
			index: { byteStart: 20, byteEnd: 39 },
			features: [{ $type: 'app.bsky.richtext.facet#link',
			    uri: 'https://example.com' }],
		}];
		const createdAt = new Date().toISOString();
		post = await alice.post({ text, facets, createdAt, embed: {
		    $type: 'app.bsky.embed.images',
		    images: [{ alt: 'a pixel', image }] } });
		track(post.uri, post.cid);
		const got = await xrpc('com.atproto.repo.getRecord', { repo: did,
		    collection: 'app.bsky.feed.post', rkey: rkeyOf(post.uri) });
		assert.equal(got.status, 200);
		assert.equal(got.json.uri, post.uri);
		assert.equal(got.json.cid, post.cid);
		assert.deepEqual(got.json.value, {
			$type: 'app.bsky.feed.post', text, facets, createdAt,
			embed: { $type: 'app.bsky.embed.images', images: [{
			    alt: 'a pixel', image: { $type: 'blob',
			    ref: { $link: image.ref.toString() },
			    mimeType: 'image/png', size: PNG.length } }] },
		});
		// the blob is now permanent and served
		const b = await xrpc('com.atproto.sync.getBlob', { did,
		    cid: image.ref.toString() }, { raw: true });
		assert.equal(b.status, 200);
		assert.deepEqual(b.buf, PNG);
	});

	test('like, repost and follow', async () => {
		const like = await alice.like(post.uri, post.cid);
		track(like.uri, like.cid);
		const repost = await alice.repost(post.uri, post.cid);
		track(repost.uri, repost.cid);
		const follow = await alice.follow(bob.session.did);
		track(follow.uri, follow.cid);
		for (const [coll, uri] of [['app.bsky.feed.like', like.uri],
		    ['app.bsky.feed.repost', repost.uri],
		    ['app.bsky.graph.follow', follow.uri]]) {
			const { data } = await alice.com.atproto.repo.listRecords(
			    { repo: did, collection: coll });
			assert.deepEqual(data.records.map((r) => r.uri), [uri]);
		}
		const { data } = await alice.com.atproto.repo.getRecord({
		    repo: 'alice.test', collection: 'app.bsky.graph.follow',
		    rkey: rkeyOf(follow.uri) });
		assert.equal(data.value.subject, bob.session.did);
	});

	test('profile with an avatar by putRecord, then updated', async () => {
		const up = await alice.uploadBlob(JPEG,
		    { encoding: 'application/octet-stream' });
		assert.equal(up.data.blob.mimeType, 'image/jpeg', 'sniffed');
		const r1 = await alice.com.atproto.repo.putRecord({ repo: did,
		    collection: 'app.bsky.actor.profile', rkey: 'self',
		    record: { $type: 'app.bsky.actor.profile',
		    displayName: 'Alice', avatar: up.data.blob } });
		assert.equal(r1.data.validationStatus, 'valid');
		const r2 = await alice.com.atproto.repo.putRecord({ repo: did,
		    collection: 'app.bsky.actor.profile', rkey: 'self',
		    swapRecord: r1.data.cid,
		    record: { $type: 'app.bsky.actor.profile',
		    displayName: 'Alice A.', avatar: up.data.blob } });
		assert.notEqual(r2.data.cid, r1.data.cid);
		track(r2.data.uri, r2.data.cid);
		const { data } = await alice.com.atproto.repo.getRecord({
		    repo: did, collection: 'app.bsky.actor.profile',
		    rkey: 'self' });
		assert.equal(data.cid, r2.data.cid);
		assert.equal(data.value.displayName, 'Alice A.');
		assert.equal(data.value.avatar.ref.toString(),
		    up.data.blob.ref.toString());
		// a profile's key must be "self"
		await expectXrpcError(alice.com.atproto.repo.putRecord({
		    repo: did, collection: 'app.bsky.actor.profile',
		    rkey: 'other', record: { $type: 'app.bsky.actor.profile' } }),
		    400, 'InvalidRequest');
	});

	test('applyWrites: creates, an update and a delete in one commit',
	    async () => {
		const likes = await alice.com.atproto.repo.listRecords({
		    repo: did, collection: 'app.bsky.feed.like' });
		const likeRkey = rkeyOf(likes.data.records[0].uri);
		const now = new Date().toISOString();
		const before = await alice.com.atproto.sync.getLatestCommit(
		    { did });
		const { data } = await alice.com.atproto.repo.applyWrites({
		    repo: did, writes: [
			{ $type: 'com.atproto.repo.applyWrites#create',
			  collection: 'app.bsky.feed.post',
			  value: { $type: 'app.bsky.feed.post', text: 'one',
			  createdAt: now } },
			{ $type: 'com.atproto.repo.applyWrites#create',
			  collection: 'app.bsky.feed.post', rkey: '3kabcdefghij2',
			  value: { text: 'two', createdAt: now } },
			{ $type: 'com.atproto.repo.applyWrites#create',
			  collection: 'com.example.unknown.thing',
			  rkey: 'any-key:1',
			  value: { $type: 'com.example.unknown.thing', n: 1 } },
			{ $type: 'com.atproto.repo.applyWrites#update',
			  collection: 'app.bsky.actor.profile', rkey: 'self',
			  value: { $type: 'app.bsky.actor.profile',
			  displayName: 'Alice B.' } },
			{ $type: 'com.atproto.repo.applyWrites#delete',
			  collection: 'app.bsky.feed.like', rkey: likeRkey },
		    ] });
		assert.equal(data.results.length, 5);
		assert.deepEqual(data.results.map((r) => r.$type), [
		    'com.atproto.repo.applyWrites#createResult',
		    'com.atproto.repo.applyWrites#createResult',
		    'com.atproto.repo.applyWrites#createResult',
		    'com.atproto.repo.applyWrites#updateResult',
		    'com.atproto.repo.applyWrites#deleteResult']);
		assert.equal(data.results[2].validationStatus, 'unknown');
		assert.equal(data.results[0].validationStatus, 'valid');
		for (const r of data.results.slice(0, 4))
			track(r.uri, r.cid);
		untrack('app.bsky.feed.like', likeRkey);
		const afterc = await alice.com.atproto.sync.getLatestCommit(
		    { did });
		assert.equal(afterc.data.cid, data.commit.cid);
		assert.ok(afterc.data.rev > before.data.rev);
		// "two" got its $type filled in
		const two = await alice.com.atproto.repo.getRecord({ repo: did,
		    collection: 'app.bsky.feed.post', rkey: '3kabcdefghij2' });
		assert.equal(two.data.value.$type, 'app.bsky.feed.post');
		// more than 200 writes are refused
		const many = [];
		for (let i = 0; i < 201; i++)
			many.push({ $type: 'com.atproto.repo.applyWrites#create',
			    collection: 'com.example.unknown.thing',
			    value: { i } });
		const r = await xrpc('com.atproto.repo.applyWrites', null, {
		    token: alice.session.accessJwt,
		    body: { repo: did, writes: many } });
		assert.equal(r.status, 400);
	});

	test('delete', async () => {
		const { data } = await alice.com.atproto.repo.listRecords({
		    repo: did, collection: 'app.bsky.feed.repost' });
		const rkey = rkeyOf(data.records[0].uri);
		const del = await alice.com.atproto.repo.deleteRecord({
		    repo: did, collection: 'app.bsky.feed.repost', rkey });
		assert.ok(del.data.commit?.cid);
		untrack('app.bsky.feed.repost', rkey);
		await expectXrpcError(alice.com.atproto.repo.getRecord({
		    repo: did, collection: 'app.bsky.feed.repost', rkey }),
		    400, 'RecordNotFound');
		// deleting an absent record is not an error, and commits nothing
		const again = await alice.com.atproto.repo.deleteRecord({
		    repo: did, collection: 'app.bsky.feed.repost', rkey });
		assert.equal(again.data.commit, undefined);
	});

	test('listRecords pages forwards and backwards', async () => {
		const writes = [];
		for (let i = 0; i < 23; i++)
			writes.push({ $type: 'com.atproto.repo.applyWrites#create',
			    collection: 'com.example.page.item',
			    value: { $type: 'com.example.page.item', i } });
		const { data } = await alice.com.atproto.repo.applyWrites({
		    repo: did, writes });
		for (const r of data.results)
			track(r.uri, r.cid);
		const want = data.results.map((r) => rkeyOf(r.uri)).sort();
		for (const reverse of [false, true]) {
			const seen = [];
			let cursor;
			let pages = 0;
			do {
				const page = await alice.com.atproto.repo
				    .listRecords({ repo: did, limit: 10, reverse,
				    collection: 'com.example.page.item', cursor });
				for (const r of page.data.records) {
					seen.push(rkeyOf(r.uri));
					assert.equal(r.cid, live.get(
					    `com.example.page.item/${rkeyOf(r.uri)}`));
				}
				cursor = page.data.cursor;
				pages++;
			} while (cursor && pages < 10);
			assert.equal(pages, 3);
			assert.deepEqual(seen, reverse ? want :
			    [...want].reverse());
		}
	});

	test('swapCommit and swapRecord conflicts are InvalidSwap', async () => {
		const head = await alice.com.atproto.sync.getLatestCommit({ did });
		const ok = await alice.com.atproto.repo.createRecord({ repo: did,
		    collection: 'com.example.unknown.thing',
		    swapCommit: head.data.cid, record: { v: 1 } });
		track(ok.data.uri, ok.data.cid);
		await expectXrpcError(alice.com.atproto.repo.createRecord({
		    repo: did, collection: 'com.example.unknown.thing',
		    swapCommit: head.data.cid, record: { v: 2 } }),
		    400, 'InvalidSwap');
		const rkey = rkeyOf(ok.data.uri);
		// a wrong swapRecord, for put and delete
		await expectXrpcError(alice.com.atproto.repo.putRecord({
		    repo: did, collection: 'com.example.unknown.thing', rkey,
		    swapRecord: post.cid, record: { v: 3 } }), 400,
		    'InvalidSwap');
		await expectXrpcError(alice.com.atproto.repo.deleteRecord({
		    repo: did, collection: 'com.example.unknown.thing', rkey,
		    swapRecord: post.cid }), 400, 'InvalidSwap');
		// swapRecord null: the record must not exist yet
		const r = await xrpc('com.atproto.repo.putRecord', null, {
		    token: alice.session.accessJwt, body: { repo: did,
		    collection: 'com.example.unknown.thing', rkey,
		    swapRecord: null, record: { v: 4 } } });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'InvalidSwap');
		const got = await alice.com.atproto.repo.getRecord({ repo: did,
		    collection: 'com.example.unknown.thing', rkey });
		assert.equal(got.data.cid, ok.data.cid, 'nothing changed');
	});

	test('invalid records are refused with 400', async () => {
		const bad = [
			// a post without its required text
			{ collection: 'app.bsky.feed.post',
			  record: { $type: 'app.bsky.feed.post',
			  createdAt: new Date().toISOString() } },
			// $type does not match the collection
			{ collection: 'app.bsky.feed.post',
			  record: { $type: 'app.bsky.feed.like', text: 'x',
			  createdAt: new Date().toISOString() } },
			// floats are not in the data model
			{ collection: 'com.example.unknown.thing',
			  record: { n: 1.5 } },
			// a malformed link
			{ collection: 'com.example.unknown.thing',
			  record: { l: { $link: 'not-a-cid' } } },
			// a blob that was never uploaded
			{ collection: 'com.example.unknown.thing',
			  record: { b: { $type: 'blob', ref: { $link:
			  'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' },
			  mimeType: 'image/png', size: 3 } } },
			// a blob with the wrong MIME type and size
			{ collection: 'com.example.unknown.thing',
			  record: { b: { $type: 'blob', ref: { $link:
			  image.ref.toString() }, mimeType: 'image/gif',
			  size: PNG.length } } },
			{ collection: 'com.example.unknown.thing',
			  record: { b: { $type: 'blob', ref: { $link:
			  image.ref.toString() }, mimeType: 'image/png',
			  size: PNG.length + 1 } } },
			// a bad collection NSID
			{ collection: 'not an nsid', record: { a: 1 } },
		];
		const names = [];
		for (const b of bad) {
			const r = await xrpc('com.atproto.repo.createRecord', null, {
			    token: alice.session.accessJwt,
			    body: { repo: did, ...b } });
			assert.equal(r.status, 400, JSON.stringify(b));
			names.push(r.json.error);
		}
		assert.deepEqual(names.slice(4, 7),
		    ['BlobNotFound', 'InvalidMimeType', 'InvalidSize']);
		// validate: true needs a known lexicon
		const r = await xrpc('com.atproto.repo.createRecord', null, {
		    token: alice.session.accessJwt, body: { repo: did,
		    collection: 'com.example.unknown.thing', validate: true,
		    record: { a: 1 } } });
		assert.equal(r.status, 400);
		// writing to someone else's repo
		const o = await xrpc('com.atproto.repo.createRecord', null, {
		    token: alice.session.accessJwt, body: {
		    repo: bob.session.did, collection: 'com.example.x.y',
		    record: { a: 1 } } });
		assert.equal(o.status, 401);
	});

	test('an oversize blob is 413', async () => {
		const big = Buffer.alloc(BLOB_LIMIT + 1, 1);
		const res = await fetch(
		    `${pds.url}/xrpc/com.atproto.repo.uploadBlob`, {
		    method: 'POST', body: big, headers: {
		    'content-type': 'application/octet-stream',
		    authorization: `Bearer ${alice.session.accessJwt}` } });
		assert.equal(res.status, 413);
		await res.arrayBuffer();
		const fits = await alice.uploadBlob(Buffer.alloc(BLOB_LIMIT, 2),
		    { encoding: 'application/octet-stream' });
		assert.equal(fits.data.blob.size, BLOB_LIMIT);
	});

	test('getRepo verifies against the PLC key and holds the live records',
	    async () => {
		const r = await xrpc('com.atproto.sync.getRepo', { did },
		    { raw: true });
		assert.equal(r.status, 200);
		assert.equal(r.headers.get('content-type'),
		    'application/vnd.ipld.car');
		const v = await verifyRepoCar(new Uint8Array(r.buf), did, key);
		const got = new Map(v.creates.map((c) =>
		    [`${c.collection}/${c.rkey}`, c.cid.toString()]));
		assert.deepEqual([...got.entries()].sort(),
		    [...live.entries()].sort());
		const head = await alice.com.atproto.sync.getLatestCommit({ did });
		assert.equal(v.commit.rev, head.data.rev);
		// the deprecated getCheckout is the same repo
		const c = await xrpc('com.atproto.sync.getCheckout', { did },
		    { raw: true });
		const vc = await verifyRepoCar(new Uint8Array(c.buf), did, key);
		assert.equal(vc.creates.length, live.size);
	});

	test('sync.getRecord proofs verify for present and deleted records',
	    async () => {
		const present = await xrpc('com.atproto.sync.getRecord', { did,
		    collection: 'app.bsky.feed.post', rkey: rkeyOf(post.uri) },
		    { raw: true });
		assert.equal(present.status, 200);
		const claims = await verifyRecords(new Uint8Array(present.buf),
		    did, key);
		const mine = claims.find((c) => c.rkey === rkeyOf(post.uri));
		assert.ok(mine, 'the record is in its proof');
		assert.equal(mine.record.text,
		    'hello @bob.test see https://example.com');
		const { CID } = await import('multiformats/cid');
		const ok = await verifyProofs(new Uint8Array(present.buf), [{
		    collection: 'app.bsky.feed.post', rkey: rkeyOf(post.uri),
		    cid: CID.parse(post.cid) }], did, key);
		assert.equal(ok.verified.length, 1);
		// the repost deleted above: a proof of absence
		const reposts = await alice.com.atproto.repo.listRecords({
		    repo: did, collection: 'app.bsky.feed.repost' });
		assert.equal(reposts.data.records.length, 0);
		const gone = [...live.keys()].length; // keep lint quiet
		assert.ok(gone > 0);
		const delRkey = '3kdeletedaaa2';
		const c1 = await alice.com.atproto.repo.createRecord({ repo: did,
		    collection: 'app.bsky.feed.repost', rkey: delRkey,
		    record: { $type: 'app.bsky.feed.repost', createdAt:
		    new Date().toISOString(), subject: { uri: post.uri,
		    cid: post.cid } } });
		await alice.com.atproto.repo.deleteRecord({ repo: did,
		    collection: 'app.bsky.feed.repost', rkey: delRkey });
		const absent = await xrpc('com.atproto.sync.getRecord', { did,
		    collection: 'app.bsky.feed.repost', rkey: delRkey },
		    { raw: true });
		assert.equal(absent.status, 200);
		const no = await verifyProofs(new Uint8Array(absent.buf), [{
		    collection: 'app.bsky.feed.repost', rkey: delRkey,
		    cid: null }], did, key);
		assert.equal(no.verified.length, 1, 'absence proven');
		const wrong = await verifyProofs(new Uint8Array(absent.buf), [{
		    collection: 'app.bsky.feed.repost', rkey: delRkey,
		    cid: CID.parse(c1.data.cid) }], did, key);
		assert.equal(wrong.verified.length, 0);
	});

	test('describeRepo, getRepoStatus, listRepos, listBlobs', async () => {
		const d = await alice.com.atproto.repo.describeRepo(
		    { repo: 'alice.test' });
		assert.equal(d.data.did, did);
		assert.equal(d.data.handle, 'alice.test');
		assert.equal(d.data.handleIsCorrect, true);
		const colls = new Set([...live.keys()].map((k) =>
		    k.split('/')[0]));
		assert.deepEqual(d.data.collections, [...colls].sort());
		const s = await alice.com.atproto.sync.getRepoStatus({ did });
		assert.equal(s.data.active, true);
		const head = await alice.com.atproto.sync.getLatestCommit({ did });
		assert.equal(s.data.rev, head.data.rev);
		const h = await xrpc('com.atproto.sync.getHead', { did });
		assert.equal(h.json.root, head.data.cid);
		const l1 = await alice.com.atproto.sync.listRepos({ limit: 1 });
		assert.equal(l1.data.repos.length, 1);
		const l2 = await alice.com.atproto.sync.listRepos({ limit: 1,
		    cursor: l1.data.cursor });
		assert.equal(l2.data.repos.length, 1);
		assert.notEqual(l2.data.repos[0].did, l1.data.repos[0].did);
		// every page, to the end: what was there before and the two
		// accounts of this file, each once, the first two as above
		const all = await listAllRepos();
		assert.deepEqual(all.slice(0, 2).map((r) => r.did),
		    [...l1.data.repos, ...l2.data.repos].map((r) => r.did));
		assert.deepEqual(all.map((r) => r.did).sort(),
		    [...baseRepos, did, bob.session.did].sort());
		const mine = all.find((r) => r.did === did);
		assert.equal(mine.head, head.data.cid);
		const b = await alice.com.atproto.sync.listBlobs({ did });
		// the post's PNG and the avatar JPEG (the profile update by
		// applyWrites dropped the avatar, so only the PNG is left)
		assert.deepEqual(b.data.cids, [image.ref.toString()]);
		await expectXrpcError(alice.com.atproto.sync.getRepoStatus({
		    did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' }), 400,
		    'RepoNotFound');
	});
});
