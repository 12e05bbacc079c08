// Accounts and sessions through the official client (@atproto/api's
// AtpAgent) against pdsd and a real PLC directory (@did-plc/server):
// createAccount, login, getSession, refresh, logout; the DID document the
// PLC directory serves for the account; the empty signed repo; handles;
// app passwords; wrong passwords; invite codes.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';
import { Secp256k1Keypair } from '@atproto/crypto';
import { DidResolver } from '@atproto/identity';
import { BlockMap, verifyRepo } from '@atproto/repo';
import { CID } from 'multiformats/cid';

import { startPdsd, startPlc } from './lib.mjs';

const PASSWORD = 'correct horse battery staple';

let plc;
let pds;
let publicUrl;
let serviceDid;

before(async () => {
	plc = await startPlc();
	pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url } });
	// PDS_HOSTNAME=localhost: the public URL names localhost and the port.
	publicUrl = `http://localhost:${pds.port}`;
	serviceDid = 'did:web:localhost';
});

after(async () => {
	if (pds)
		await pds.stop();
	if (plc)
		await plc.stop();
});

function agent() {
	return new AtpAgent({ service: pds.url });
}

async function rejects(promise, check) {
	await assert.rejects(promise, (e) => {
		for (const [k, v] of Object.entries(check))
			assert.equal(e[k], v, `${k}: ${e[k]} (${e.message})`);
		return true;
	});
}

function claims(jwt) {
	return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url')
	    .toString());
}

// An HS256 token signed with the server's own secret (from its env file).
function forge(header, payload) {
	const b = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
	const data = `${b(header)}.${b(payload)}`;
	const sig = createHmac('sha256', pds.env.PDS_JWT_SECRET).update(data)
	    .digest('base64url');
	return `${data}.${sig}`;
}

// GET /.well-known/atproto-did with a chosen Host header.
function wellKnown(host) {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port: pds.port,
		    path: '/.well-known/atproto-did', headers: { host } }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode, body }));
		});
		req.on('error', reject);
		req.end();
	});
}

async function plcDoc(did) {
	const res = await fetch(`${plc.url}/${did}`);
	assert.equal(res.status, 200);
	return res.json();
}

async function createAccount(handle) {
	const a = agent();
	const res = await a.createAccount({ handle, password: PASSWORD,
	    email: `${handle.split('.')[0]}@example.com` });
	return { a, res };
}

