// Account migration between the reference PDS (@atproto/pds, started with
// bench/ref-pds.mjs from bench/node_modules) and pdsd, both ways, with
// @atproto/api and the documented steps; one PLC directory and one SMTP
// sink (the PLC tokens are read from the mail).  Skipped when the
// reference is not installed (bench/setup.sh installs it).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';
import { cborDecode } from '@atproto/common';
import { DidResolver } from '@atproto/identity';
import { decodeAll } from '@atproto/lex-cbor';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import WebSocket from 'ws';

import { allRecords, ROOT, sleep, startPdsd, startPlc, startRef,
    startSmtpSink } from './lib.mjs';

const REF_PKG = path.join(ROOT, 'bench', 'node_modules', '@atproto', 'pds',
    'package.json');
const SQLITE = path.join(ROOT, 'bench', 'node_modules', 'better-sqlite3',
    'build', 'Release', 'better_sqlite3.node');
const skip = fs.existsSync(REF_PKG) &&
    fs.existsSync(SQLITE) ? false :
    'the reference PDS is not installed under bench/ (bench/setup.sh)';

const PASSWORD = 'migrate me please';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADU' +
    'lEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const PNG2 = Buffer.concat([PNG, Buffer.from('a second image')]);

// The PLC operation token in a mail (quoted-printable soft breaks undone).
function plcToken(mail) {
	const text = mail.data.replace(/=\r\n/g, '');
	const t = /\b([A-Z2-7]{5}-[A-Z2-7]{5})\b/.exec(text);
	assert.ok(t, `a token in ${mail.data}`);
	return t[1];
}

let plc, smtp, ref, pds;

before(async () => {
	if (skip)
		return;
	plc = await startPlc();
	smtp = await startSmtpSink();
	ref = await startRef(plc, smtp);
	pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
	    PDS_SERVICE_DID: 'did:web:pdsd.test',
	    PDS_EMAIL_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
	    PDS_EMAIL_FROM_ADDRESS: 'pdsd@pds.example' } });
	pds.publicUrl = `http://localhost:${pds.port}`;
});

after(async () => {
	await pds?.stop();
	await ref?.stop();
	await smtp?.stop();
	await plc?.stop();
});

// An account with a profile image, posts, an image post and follows.
async function populate(agent) {
	const did = agent.session.did;
	const av = await agent.uploadBlob(PNG, { encoding: 'image/png' });
	await agent.com.atproto.repo.putRecord({ repo: did,
	    collection: 'app.bsky.actor.profile', rkey: 'self',
	    record: { $type: 'app.bsky.actor.profile', displayName: 'M',
	    avatar: av.data.blob } });
	for (let i = 0; i < 3; i++)
		await agent.post({ text: `post ${i}` });
	const img = await agent.uploadBlob(PNG2, { encoding: 'image/png' });
	await agent.post({ text: 'picture', embed: {
	    $type: 'app.bsky.embed.images', images: [{ alt: 'x',
	    image: img.data.blob }] } });
	await agent.follow('did:plc:ewvi7nxzyoun6zhxrhs64oiz');
	await agent.follow('did:plc:z72i7hdynmk6r22z27h6tvur');
	return new Map([[av.data.blob.ref.toString(), PNG],
	    [img.data.blob.ref.toString(), PNG2]]);
}

async function migrate(did, handle, email, fromAgent, to) {
	const toAgent = new AtpAgent({ service: to.url });
	const desc = await toAgent.com.atproto.server.describeServer();
	const sa = await fromAgent.com.atproto.server.getServiceAuth({
	    aud: desc.data.did, lxm: 'com.atproto.server.createAccount' });
	await toAgent.com.atproto.server.createAccount({ did, handle, email,
	    password: PASSWORD }, { headers: {
	    authorization: `Bearer ${sa.data.token}` } });
	await toAgent.login({ identifier: did, password: PASSWORD });
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
	const mark = smtp.mails.length;
	await fromAgent.com.atproto.identity.requestPlcOperationSignature();
	const token = plcToken(await smtp.next(email, mark, 15000));
	const signed = await fromAgent.com.atproto.identity.signPlcOperation({
	    token, ...rec.data });
	await toAgent.com.atproto.identity.submitPlcOperation({
	    operation: signed.data.operation });
	const st = await toAgent.com.atproto.server.checkAccountStatus();
	assert.equal(st.data.validDid, true);
	assert.equal(st.data.importedBlobs, st.data.expectedBlobs);
	await toAgent.com.atproto.server.activateAccount();
	await fromAgent.com.atproto.server.deactivateAccount({});
	return { toAgent, status: st.data };
}

