// Helpers shared by the backup, export and report tests: seed a small
// cooperative (accounts with posts, images, likes, follows and
// preferences) through @atproto/api, take an exact snapshot of what a
// server holds for those accounts, and log members in and write.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { AtpAgent } from '@atproto/api';
import { IdResolver } from '@atproto/identity';
import { MemoryBlockstore, Repo, readCarWithRoot, verifyRepoCar }
    from '@atproto/repo';

import { PDSCTL } from './lib.mjs';

export { PDSCTL };

const PNG = Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4' +
    '890000000d4944415478da63f8ffff3f0005fe02fea7d6a4e60000000049454e' +
    '44ae426082', 'hex');

export function sha256(buf) {
	return crypto.createHash('sha256').update(buf).digest('hex');
}

// A PNG unique to (i, j): bytes after IEND keep it a PNG to sniffers.
function image(i, j, size = 2048) {
	return Buffer.concat([PNG, Buffer.from(`coop image ${i}.${j} `),
	    crypto.randomBytes(size)]);
}

// n accounts name0.test ... with posts (some with images), follows
// and likes between them, and preferences.  Returns
// [{ handle, did, password, agent }].
export async function seedCoop(url, n, { prefix = 'member', posts = 3 } = {}) {
	const members = [];
	for (let i = 0; i < n; i++) {
		const agent = new AtpAgent({ service: url });
		const handle = `${prefix}${i}.test`;
		const password = `pw-${prefix}${i}-${crypto.randomBytes(4)
		    .toString('hex')}`;
		await agent.createAccount({ handle, password,
		    email: `${prefix}${i}@example.com` });
		members.push({ handle, did: agent.session.did, password, agent });
	}
	for (const [i, m] of members.entries()) {
		m.posts = [];
		for (let j = 0; j < posts; j++) {
			const record = { text: `post ${j} of ${m.handle}`,
			    createdAt: new Date().toISOString() };
			if (j % 2 === 0) {
				const up = await m.agent.uploadBlob(image(i, j),
				    { encoding: 'image/png' });
				record.embed = { $type: 'app.bsky.embed.images',
				    images: [{ alt: `image ${i}.${j}`,
				    image: up.data.blob }] };
			}
			m.posts.push(await m.agent.post(record));
		}
		await m.agent.app.bsky.actor.putPreferences({ preferences: [
		    { $type: 'app.bsky.actor.defs#adultContentPref',
		      enabled: i % 2 === 0 },
		    { $type: 'app.bsky.actor.defs#savedFeedsPrefV2',
		      items: [{ id: `f${i}`, type: 'timeline',
		      value: 'following', pinned: true }] }] });
	}
	for (const [i, m] of members.entries()) {
		const other = members[(i + 1) % n];
		if (other !== m) {
			await m.agent.follow(other.did);
			await m.agent.like(other.posts[0].uri, other.posts[0].cid);
		}
	}
	return members;
}

async function xrpcRaw(url, method, params) {
	const res = await fetch(`${url}/xrpc/${method}?` +
	    new URLSearchParams(params));
	const buf = Buffer.from(await res.arrayBuffer());
	assert.equal(res.status, 200, `${method}: ${buf.toString()}`);
	return buf;
}

// Everything a server holds for one account, exactly: its head, its
// repo (the CAR's bytes, verified by @atproto/repo against the
// account's signing key), every record with its value, every blob.
export async function snapshotAccount(url, did, signingKey) {
	const agent = new AtpAgent({ service: url });
	const head = (await agent.com.atproto.sync.getLatestCommit({ did }))
	    .data;
	const car = await xrpcRaw(url, 'com.atproto.sync.getRepo', { did });
	const v = await verifyRepoCar(new Uint8Array(car), did, signingKey);
	assert.equal(v.commit.rev, head.rev);
	const parsed = await readCarWithRoot(new Uint8Array(car));
	const repo = await Repo.load(new MemoryBlockstore(parsed.blocks),
	    parsed.root);
	const records = {};
	const d = await agent.com.atproto.repo.describeRepo({ repo: did });
	for (const collection of d.data.collections.sort()) {
		let cursor;
		do {
			const r = await agent.com.atproto.repo.listRecords({
			    repo: did, collection, limit: 100, cursor });
			for (const rec of r.data.records)
				records[rec.uri.split('/').slice(3).join('/')] =
				    { cid: rec.cid, value: rec.value };
			cursor = r.data.cursor;
		} while (cursor);
	}
	const blobs = {};
	let cursor;
	do {
		const r = await agent.com.atproto.sync.listBlobs({ did, cursor,
		    limit: 500 });
		for (const cid of r.data.cids) {
			const b = await xrpcRaw(url, 'com.atproto.sync.getBlob',
			    { did, cid });
			blobs[cid] = sha256(b);
		}
		cursor = r.data.cursor;
	} while (cursor);
	return { head, data: repo.commit.data.toString(), car: sha256(car),
	    carBytes: car.length, creates: v.creates.length, records, blobs };
}

// The signing key of did, from the PLC directory's document.
export async function signingKey(plcUrl, did) {
	const idr = new IdResolver({ plcUrl, fetch: globalThis.fetch });
	return idr.did.resolveAtprotoKey(did, true);
}

export async function snapshotCoop(url, plcUrl, members) {
	const out = {};
	for (const m of members)
		out[m.did] = await snapshotAccount(url, m.did,
		    await signingKey(plcUrl, m.did));
	return out;
}

// Log in with the password, read the preferences, write a post.
export async function loginAndWrite(url, m) {
	const agent = new AtpAgent({ service: url });
	await agent.login({ identifier: m.handle, password: m.password });
	assert.equal(agent.session.did, m.did);
	const prefs = (await agent.app.bsky.actor.getPreferences()).data
	    .preferences;
	const post = await agent.post({ text: `back after the move: ${m.handle}`,
	    createdAt: new Date().toISOString() });
	assert.match(post.uri, new RegExp(`^at://${m.did}/`));
	return prefs;
}
