// Account migration between two pdsd instances sharing one PLC directory,
// driven by the official client (@atproto/api) through the documented steps
// (reference-pds §7): an account with posts, a profile image, an image post
// and follows moves from A to B, and then back from B to A.  On the
// destination every record and blob is present, the repo verifies against
// the new DID document, the firehose shows #account, #identity and #sync;
// the source account ends deactivated.  Neither pdsd has SMTP: the PLC
// token is read from the source's log, as an operator would.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';
import { cborDecode } from '@atproto/common';
import { DidResolver } from '@atproto/identity';
import { decodeAll } from '@atproto/lex-cbor';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import WebSocket from 'ws';

import { allRecords, startPdsd, startPlc, waitFor } from './lib.mjs';
import { startRgw } from './s3.mjs';

const PASSWORD = 'migrate me please';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADU' +
    'lEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const PNG2 = Buffer.concat([PNG, Buffer.from('a second image')]);

let plc, rgw, A, B;

// A keeps its blobs on disk, B on S3 (a real RADOS Gateway): the
// missing-blob import and the way back go through both stores.
before(async () => {
	plc = await startPlc();
	rgw = await startRgw();
	A = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
	    PDS_SERVICE_DID: 'did:web:pds-a.test' } });
	B = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
	    PDS_SERVICE_DID: 'did:web:pds-b.test', ...rgw.env } });
	A.publicUrl = `http://localhost:${A.port}`;
	B.publicUrl = `http://localhost:${B.port}`;
});

after(async () => {
	await A?.stop();
	await B?.stop();
	await rgw?.stop();
	await plc?.stop();
});

async function rejects(promise, error) {
	await assert.rejects(promise, (e) => {
		assert.equal(e.error, error, `${e.error}: ${e.message}`);
		return true;
	});
}

// The latest token of `purpose' for did in a pdsd's log (no SMTP).
function tokenFromLog(pds, purpose, did) {
	const log = fs.readFileSync(pds.logFile, 'utf8');
	const re = new RegExp(`email not sent \\(no SMTP\\): ${purpose} token ` +
	    `for ${did} \\(\\S+\\): ([A-Z2-7]{5}-[A-Z2-7]{5})`, 'g');
	let m, last = null;
	while ((m = re.exec(log)) !== null)
		last = m[1];
	assert.ok(last, `a ${purpose} token for ${did} in ${pds.logFile}`);
	return last;
}

// One admin socket request; null when the command is not wired up.
function adminCall(pds, cmd, args = {}) {
	const sock = path.join(pds.dataDir, 'pdsd.sock');
	return new Promise((resolve, reject) => {
		const c = net.createConnection(sock);
		let buf = '';
		c.setEncoding('utf8');
		c.on('error', reject);
		c.on('data', (d) => {
			buf += d;
			const nl = buf.indexOf('\n');
			if (nl < 0)
				return;
			c.end();
			const r = JSON.parse(buf.slice(0, nl));
			if (!r.ok && r.error === 'UnknownCommand')
				resolve(null);
			else
				resolve(r);
		});
		c.write(JSON.stringify({ v: 1, id: 1, cmd, args }) + '\n');
	});
}

// Every frame of a pdsd's firehose from now on.
function subscribe(pds) {
	const ws = new WebSocket(pds.url.replace(/^http/, 'ws') +
	    '/xrpc/com.atproto.sync.subscribeRepos');
	const frames = [];
	ws.on('message', (data) => {
		const [header, body] = [...decodeAll(new Uint8Array(data))];
		frames.push({ t: header.t, body });
	});
	const opened = new Promise((resolve, reject) => {
		ws.once('open', resolve);
		ws.once('error', reject);
	});
	return { ws, frames, opened };
}