async function checkDestination(did, agent, dest, before, blobs) {
	const after = await allRecords(agent, did);
	assert.deepEqual([...after.entries()].sort(),
	    [...before.entries()].sort());
	const anon = new AtpAgent({ service: dest.url });
	for (const [cid, bytes] of blobs) {
		const b = await anon.com.atproto.sync.getBlob({ did, cid });
		assert.deepEqual(Buffer.from(b.data), bytes);
	}
	const car = await anon.com.atproto.sync.getRepo({ did });
	const { root, blocks } = await readCarWithRoot(car.data);
	const data = await new DidResolver({ plcUrl: plc.url,
	    fetch: globalThis.fetch }).resolveAtprotoData(did);
	assert.equal(data.pds, dest.publicUrl);
	const repo = await verifyRepo(blocks, root, did, data.signingKey);
	assert.equal(repo.creates.length, before.size);
	return cborDecode(blocks.get(root));
}

describe('reference PDS <-> pdsd', { skip }, () => {
	test('from the reference PDS to pdsd', async () => {
		const n = process.pid % 10000;
		const handle = `fromref${n}.test`;
		const email = `fromref${n}@example.com`;
		const src = new AtpAgent({ service: ref.url });
		await src.createAccount({ handle, email, password: PASSWORD });
		const did = src.session.did;
		const blobs = await populate(src);
		const records = await allRecords(src, did);
		assert.equal(records.size, 7);

		const ws = new WebSocket(pds.url.replace(/^http/, 'ws') +
		    '/xrpc/com.atproto.sync.subscribeRepos');
		const frames = [];
		ws.on('message', (d) => {
			const [h, b] = [...decodeAll(new Uint8Array(d))];
			frames.push({ t: h.t, body: b });
		});
		await new Promise((r, j) => {
			ws.once('open', r);
			ws.once('error', j);
		});
		const { toAgent } = await migrate(did, handle, email, src, pds);
		const commit = await checkDestination(did, toAgent, pds, records,
		    blobs);
		assert.equal(commit.did, did);
		const deadline = Date.now() + 10000;
		while (!frames.some((f) => f.t === '#sync' &&
		    f.body.did === did) && Date.now() < deadline)
			await sleep(25);
		const ts = frames.filter((f) => f.body.did === did)
		    .map((f) => f.t);
		const i = ts.indexOf('#account');
		assert.deepEqual(ts.slice(i, i + 3),
		    ['#account', '#identity', '#sync'], ts.join());
		ws.close();
		await toAgent.post({ text: 'now on pdsd' });
		// The reference's copy is deactivated.
		const s = await src.com.atproto.server.getSession();
		assert.equal(s.data.active, false);
		assert.equal(s.data.status, 'deactivated');
	});

	test('from pdsd to the reference PDS', async () => {
		const n = process.pid % 10000;
		const handle = `fromp${n}.test`;
		const email = `fromp${n}@example.com`;
		const src = new AtpAgent({ service: pds.url });
		await src.createAccount({ handle, email, password: PASSWORD });
		const did = src.session.did;
		const blobs = await populate(src);
		await src.app.bsky.actor.putPreferences({ preferences: [{
		    $type: 'app.bsky.actor.defs#adultContentPref',
		    enabled: false }] });
		const records = await allRecords(src, did);
		assert.equal(records.size, 7);
		const { toAgent } = await migrate(did, handle, email, src, ref);
		// The reference serves the imported (pdsd-signed) head until
		// its next write (reference-pds appendix): write once first.
		const p = await toAgent.post({ text: 'now on the reference' });
		records.set(p.uri.split('/').slice(3).join('/'), p.cid);
		await checkDestination(did, toAgent, ref, records, blobs);
		const s = await src.com.atproto.server.getSession();
		assert.equal(s.data.active, false);
		assert.equal(s.data.status, 'deactivated');
		const anon = new AtpAgent({ service: pds.url });
		await assert.rejects(anon.com.atproto.sync.getLatestCommit({
		    did }), (e) => e.error === 'RepoDeactivated');
	});
});
