// Blob lifecycle in pdsd, with @atproto/api as the client: uploads are
// temporary until a record references them; referenced blobs are served
// by sync.getBlob with the protective headers; a blob no record
// references any more is deleted (row and file); uploads never
// referenced are swept after the grace period (set to 2 s here with
// PDS_BLOB_TEMP_GRACE_SECONDS).  Then moderation: taken-down records and
// blobs are invisible, and taken-down or deactivated repos are refused
// to everyone but their owner and an admin, and cannot be written.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';

import { PDSD, isExecutable, sleep, startPdsd } from './lib.mjs';

const skip = isExecutable(PDSD) ? false : `${PDSD} is not built yet`;
const GRACE_S = 2;

const PNG = Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4' +
    '890000000d4944415478da63f8ffff3f0005fe02fea7d6a4e60000000049454e' +
    '44ae426082', 'hex');
const GIF = Buffer.from('GIF89a' + 'x'.repeat(40));
const WEBP = Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 '),
    Buffer.alloc(32, 3)]);
const MP4 = Buffer.concat([Buffer.from('\x00\x00\x00\x18ftypisom'),
    Buffer.alloc(64, 5)]);

let pds, alice, did;

function blobFile(cid) {
	return path.join(pds.dataDir, 'blocks', did, cid);
}

async function getBlob(cid, headers = {}) {
	const res = await fetch(`${pds.url}/xrpc/com.atproto.sync.getBlob?` +
	    new URLSearchParams({ did, cid }), { headers });
	const buf = Buffer.from(await res.arrayBuffer());
	return { status: res.status, headers: res.headers, buf,
	    json: res.status !== 200 ? JSON.parse(buf.toString()) : null };
}

async function upload(bytes, encoding) {
	const { data } = await alice.uploadBlob(bytes, { encoding });
	return data.blob;
}

async function put(rkey, value) {
	return alice.com.atproto.repo.putRecord({ repo: did,
	    collection: 'com.example.blob.holder', rkey,
	    record: { $type: 'com.example.blob.holder', ...value } });
}

async function del(rkey) {
	return alice.com.atproto.repo.deleteRecord({ repo: did,
	    collection: 'com.example.blob.holder', rkey });
}

async function xrpc(method, { params, body, auth } = {}) {
	const qs = params ? '?' + new URLSearchParams(params) : '';
	const headers = {};
	if (body !== undefined)
		headers['content-type'] = 'application/json';
	if (auth)
		headers.authorization = auth;
	const res = await fetch(`${pds.url}/xrpc/${method}${qs}`, {
	    method: body !== undefined ? 'POST' : 'GET', headers,
	    body: body !== undefined ? JSON.stringify(body) : undefined });
	const text = await res.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {
		// a CAR, or empty
	}
	return { status: res.status, json };
}

function adminAuth() {
	return 'Basic ' + Buffer.from(`admin:${pds.adminPassword}`)
	    .toString('base64');
}