// The documented migration steps, from `from' to `to'.
async function migrate(did, handle, email, from, fromAgent, to) {
	const toAgent = new AtpAgent({ service: to.url });
	const desc = await toAgent.com.atproto.server.describeServer();
	// A key reserved for the DID: the same one twice, a secp256k1
	// did:key, and the one the new account gets (checked below).
	const reserved = await toAgent.com.atproto.server.reserveSigningKey({
	    did });
	assert.match(reserved.data.signingKey, /^did:key:zQ3s/);
	const again = await toAgent.com.atproto.server.reserveSigningKey({
	    did });
	assert.equal(again.data.signingKey, reserved.data.signingKey);
	const other = await toAgent.com.atproto.server.reserveSigningKey({});
	assert.notEqual(other.data.signingKey, reserved.data.signingKey);
	const sa = await fromAgent.com.atproto.server.getServiceAuth({
	    aud: desc.data.did, lxm: 'com.atproto.server.createAccount' });
	await toAgent.com.atproto.server.createAccount({ did, handle, email,
	    password: PASSWORD }, { headers: {
	    authorization: `Bearer ${sa.data.token}` } });
	await toAgent.login({ identifier: did, password: PASSWORD });
	assert.equal(toAgent.session.active, false);

	const repo = await fromAgent.com.atproto.sync.getRepo({ did });
	await toAgent.com.atproto.repo.importRepo(repo.data,
	    { encoding: 'application/vnd.ipld.car' });

	let cursor;
	do {
		const missing = await toAgent.com.atproto.repo
		    .listMissingBlobs({ cursor, limit: 100 });
		for (const b of missing.data.blobs) {
			const blob = await fromAgent.com.atproto.sync.getBlob({
			    did, cid: b.cid });
			await toAgent.com.atproto.repo.uploadBlob(blob.data, {
			    encoding: blob.headers['content-type'] });
		}
		cursor = missing.data.cursor;
	} while (cursor);

	const prefs = await fromAgent.app.bsky.actor.getPreferences();
	await toAgent.app.bsky.actor.putPreferences({
	    preferences: prefs.data.preferences });

	const rec = await toAgent.com.atproto.identity
	    .getRecommendedDidCredentials();
	assert.equal(rec.data.verificationMethods.atproto,
	    reserved.data.signingKey);
	// Used up: the next reservation for the DID is a new key.
	const after = await toAgent.com.atproto.server.reserveSigningKey({
	    did });
	assert.notEqual(after.data.signingKey, reserved.data.signingKey);
	await fromAgent.com.atproto.identity.requestPlcOperationSignature();
	const token = tokenFromLog(from, 'plc_operation', did);
	const signed = await fromAgent.com.atproto.identity.signPlcOperation({
	    token, ...rec.data });
	// The token is used up.
	await rejects(fromAgent.com.atproto.identity.signPlcOperation({
	    token, ...rec.data }), 'InvalidToken');
	await toAgent.com.atproto.identity.submitPlcOperation({
	    operation: signed.data.operation });

	const st = await toAgent.com.atproto.server.checkAccountStatus();
	assert.equal(st.data.validDid, true);
	assert.equal(st.data.activated, false);
	assert.equal(st.data.importedBlobs, st.data.expectedBlobs);

	await toAgent.com.atproto.server.activateAccount();
	await fromAgent.com.atproto.server.deactivateAccount({});
	return { toAgent, repoBytes: repo.data, status: st.data };
}

async function checkDestination(did, agent, pds, before, blobs) {
	// Every record, with the same CIDs.
	const after = await allRecords(agent, did);
	assert.deepEqual([...after.entries()].sort(),
	    [...before.entries()].sort());
	// Every blob, byte for byte, readable by anyone.
	const anon = new AtpAgent({ service: pds.url });
	for (const [cid, bytes] of blobs) {
		const b = await anon.com.atproto.sync.getBlob({ did, cid });
		assert.deepEqual(Buffer.from(b.data), bytes);
	}
	// The repo verifies against the DID document, which names pds.
	const car = await anon.com.atproto.sync.getRepo({ did });
	const { root, blocks } = await readCarWithRoot(car.data);
	const data = await new DidResolver({ plcUrl: plc.url,
	    fetch: globalThis.fetch }).resolveAtprotoData(did);
	assert.equal(data.pds, pds.publicUrl);
	const repo = await verifyRepo(blocks, root, did, data.signingKey);
	assert.equal(repo.creates.length, before.size);
	repo.commitBlock = cborDecode(blocks.get(root));
	return repo;
}