describe('accounts through AtpAgent', () => {
	let alice;		// { a, res }

	test('createAccount returns a session for a new did:plc', async () => {
		alice = await createAccount('alice.test');
		const d = alice.res.data;
		assert.match(d.did, /^did:plc:[a-z2-7]{24}$/);
		assert.equal(d.handle, 'alice.test');
		assert.equal(alice.a.session.did, d.did);
		const c = claims(d.accessJwt);
		assert.equal(c.sub, d.did);
		assert.equal(c.aud, serviceDid);
		assert.equal(c.scope, 'com.atproto.access');
		assert.equal(c.exp - c.iat, 120 * 60);
		const r = claims(d.refreshJwt);
		assert.equal(r.scope, 'com.atproto.refresh');
		assert.ok(r.jti.length >= 32);
		assert.equal(r.exp - r.iat, 90 * 24 * 3600);
		// The client now talks to the endpoint the DID document names.
		assert.equal(alice.a.pdsUrl?.origin, publicUrl);
	});

	test('the PLC document names our endpoint, the handle and the ' +
	    'account key', async () => {
		const did = alice.res.data.did;
		const resolver = new DidResolver({ plcUrl: plc.url, fetch: globalThis.fetch });
		const data = await resolver.resolveAtprotoData(did);
		assert.equal(data.pds, publicUrl);
		assert.equal(data.handle, 'alice.test');
		const creds = await alice.a.com.atproto.identity
		    .getRecommendedDidCredentials();
		assert.equal(data.signingKey,
		    creds.data.verificationMethods.atproto);
		const doc = await plcDoc(did);
		assert.deepEqual(doc.alsoKnownAs, ['at://alice.test']);
		assert.equal(alice.res.data.didDoc.id, did);
		assert.deepEqual(alice.res.data.didDoc.service, doc.service);
		// The PLC's rotation key is the server's, as recommended.
		const log = await (await fetch(`${plc.url}/${did}/log`)).json();
		assert.equal(log.length, 1);
		assert.deepEqual(log[0].rotationKeys, creds.data.rotationKeys);
	});

	test('the account starts with an empty repo whose commit its key ' +
	    'signed', async () => {
		const { DatabaseSync } = await import('node:sqlite');
		const did = alice.res.data.did;
		const db = new DatabaseSync(path.join(pds.dataDir, 'pds.sqlite'),
		    { readOnly: true });
		const root = db.prepare('SELECT cid, rev FROM repo_root ' +
		    'WHERE did = ?').get(did);
		const rows = db.prepare('SELECT cid, content FROM repo_blocks ' +
		    'WHERE did = ?1 UNION ALL SELECT cid, content FROM ' +
		    'repo_blocks_recent WHERE did = ?1').all(did);
		db.close();
		assert.ok(root, 'repo_root row');
		const blocks = new BlockMap();
		for (const r of rows)
			blocks.set(CID.parse(r.cid), new Uint8Array(r.content));
		const data = await new DidResolver({ plcUrl: plc.url, fetch: globalThis.fetch })
		    .resolveAtprotoData(did);
		const repo = await verifyRepo(blocks, CID.parse(root.cid), did,
		    data.signingKey);
		assert.equal(repo.creates.length, 0);
		assert.equal(repo.commit.rev, root.rev);
		assert.equal(repo.commit.cid.toString(), root.cid);
		assert.equal(repo.commit.prev, null);
		// The check is real: another key does not verify the commit.
		const other = await Secp256k1Keypair.create();
		await assert.rejects(verifyRepo(blocks, CID.parse(root.cid), did,
		    other.did()));
	});

	test('login, getSession, refresh, expired-token refresh, logout',
	    async () => {
		const a = agent();
		const res = await a.login({ identifier: 'alice.test',
		    password: PASSWORD });
		assert.equal(res.data.did, alice.res.data.did);
		assert.equal(res.data.active, true);
		assert.equal(res.data.emailConfirmed, false);
		assert.equal(res.data.email, 'alice@example.com');

		const s = await a.com.atproto.server.getSession();
		assert.equal(s.data.handle, 'alice.test');
		assert.equal(s.data.did, alice.res.data.did);

		const before = a.session.refreshJwt;
		await a.sessionManager.refreshSession();
		assert.notEqual(a.session.refreshJwt, before);
		assert.equal(a.session.handle, 'alice.test');
		assert.equal((await a.com.atproto.server.getSession()).data.did,
		    alice.res.data.did);

		// An expired access token: the agent refreshes by itself.
		const now = Math.floor(Date.now() / 1000);
		a.sessionManager.session = { ...a.session,
		    accessJwt: forge({ typ: 'at+jwt', alg: 'HS256' }, {
			scope: 'com.atproto.access', aud: serviceDid,
			sub: alice.res.data.did, iat: now - 9000, exp: now - 60 }) };
		const stale = a.session.refreshJwt;
		const again = await a.com.atproto.server.getSession();
		assert.equal(again.data.did, alice.res.data.did);
		assert.notEqual(a.session.refreshJwt, stale);

		const last = a.session.refreshJwt;
		await a.logout();
		assert.equal(a.session, undefined);
		await rejects(agent().com.atproto.server.refreshSession(
		    undefined, { headers: { authorization: `Bearer ${last}` } }),
		    { status: 400, error: 'ExpiredToken' });
	});

	test('login by email and by DID; wrong password is 401', async () => {
		await agent().login({ identifier: 'ALICE@example.com',
		    password: PASSWORD });
		await agent().login({ identifier: alice.res.data.did,
		    password: PASSWORD });
		await rejects(agent().login({ identifier: 'alice.test',
		    password: 'wrong' }), { status: 401,
		    error: 'AuthenticationRequired' });
		await rejects(agent().login({ identifier: 'nobody.test',
		    password: PASSWORD }), { status: 401 });
	});

	test('resolveHandle and /.well-known/atproto-did agree', async () => {
		const res = await agent().com.atproto.identity.resolveHandle(
		    { handle: 'alice.test' });
		assert.equal(res.data.did, alice.res.data.did);
		const wk = await wellKnown('alice.test');
		assert.equal(wk.status, 200);
		assert.equal(wk.body.trim(), res.data.did);
		await rejects(agent().com.atproto.identity.resolveHandle(
		    { handle: 'nobody.test' }), { error: 'HandleNotFound' });
		assert.equal((await wellKnown('nobody.test')).status, 404);
	});

	test('updateHandle changes the PLC document', async () => {
		const { a, res } = await createAccount('bobby.test');
		const did = res.data.did;
		await a.com.atproto.identity.updateHandle(
		    { handle: 'robert.test' });
		const doc = await plcDoc(did);
		assert.deepEqual(doc.alsoKnownAs, ['at://robert.test']);
		const audit = await (await fetch(
		    `${plc.url}/${did}/log/audit`)).json();
		assert.equal(audit.length, 2);
		const r = await agent().com.atproto.identity.resolveHandle(
		    { handle: 'robert.test' });
		assert.equal(r.data.did, did);
		assert.equal((await wellKnown('robert.test')).body.trim(), did);
		assert.equal((await wellKnown('bobby.test')).status, 404);
		const s = await a.com.atproto.server.getSession();
		assert.equal(s.data.handle, 'robert.test');
		await rejects(a.com.atproto.identity.updateHandle(
		    { handle: 'alice.test' }), { error: 'HandleNotAvailable' });
	});

	test('app passwords log in and cannot create app passwords',
	    async () => {
		const main = alice.a;
		const ap = await main.com.atproto.server.createAppPassword(
		    { name: 'bot' });
		assert.match(ap.data.password,
		    /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
		assert.equal(ap.data.privileged, false);
		const priv = await main.com.atproto.server.createAppPassword(
		    { name: 'chat', privileged: true });
		assert.equal(priv.data.privileged, true);

		const app = agent();
		await app.login({ identifier: 'alice.test',
		    password: ap.data.password });
		assert.equal(claims(app.session.accessJwt).scope,
		    'com.atproto.appPass');
		await app.com.atproto.server.getSession();
		await rejects(app.com.atproto.server.createAppPassword(
		    { name: 'more' }), { status: 400, error: 'InvalidToken' });
		const list = await app.com.atproto.server.listAppPasswords();
		assert.deepEqual(list.data.passwords.map((p) => p.name).sort(),
		    ['bot', 'chat']);
		await app.sessionManager.refreshSession();
		assert.equal(claims(app.session.accessJwt).scope,
		    'com.atproto.appPass');

		const papp = agent();
		await papp.login({ identifier: 'alice.test',
		    password: priv.data.password });
		assert.equal(claims(papp.session.accessJwt).scope,
		    'com.atproto.appPassPrivileged');
		await rejects(papp.com.atproto.server.createAppPassword(
		    { name: 'more' }), { status: 400, error: 'InvalidToken' });

		await main.com.atproto.server.revokeAppPassword({ name: 'bot' });
		await rejects(agent().login({ identifier: 'alice.test',
		    password: ap.data.password }), { status: 401 });
		await rejects(app.sessionManager.refreshSession(),
		    { error: 'ExpiredToken' });
	});
});

describe('invite codes required', () => {
	let ipds;

	before(async () => {
		ipds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
		    PDS_INVITE_REQUIRED: 'true' } });
	});
	after(async () => {
		if (ipds)
			await ipds.stop();
	});

	test('a missing or used-up code is refused', async () => {
		const a = new AtpAgent({ service: ipds.url });
		const desc = await a.com.atproto.server.describeServer();
		assert.equal(desc.data.inviteCodeRequired, true);
		const input = { handle: 'carol.test', email: 'carol@example.com',
		    password: PASSWORD };
		await rejects(a.createAccount(input),
		    { status: 400, error: 'InvalidInviteCode' });

		const basic = 'Basic ' + Buffer.from(
		    `admin:${ipds.adminPassword}`).toString('base64');
		const code = (await a.com.atproto.server.createInviteCode(
		    { useCount: 1 }, { headers: { authorization: basic } }))
		    .data.code;
		await a.createAccount({ ...input, inviteCode: code });
		assert.equal(a.session.handle, 'carol.test');

		await rejects(new AtpAgent({ service: ipds.url }).createAccount({
		    handle: 'dave.test', email: 'dave@example.com',
		    password: PASSWORD, inviteCode: code }),
		    { status: 400, error: 'InvalidInviteCode' });
		await rejects(new AtpAgent({ service: ipds.url })
		    .com.atproto.identity.resolveHandle({ handle: 'dave.test' }),
		    { error: 'HandleNotFound' });
	});
});