describe('blob lifecycle', { skip }, () => {
	before(async () => {
		pds = await startPdsd({ env: {
		    PDS_BLOB_TEMP_GRACE_SECONDS: String(GRACE_S) } });
		alice = new AtpAgent({ service: pds.url });
		await alice.createAccount({ handle: 'alice.test',
		    email: 'alice@example.com', password: 'alice-password-1' });
		did = alice.session.did;
	});
	after(async () => {
		if (pds)
			await pds.stop();
	});

	test('MIME types are sniffed, else taken from the request', async () => {
		assert.equal((await upload(PNG, 'text/plain')).mimeType,
		    'image/png');
		assert.equal((await upload(GIF, 'image/png')).mimeType,
		    'image/gif');
		assert.equal((await upload(WEBP, 'application/octet-stream'))
		    .mimeType, 'image/webp');
		assert.equal((await upload(MP4, 'application/octet-stream'))
		    .mimeType, 'video/mp4');
		assert.equal((await upload(Buffer.from('plain words'),
		    'text/plain; charset=utf-8')).mimeType, 'text/plain');
		assert.equal((await upload(Buffer.from('plain words 2'),
		    'not a type')).mimeType, 'application/octet-stream');
	});

	test('referenced blobs are served, dereferenced ones deleted',
	    async () => {
		const a = await upload(PNG, 'image/png');
		const b = await upload(GIF, 'image/gif');
		const acid = a.ref.toString();
		const bcid = b.ref.toString();
		// temporary: on disk, but not served
		assert.ok(fs.existsSync(blobFile(bcid)));
		assert.equal((await getBlob(bcid)).json.error, 'BlobNotFound');

		await put('one', { img: a });
		await put('two', { img: a, other: b });
		const g = await getBlob(acid);
		assert.equal(g.status, 200);
		assert.deepEqual(g.buf, PNG);
		assert.equal(g.headers.get('content-type'), 'image/png');
		assert.equal(g.headers.get('content-length'), String(PNG.length));
		assert.equal(g.headers.get('x-content-type-options'), 'nosniff');
		assert.equal(g.headers.get('content-security-policy'),
		    "default-src 'none'; sandbox");
		assert.match(g.headers.get('content-disposition'),
		    /^attachment; filename="bafkrei[a-z2-7]+"$/);
		const l = await alice.com.atproto.sync.listBlobs({ did });
		assert.deepEqual(l.data.cids.sort(), [acid, bcid].sort());

		// b loses its only reference (an update without it)
		await put('two', { img: a });
		assert.equal((await getBlob(bcid)).json.error, 'BlobNotFound');
		assert.equal(fs.existsSync(blobFile(bcid)), false, 'b removed');
		// a is still referenced by "two"
		await del('one');
		assert.equal((await getBlob(acid)).status, 200);
		assert.ok(fs.existsSync(blobFile(acid)));
		// and now by nothing
		await del('two');
		assert.equal((await getBlob(acid)).status, 400);
		assert.equal(fs.existsSync(blobFile(acid)), false, 'a removed');
		// a record cannot name it any more, until it is uploaded again
		await assert.rejects(put('three', { img: a }),
		    (e) => e.error === 'BlobNotFound');
		const again = await upload(PNG, 'image/png');
		assert.equal(again.ref.toString(), acid);
		await put('three', { img: again });
		assert.equal((await getBlob(acid)).status, 200);
	});

	test('uploads never referenced are swept after the grace period',
	    async () => {
		const orphan = await upload(Buffer.from('orphan bytes'),
		    'application/octet-stream');
		const kept = await upload(Buffer.from('kept bytes'),
		    'application/octet-stream');
		const ocid = orphan.ref.toString();
		await put('kept', { b: kept });
		assert.ok(fs.existsSync(blobFile(ocid)));
		// the sweep runs every grace/4; wait past the grace period
		const deadline = Date.now() + GRACE_S * 1000 + 5000;
		while (fs.existsSync(blobFile(ocid)) && Date.now() < deadline)
			await sleep(200);
		assert.equal(fs.existsSync(blobFile(ocid)), false, 'swept');
		await assert.rejects(put('late', { b: orphan }),
		    (e) => e.error === 'BlobNotFound');
		// the referenced one stays
		assert.ok(fs.existsSync(blobFile(kept.ref.toString())));
		assert.equal((await getBlob(kept.ref.toString())).status, 200);
	});

	test('taken-down records and blobs are invisible', async () => {
		const img = await upload(PNG, 'image/png');
		const r = await put('moderated', { img });
		let res = await xrpc('com.atproto.admin.updateSubjectStatus', {
		    auth: adminAuth(), body: {
		    subject: { $type: 'com.atproto.repo.strongRef',
		    uri: r.data.uri, cid: r.data.cid },
		    takedown: { applied: true, ref: 'test-1' } } });
		assert.equal(res.status, 200, JSON.stringify(res.json));
		res = await xrpc('com.atproto.repo.getRecord', { params: {
		    repo: did, collection: 'com.example.blob.holder',
		    rkey: 'moderated' } });
		assert.equal(res.json.error, 'RecordNotFound');
		res = await xrpc('com.atproto.repo.listRecords', { params: {
		    repo: did, collection: 'com.example.blob.holder' } });
		assert.ok(!res.json.records.some((x) => x.uri === r.data.uri));

		res = await xrpc('com.atproto.admin.updateSubjectStatus', {
		    auth: adminAuth(), body: {
		    subject: { $type: 'com.atproto.admin.defs#repoBlobRef', did,
		    cid: img.ref.toString() },
		    takedown: { applied: true, ref: 'test-2' } } });
		assert.equal(res.status, 200, JSON.stringify(res.json));
		assert.equal((await getBlob(img.ref.toString())).json.error,
		    'BlobNotFound');
	});

	test('deactivated and taken-down repos: only owner and admin read, ' +
	    'nobody writes', async () => {
		const token = `Bearer ${alice.session.accessJwt}`;
		let res = await xrpc('com.atproto.server.deactivateAccount', {
		    auth: token, body: {} });
		assert.equal(res.status, 200, JSON.stringify(res.json));
		res = await xrpc('com.atproto.sync.getLatestCommit',
		    { params: { did } });
		assert.equal(res.json.error, 'RepoDeactivated');
		res = await xrpc('com.atproto.repo.describeRepo',
		    { params: { repo: did } });
		assert.equal(res.json.error, 'RepoDeactivated');
		res = await xrpc('com.atproto.sync.getLatestCommit',
		    { params: { did }, auth: token });
		assert.equal(res.status, 200, 'the owner still reads');
		res = await xrpc('com.atproto.sync.getLatestCommit',
		    { params: { did }, auth: adminAuth() });
		assert.equal(res.status, 200, 'an admin reads');
		res = await xrpc('com.atproto.sync.getRepoStatus',
		    { params: { did } });
		assert.deepEqual([res.json.active, res.json.status],
		    [false, 'deactivated']);
		res = await xrpc('com.atproto.repo.createRecord', { auth: token,
		    body: { repo: did, collection: 'com.example.blob.holder',
		    record: { x: 1 } } });
		assert.equal(res.status, 400);
		assert.equal(res.json.error, 'AccountDeactivated');

		res = await xrpc('com.atproto.server.activateAccount',
		    { auth: token, body: {} });
		res = await xrpc('com.atproto.admin.updateSubjectStatus', {
		    auth: adminAuth(), body: {
		    subject: { $type: 'com.atproto.admin.defs#repoRef', did },
		    takedown: { applied: true, ref: 'test-3' } } });
		assert.equal(res.status, 200, JSON.stringify(res.json));
		res = await xrpc('com.atproto.sync.getRepo', { params: { did } });
		assert.equal(res.json.error, 'RepoTakendown');
		res = await xrpc('com.atproto.sync.getRepo',
		    { params: { did }, auth: adminAuth() });
		assert.equal(res.status, 200, 'an admin reads');
		res = await xrpc('com.atproto.repo.createRecord', { auth: token,
		    body: { repo: did, collection: 'com.example.blob.holder',
		    record: { x: 2 } } });
		assert.ok(res.status === 400 || res.status === 401,
		    `write refused (${res.status})`);
		assert.ok(['AccountTakedown', 'InvalidToken',
		    'AuthenticationRequired'].includes(res.json.error),
		    res.json.error);
	});
});