describe('migration A -> B -> A with @atproto/api', () => {
	let alice, did, handle, email, records, blobs;

	before(async () => {
		alice = new AtpAgent({ service: A.url });
		handle = `mig${process.pid % 10000}.test`;
		email = `mig${process.pid % 10000}@example.com`;
		await alice.createAccount({ handle, email, password: PASSWORD });
		did = alice.session.did;
		const bob = new AtpAgent({ service: A.url });
		await bob.createAccount({ handle: `bob${process.pid % 10000}.test`,
		    email: `bob${process.pid % 10000}@example.com`,
		    password: PASSWORD });

		const av = await alice.uploadBlob(PNG, { encoding: 'image/png' });
		await alice.com.atproto.repo.putRecord({ repo: did,
		    collection: 'app.bsky.actor.profile', rkey: 'self',
		    record: { $type: 'app.bsky.actor.profile',
		    displayName: 'Alice', avatar: av.data.blob } });
		for (let i = 0; i < 3; i++)
			await alice.post({ text: `post ${i}` });
		const img = await alice.uploadBlob(PNG2,
		    { encoding: 'image/png' });
		await alice.post({ text: 'with a picture', embed: {
		    $type: 'app.bsky.embed.images', images: [{ alt: 'x',
		    image: img.data.blob }] } });
		await alice.follow(bob.session.did);
		await alice.follow('did:plc:ewvi7nxzyoun6zhxrhs64oiz');
		await alice.app.bsky.actor.putPreferences({ preferences: [{
		    $type: 'app.bsky.actor.defs#adultContentPref',
		    enabled: false }] });
		records = await allRecords(alice, did);
		assert.equal(records.size, 7);
		blobs = new Map([[av.data.blob.ref.toString(), PNG],
		    [img.data.blob.ref.toString(), PNG2]]);
	});

	test('createAccount with a DID needs that DID\'s service token',
	    async () => {
		const b = new AtpAgent({ service: B.url });
		await rejects(b.com.atproto.server.createAccount({ did,
		    handle: 'x1.test', email: 'x1@example.com',
		    password: PASSWORD }), 'AuthenticationRequired');
		// A token of another DID (bob's) for alice's DID.
		const bob = new AtpAgent({ service: A.url });
		await bob.login({ identifier: `bob${process.pid % 10000}.test`,
		    password: PASSWORD });
		const sa = await bob.com.atproto.server.getServiceAuth({
		    aud: 'did:web:pds-b.test',
		    lxm: 'com.atproto.server.createAccount' });
		await rejects(b.com.atproto.server.createAccount({ did,
		    handle: 'x2.test', email: 'x2@example.com',
		    password: PASSWORD }, { headers: {
		    authorization: `Bearer ${sa.data.token}` } }),
		    'AuthenticationRequired');
		// A token for another server.
		const sa2 = await alice.com.atproto.server.getServiceAuth({
		    aud: 'did:web:elsewhere.test',
		    lxm: 'com.atproto.server.createAccount' });
		await assert.rejects(b.com.atproto.server.createAccount({ did,
		    handle: 'x3.test', email: 'x3@example.com',
		    password: PASSWORD }, { headers: {
		    authorization: `Bearer ${sa2.data.token}` } }));
	});

	test('A to B: every record and blob, verified, events, A deactivated',
	    async () => {
		const fh = subscribe(B);
		await fh.opened;
		const sourceCar = await readCarWithRoot((await alice.com.atproto
		    .sync.getRepo({ did })).data);
		const { toAgent, status } = await migrate(did, handle, email, A,
		    alice, B);
		assert.equal(status.indexedRecords, records.size);
		assert.equal(status.expectedBlobs, 2);
		const repo = await checkDestination(did, toAgent, B, records,
		    blobs);
		// B's imported blobs are objects in its bucket.
		assert.equal((await rgw.keys(`blocks/${did}/`)).length, 2);
		// Re-signed by B over the same tree, with a later rev.
		const srcCommit = cborDecode(sourceCar.blocks.get(
		    sourceCar.root));
		assert.equal(repo.commitBlock.data.toString(),
		    srcCommit.data.toString());
		assert.equal(repo.commitBlock.did, did);
		assert.ok(repo.commit.rev > srcCommit.rev);

		// B's firehose: #account active, #identity, #sync, in order.
		await waitFor(() => fh.frames.some((f) => f.t === '#sync' &&
		    f.body.did === did), 10000, '#sync on B');
		const mine = fh.frames.filter((f) => f.body.did === did);
		const ts = mine.map((f) => f.t);
		const acc = mine.findIndex((f) => f.t === '#account' &&
		    f.body.active === true);
		assert.ok(acc >= 0, `#account active in ${ts}`);
		assert.equal(mine[acc + 1].t, '#identity');
		assert.equal(mine[acc + 1].body.handle, handle);
		assert.equal(mine[acc + 2].t, '#sync');
		assert.equal(mine[acc + 2].body.rev, repo.commit.rev);
		assert.ok(!ts.includes('#commit'), `no #commit: ${ts}`);
		fh.ws.close();

		// Writes work on B, and the prefs came along.
		await toAgent.post({ text: 'hello from B' });
		const p = await toAgent.app.bsky.actor.getPreferences();
		assert.equal(p.data.preferences[0].enabled, false);
		records = await allRecords(toAgent, did);

		// A: deactivated, its repo closed to the public.
		const s = await alice.com.atproto.server.getSession();
		assert.equal(s.data.active, false);
		assert.equal(s.data.status, 'deactivated');
		const anonA = new AtpAgent({ service: A.url });
		await rejects(anonA.com.atproto.sync.getLatestCommit({ did }),
		    'RepoDeactivated');
		await assert.rejects(alice.post({ text: 'no' }));

		// The operator's view on A and B.
		const a = await adminCall(A, 'migration.status');
		assert.notEqual(a, null, 'migration.status is in the admin table');
		assert.equal(a.ok, true, JSON.stringify(a));
		const out = a.result.outbound.find((x) => x.did === did);
		assert.equal(out?.state, 'moved');
		assert.equal(out?.completed, true);
		const b = await adminCall(B, 'migration.status');
		assert.equal(b?.ok, true, JSON.stringify(b));
		const inn = b.result.inbound.find((x) => x.did === did);
		assert.equal(inn?.state, 'activated');
		// recordsExpected is what the import brought (7); records is
		// what B holds now, which includes the post made since.
		assert.equal(inn?.recordsExpected, 7);
		assert.equal(inn?.records, records.size);
		assert.equal(records.size, 8);
		assert.equal(inn?.blobs, 2);
	});

	test('B to A: back home, the old copy replaced', async () => {
		const fh = subscribe(A);
		await fh.opened;
		const bAgent = new AtpAgent({ service: B.url });
		await bAgent.login({ identifier: did, password: PASSWORD });
		const { toAgent } = await migrate(did, handle, email, B, bAgent,
		    A);
		await checkDestination(did, toAgent, A, records, blobs);
		await waitFor(() => fh.frames.some((f) => f.t === '#sync' &&
		    f.body.did === did), 10000, '#sync on A');
		assert.ok(fh.frames.some((f) => f.t === '#account' &&
		    f.body.did === did && f.body.active === true));
		fh.ws.close();
		const s = await bAgent.com.atproto.server.getSession();
		assert.equal(s.data.status, 'deactivated');
		await toAgent.post({ text: 'home again' });
	});

	test('the operator can purge the moved-out copy on B', async () => {
		const r = await adminCall(B, 'migration.purge',
		    { account: did, reason: 'moved back to A' });
		assert.notEqual(r, null, 'migration.purge is in the admin table');
		assert.equal(r.ok, true, JSON.stringify(r));
		assert.deepEqual(r.result.purged, [did]);
		const anonB = new AtpAgent({ service: B.url });
		await rejects(anonB.com.atproto.sync.getLatestCommit({ did }),
		    'RepoNotFound');
		// A refuses to purge the live account.
		const r2 = await adminCall(A, 'migration.purge',
		    { account: did });
		assert.equal(r2.ok, false);
		assert.equal(r2.error, 'InvalidArgument');
	});
});

