// The blob stores side by side, with @atproto/api as the client: one
// pdsd on disk and one on S3 (a real Ceph RADOS Gateway on loopback,
// tests/s3/start.sh).  The same uploads, the same post with images, and
// then uploadBlob's answers, getBlob, sync.getBlob (whole and ranged)
// and listBlobs must give the same bytes and CIDs on both; on S3 the
// blobs are objects under blocks/<did>/<cid> holding those bytes.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';

import { startPdsd, startPlc } from './lib.mjs';
import { startRgw } from './s3.mjs';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADU' +
    'lEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
// A larger image-like blob: above the multipart part size (8 MiB).
const BIG = Buffer.concat([Buffer.from('\xff\xd8\xff\xe0', 'latin1'),
    randomBytes(9 * 1024 * 1024)]);
const SMALL = Buffer.concat([PNG, randomBytes(3000)]);

let plc, rgw;
const side = {};


async function setup(name, env) {
	const pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
	    PDS_BLOB_UPLOAD_LIMIT: '20000000', ...env } });
	try {
		return await populate(name, pds);
	} catch (e) {
		await pds.stop();	/* else it keeps the test process alive */
		throw e;
	}
}

async function populate(name, pds) {
	const agent = new AtpAgent({ service: pds.url });
	await agent.createAccount({ handle: `${name}.test`,
	    email: `${name}@example.com`, password: 'blob store pw' });
	const out = { pds, agent, did: agent.session.did, blobs: [] };
	for (const [bytes, encoding] of [[SMALL, 'image/png'],
	    [BIG, 'image/jpeg']]) {
		const { data } = await agent.uploadBlob(bytes, { encoding });
		out.blobs.push(data.blob);
	}
	out.post = await agent.post({ text: 'a picture', embed: {
	    $type: 'app.bsky.embed.images', images: [{ alt: 'x',
	    image: out.blobs[0] }] } });
	// too big for a post's image: held by a record of our own
	await agent.com.atproto.repo.createRecord({ repo: out.did,
	    collection: 'com.example.holder', record: {
	    $type: 'com.example.holder', b: out.blobs[1] } });
	return out;
}

async function getBlob(s, cid, headers = {}) {
	const res = await fetch(`${s.pds.url}/xrpc/com.atproto.sync.getBlob?` +
	    new URLSearchParams({ did: s.did, cid }), { headers });
	return { status: res.status, headers: res.headers,
	    buf: Buffer.from(await res.arrayBuffer()) };
}

before(async () => {
	plc = await startPlc();
	rgw = await startRgw();
	side.disk = await setup('dora', {});
	side.s3 = await setup('sam', rgw.env);
});

after(async () => {
	await side.disk?.pds.stop();
	await side.s3?.pds.stop();
	await rgw?.stop();
	await plc?.stop();
});

describe('disk and S3 blob stores give the same answers', () => {
	test('uploadBlob: the same CIDs, types and sizes', () => {
		const strip = (b) => ({ cid: b.ref.toString(),
		    mimeType: b.mimeType, size: b.size });
		assert.deepEqual(side.s3.blobs.map(strip),
		    side.disk.blobs.map(strip));
		assert.equal(side.s3.blobs[1].size, BIG.length);
	});

	test('the S3 blobs are objects under blocks/<did>/<cid>', async () => {
		const keys = await rgw.keys(`blocks/${side.s3.did}/`);
		for (const b of side.s3.blobs)
			assert.ok(keys.includes(
			    `blocks/${side.s3.did}/${b.ref.toString()}`), keys);
		assert.deepEqual(await rgw.keys('tmp/'), []);
	});

	test('getBlob (the client) gives the same bytes', async () => {
		for (const [i, want] of [SMALL, BIG].entries()) {
			const got = {};
			for (const k of ['disk', 's3']) {
				const s = side[k];
				const { data } = await s.agent.com.atproto.sync
				    .getBlob({ did: s.did,
				    cid: s.blobs[i].ref.toString() });
				got[k] = Buffer.from(data);
			}
			assert.ok(got.disk.equals(want), 'disk bytes');
			assert.ok(got.s3.equals(want), 's3 bytes');
		}
	});

	test('sync.getBlob over HTTP: headers, ranges', async () => {
		for (const k of ['disk', 's3']) {
			const s = side[k];
			const cid = s.blobs[1].ref.toString();
			const r = await getBlob(s, cid);
			assert.equal(r.status, 200, k);
			assert.equal(r.headers.get('content-length'),
			    String(BIG.length), k);
			assert.equal(r.headers.get('content-type'),
			    'image/jpeg', k);
			assert.ok(r.buf.equals(BIG), k);
			const p = await getBlob(s, cid,
			    { range: 'bytes=1000-1999' });
			assert.equal(p.status, 206, k);
			assert.equal(p.headers.get('content-range'),
			    `bytes 1000-1999/${BIG.length}`, k);
			assert.ok(p.buf.equals(BIG.subarray(1000, 2000)), k);
		}
	});

	test('listBlobs lists the same CIDs', async () => {
		const list = {};
		for (const k of ['disk', 's3']) {
			const s = side[k];
			const { data } = await s.agent.com.atproto.sync
			    .listBlobs({ did: s.did });
			list[k] = [...data.cids].sort();
		}
		assert.equal(list.s3.length, 2);
		assert.deepEqual(list.s3, list.disk);
	});

	test('the post embeds the same images', async () => {
		const images = {};
		for (const k of ['disk', 's3']) {
			const s = side[k];
			const uri = s.post.uri.split('/');
			const { data } = await s.agent.com.atproto.repo
			    .getRecord({ repo: s.did, collection: uri[3],
			    rkey: uri[4] });
			images[k] = data.value.embed.images.map((im) =>
			    im.image.ref.toString());
		}
		assert.deepEqual(images.s3, images.disk);
	});
});