describe('refusals', () => {
	test('activate before the DID points here; import when imports ' +
	    'are off; missing blobs listed', async () => {
		const src = new AtpAgent({ service: A.url });
		const n = process.pid % 10000;
		await src.createAccount({ handle: `ref${n}.test`,
		    email: `ref${n}@example.com`, password: PASSWORD });
		const did = src.session.did;
		const img = await src.uploadBlob(PNG, { encoding: 'image/png' });
		await src.com.atproto.repo.putRecord({ repo: did,
		    collection: 'app.bsky.actor.profile', rkey: 'self',
		    record: { $type: 'app.bsky.actor.profile',
		    avatar: img.data.blob } });
		const dst = new AtpAgent({ service: B.url });
		const sa = await src.com.atproto.server.getServiceAuth({
		    aud: 'did:web:pds-b.test',
		    lxm: 'com.atproto.server.createAccount' });
		await dst.com.atproto.server.createAccount({ did,
		    handle: `ref${n}b.test`, email: `ref${n}@example.com`,
		    password: PASSWORD }, { headers: {
		    authorization: `Bearer ${sa.data.token}` } });
		await dst.login({ identifier: did, password: PASSWORD });
		// Deactivated: no record writes yet.
		await rejects(dst.post({ text: 'too early' }),
		    'AccountDeactivated');
		const car = (await src.com.atproto.sync.getRepo({ did })).data;
		// A CAR that is not this DID's repo is refused.
		const other = new AtpAgent({ service: A.url });
		await other.createAccount({ handle: `oth${n}.test`,
		    email: `oth${n}@example.com`, password: PASSWORD });
		const otherCar = (await other.com.atproto.sync.getRepo({
		    did: other.session.did })).data;
		await rejects(dst.com.atproto.repo.importRepo(otherCar,
		    { encoding: 'application/vnd.ipld.car' }), 'InvalidRequest');
		await rejects(dst.com.atproto.repo.importRepo(
		    new Uint8Array([1, 2, 3]),
		    { encoding: 'application/vnd.ipld.car' }), 'InvalidRequest');
		await dst.com.atproto.repo.importRepo(car,
		    { encoding: 'application/vnd.ipld.car' });
		const m = await dst.com.atproto.repo.listMissingBlobs({});
		assert.deepEqual(m.data.blobs, [{ cid: img.data.blob.ref
		    .toString(), recordUri:
		    `at://${did}/app.bsky.actor.profile/self` }]);
		const st = await dst.com.atproto.server.checkAccountStatus();
		assert.equal(st.data.validDid, false);
		assert.equal(st.data.indexedRecords, 1);
		assert.equal(st.data.expectedBlobs, 1);
		assert.equal(st.data.importedBlobs, 0);
		await rejects(dst.com.atproto.server.activateAccount(),
		    'InvalidRequest');
		// submitPlcOperation checks the op names this server.
		await src.com.atproto.identity.requestPlcOperationSignature();
		const token = tokenFromLog(A, 'plc_operation', did);
		const signed = await src.com.atproto.identity.signPlcOperation({
		    token });	/* unchanged: still names A */
		await rejects(dst.com.atproto.identity.submitPlcOperation({
		    operation: signed.data.operation }), 'InvalidRequest');

		const off = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
		    PDS_ACCEPTING_REPO_IMPORTS: 'false' } });
		try {
			const o = new AtpAgent({ service: off.url });
			await o.createAccount({ handle: `off${n}.test`,
			    email: `off${n}@example.com`, password: PASSWORD });
			await rejects(o.com.atproto.repo.importRepo(car,
			    { encoding: 'application/vnd.ipld.car' }),
			    'InvalidRequest');
		} finally {
			await off.stop();
		}
	});
});
