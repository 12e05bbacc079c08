// OAuth end to end with the official client, @atproto/oauth-client-node,
// as a loopback development client against pdsd's authorization server:
// client.authorize(handle), the sign-in and consent pages driven as plain
// HTML forms, client.callback(), a forced refresh, signOut (revocation),
// and the revoked refresh token refused.  Then the token endpoint's
// refusals, with proofs built here with node:crypto: no proof, a proof
// for another URL or method, a replayed jti, a made-up nonce, a stale
// iat, a wrong PKCE verifier, a code presented twice (which ends the
// session it made), a refresh token presented after its rotation (which
// ends the family) and a refresh signed with another key (which ends the
// session).
//
// Then the official client as a confidential (private_key_jwt) client,
// its metadata document served by a loopback http server: pdsd runs in
// development mode, where such a client_id is allowed.  The same steps,
// plus its grant's longer lifetime (read with pdsctl) and a client
// assertion replayed at the token endpoint, refused.
//
// Calls to /xrpc/ through the DPoP session (createRecord, getSession,
// uploadBlob) go to pdsd's resource server; with RESOURCE_SERVER false
// these steps would check a refusal instead of the calls' results.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Agent, AtpAgent } from '@atproto/api';

import {
	BUILD,
	PDSD,
	isExecutable,
	runProgram,
	startPdsd,
	startPlc,
} from './lib.mjs';
import {
	HandClient,
	REDIRECT_URI,
	SCOPE,
	approveInForms,
	confidentialClient,
	dpopKey,
	dpopKeyOf,
	dpopProof,
	oauthClient,
} from './oauth.mjs';

const PDSCTL = path.join(BUILD, 'bin', 'pdsctl');

// Whether pdsd accepts DPoP-bound access tokens at /xrpc/.
const RESOURCE_SERVER = true;

const skip = isExecutable(PDSD) ? false : `${PDSD} is not built yet`;

let plc, pds, alice;

before(async () => {
	if (skip)
		return;
	plc = await startPlc();
	pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url } });
	const agent = new AtpAgent({ service: pds.url });
	alice = { handle: 'alice.test', password: 'alice-pw-123' };
	await agent.createAccount({ handle: alice.handle,
	    email: 'alice@example.com', password: alice.password });
	alice.did = agent.session.did;
});
after(async () => {
	if (pds)
		await pds.stop();
	if (plc)
		await plc.stop();
});

// The error an XRPC call through the OAuth session ends with, or null.
async function xrpcError(promise) {
	try {
		await promise;
	} catch (e) {
		return e;
	}
	return null;
}

// pdsd's refusal of a DPoP token while there is no resource server.
function assertRefused(e, what) {
	assert.ok(e !== null, `${what}: expected the refusal`);
	assert.equal(e.status, 401, `${what}: ${e.message}`);
	assert.match(e.message, /OAuth|DPoP/, what);
}

describe('the official OAuth client, loopback', { skip }, () => {
	let c, session, stored;

	test('authorize, sign in, consent, callback', async () => {
		c = oauthClient(pds, plc);
		const url = new URL(await c.client.authorize(alice.handle,
		    { scope: SCOPE, state: 'app-state-1' }));
		assert.equal(url.pathname, '/oauth/authorize');
		assert.ok(url.searchParams.get('request_uri')
		    .startsWith('urn:ietf:params:oauth:request_uri:'));
		const params = await approveInForms(url.href, alice.handle,
		    alice.password);
		assert.ok(params.get('code').startsWith('cod-'));
		const res = await c.client.callback(params,
		    { redirect_uri: REDIRECT_URI });
		session = res.session;
		assert.equal(res.state, 'app-state-1');
		assert.equal(session.did, alice.did);
		const info = await session.getTokenInfo(false);
		assert.equal(info.sub, alice.did);
		assert.equal(info.iss, session.serverMetadata.issuer);
		assert.deepEqual(info.scope.split(' ').sort(), SCOPE.split(' ')
		    .sort());
		stored = structuredClone(c.sessions.map.get(alice.did));
		assert.equal(stored.tokenSet.token_type, 'DPoP');
		assert.ok(stored.tokenSet.refresh_token.startsWith('ref-'));
	});

	test('XRPC calls through the DPoP session', async () => {
		const agent = new Agent(session);
		const created = await xrpcError(agent.com.atproto.repo
		    .createRecord({ repo: alice.did,
		    collection: 'app.bsky.feed.post', record: {
			$type: 'app.bsky.feed.post', text: 'posted with OAuth',
			createdAt: new Date().toISOString() } }));
		const got = await xrpcError(agent.com.atproto.server
		    .getSession());
		const blob = await xrpcError(agent.com.atproto.repo.uploadBlob(
		    new Uint8Array([1, 2, 3, 4]), { encoding: 'image/png' }));
		if (!RESOURCE_SERVER) {
			assertRefused(created, 'createRecord');
			assertRefused(got, 'getSession');
			assertRefused(blob, 'uploadBlob');
			return;
		}
		assert.equal(created, null, created?.message);
		assert.equal(got, null, got?.message);
		assert.equal(blob, null, blob?.message);
		const r = await agent.com.atproto.repo.listRecords({
		    repo: alice.did, collection: 'app.bsky.feed.post' });
		assert.equal(r.data.records.length, 1);
		assert.equal(r.data.records[0].value.text, 'posted with OAuth');
		const s = await agent.com.atproto.server.getSession();
		assert.equal(s.data.did, alice.did);
	});

	test('a forced refresh rotates the tokens', async () => {
		const before = c.sessions.map.get(alice.did).tokenSet;
		const info = await session.getTokenInfo(true);
		assert.equal(info.sub, alice.did);
		const now = c.sessions.map.get(alice.did).tokenSet;
		assert.notEqual(now.refresh_token, before.refresh_token);
		assert.notEqual(now.access_token, before.access_token);
		stored = structuredClone(c.sessions.map.get(alice.did));
	});

	test('signOut revokes: the refresh token is dead', async () => {
		await session.signOut();
		assert.equal(c.sessions.map.get(alice.did), undefined);
		const hc = await HandClient.open(pds,
		    c.client.clientMetadata.client_id);
		const key = dpopKeyOf(stored.dpopJwk);
		const r = await hc.refresh(stored.tokenSet.refresh_token, key);
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.error, 'invalid_grant');
		// The old access token at /xrpc/: refused with or without a
		// resource server (meaningful once there is one).
		const url = `${pds.url}/xrpc/com.atproto.server.getSession`;
		const x = await fetch(url, { headers: {
		    authorization: `DPoP ${stored.tokenSet.access_token}`,
		    dpop: dpopProof(key, 'GET', url) } });
		assert.equal(x.status, 401);
	});
});

describe('the token endpoint refuses', { skip }, () => {
	let hc;

	before(async () => {
		if (skip)
			return;
		const c = oauthClient(pds, plc);
		hc = await HandClient.open(pds, c.client.clientMetadata.client_id);
	});

	const codeForm = (a) => ({ grant_type: 'authorization_code',
	    code: a.code, code_verifier: a.verifier,
	    redirect_uri: REDIRECT_URI });

	test('bad proofs, and the code survives them', async () => {
		const key = dpopKey();
		const a = await hc.authorize(alice.handle, alice.password);
		const htu = hc.meta.token_endpoint;
		// A nonce first: a refused refresh that spends nothing.
		await hc.token({ grant_type: 'refresh_token',
		    refresh_token: 'ref-none' }, key);
		assert.ok(hc.nonce, 'the server hands out a DPoP nonce');
		const nonce = () => ({ nonce: hc.nonce });
		const cases = [
			['no proof', null, 401, 'invalid_dpop_proof'],
			['another URL', dpopProof(key, 'POST',
			    htu.replace('/oauth/token', '/oauth/par'), nonce()),
			    401, 'invalid_dpop_proof'],
			['another method', dpopProof(key, 'GET', htu, nonce()),
			    401, 'invalid_dpop_proof'],
			['a made-up nonce', dpopProof(key, 'POST', htu,
			    { nonce: 'bm9uY2UtdGhhdC13YXMtbmV2ZXItaXNzdWVk' }),
			    400, 'use_dpop_nonce'],
			['a stale iat', dpopProof(key, 'POST', htu,
			    { ...nonce(), iat: Math.floor(Date.now() / 1000) -
			    3600 }), 401, 'invalid_dpop_proof'],
		];
		for (const [what, proof, status, error] of cases) {
			const r = await hc.tokenRaw(codeForm(a), proof);
			assert.equal(r.status, status,
			    `${what}: ${JSON.stringify(r.body)}`);
			assert.equal(r.body.error, error, what);
		}
		// The same code with a good proof: a session.
		const good = dpopProof(key, 'POST', htu, nonce());
		const ok = await hc.tokenRaw(codeForm(a), good);
		assert.equal(ok.status, 200, JSON.stringify(ok.body));
		assert.equal(ok.body.token_type, 'DPoP');
		assert.equal(ok.body.sub, alice.did);
		// That proof again (same jti), on a refresh: replayed.
		const replay = await hc.tokenRaw({ grant_type: 'refresh_token',
		    refresh_token: ok.body.refresh_token }, good);
		assert.equal(replay.status, 401, JSON.stringify(replay.body));
		assert.equal(replay.body.error, 'invalid_dpop_proof');
		assert.match(replay.body.error_description, /replay/i);
		// ... which did not end the session.
		const r = await hc.refresh(ok.body.refresh_token, key);
		assert.equal(r.status, 200, JSON.stringify(r.body));
	});

	test('a wrong PKCE verifier', async () => {
		const key = dpopKey();
		const a = await hc.authorize(alice.handle, alice.password);
		const r = await hc.token({ ...codeForm(a),
		    code_verifier: a.verifier.slice(0, -4) + 'AAAA' }, key);
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.error, 'invalid_grant');
	});

	test('a code presented twice ends its session', async () => {
		const key = dpopKey();
		const a = await hc.authorize(alice.handle, alice.password);
		const first = await hc.token(codeForm(a), key);
		assert.equal(first.status, 200, JSON.stringify(first.body));
		const again = await hc.token(codeForm(a), key);
		assert.equal(again.status, 400, JSON.stringify(again.body));
		assert.equal(again.body.error, 'invalid_grant');
		const r = await hc.refresh(first.body.refresh_token, key);
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.error, 'invalid_grant');
	});

	test('a rotated refresh token presented again ends the family',
	    async () => {
		const key = dpopKey();
		const t1 = await hc.session(alice.handle, alice.password, key);
		const t2 = await hc.refresh(t1.refresh_token, key);
		assert.equal(t2.status, 200, JSON.stringify(t2.body));
		assert.notEqual(t2.body.refresh_token, t1.refresh_token);
		const replay = await hc.refresh(t1.refresh_token, key);
		assert.equal(replay.status, 400, JSON.stringify(replay.body));
		assert.equal(replay.body.error, 'invalid_grant');
		const r = await hc.refresh(t2.body.refresh_token, key);
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.error, 'invalid_grant');
	});

	test('a refresh signed with another key ends the session',
	    async () => {
		const key = dpopKey();
		const t1 = await hc.session(alice.handle, alice.password, key);
		const other = await hc.refresh(t1.refresh_token, dpopKey());
		assert.equal(other.status, 400, JSON.stringify(other.body));
		assert.equal(other.body.error, 'invalid_grant');
		const r = await hc.refresh(t1.refresh_token, key);
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.error, 'invalid_grant');
	});
});

describe('the official OAuth client, confidential', {
    skip: skip || (isExecutable(PDSCTL) ? false :
    `${PDSCTL} is not built yet`) }, () => {
	const DAY = 24 * 3600 * 1000;
	let c, session;

	after(async () => {
		if (c)
			await c.stop();
	});

	// alice's OAuth grant to this client, as pdsctl shows it.
	async function grant() {
		const r = await runProgram(PDSCTL, ['--socket',
		    path.join(pds.dataDir, 'pdsd.sock'), '--json', 'account',
		    'sessions', alice.handle]);
		assert.equal(r.code, 0, r.stderr);
		const g = JSON.parse(r.stdout.toString()).oauthGrants
		    .filter((x) => x.clientId === c.clientId);
		assert.equal(g.length, 1, r.stdout.toString());
		return g[0];
	}

	test('authorize, sign in, consent, callback', async () => {
		c = await confidentialClient(pds, plc);
		const url = new URL(await c.client.authorize(alice.handle,
		    { scope: SCOPE, state: 'app-state-2' }));
		assert.equal(url.searchParams.get('client_id'), c.clientId);
		const params = await approveInForms(url.href, alice.handle,
		    alice.password);
		const res = await c.client.callback(params,
		    { redirect_uri: c.redirectUri });
		session = res.session;
		assert.equal(res.state, 'app-state-2');
		assert.equal(session.did, alice.did);
		const stored = c.sessions.map.get(alice.did);
		assert.equal(stored.authMethod.method, 'private_key_jwt');
		assert.equal(stored.authMethod.kid, 'k1');
		const code = c.tokenBodies.at(-1);
		assert.equal(code.get('grant_type'), 'authorization_code');
		assert.equal(code.get('client_id'), c.clientId);
		assert.ok(code.get('client_assertion'), 'a client assertion');
	});

	test('XRPC calls through the DPoP session', async () => {
		const agent = new Agent(session);
		const created = await agent.com.atproto.repo.createRecord({
		    repo: alice.did, collection: 'app.bsky.feed.post', record: {
			$type: 'app.bsky.feed.post', text: 'posted confidentially',
			createdAt: new Date().toISOString() } });
		assert.ok(created.data.uri.startsWith(`at://${alice.did}/`));
		const s = await agent.com.atproto.server.getSession();
		assert.equal(s.data.did, alice.did);
	});

	test('the session lives longer than a public one', async () => {
		// 2 weeks for a public client; 3 months without a refresh
		// (and 2 years at most) for a confidential one.
		const g = await grant();
		const left = Date.parse(g.expiresAt) - Date.now();
		assert.ok(left > 80 * DAY, `expires ${g.expiresAt}`);
	});

	test('a forced refresh rotates the tokens', async () => {
		const before = c.sessions.map.get(alice.did).tokenSet;
		const info = await session.getTokenInfo(true);
		assert.equal(info.sub, alice.did);
		const now = c.sessions.map.get(alice.did).tokenSet;
		assert.notEqual(now.refresh_token, before.refresh_token);
		assert.notEqual(now.access_token, before.access_token);
		assert.equal(c.tokenBodies.at(-1).get('grant_type'),
		    'refresh_token');
	});

	test('a replayed client assertion is refused', async () => {
		// The refresh just made, sent again as it was (same assertion,
		// same jti) with a fresh DPoP proof.
		const form = Object.fromEntries(c.tokenBodies.at(-1));
		const hc = await HandClient.open(pds, c.clientId);
		const key = dpopKeyOf(c.sessions.map.get(alice.did).dpopJwk);
		const r = await hc.token(form, key);
		assert.equal(r.status, 400, JSON.stringify(r.body));
		assert.equal(r.body.error, 'invalid_client');
		assert.match(r.body.error_description, /replay/i);
		// ... refused before the grant: the session still refreshes.
		const info = await session.getTokenInfo(true);
		assert.equal(info.sub, alice.did);
	});

	test('signOut revokes: the refresh token is dead', async () => {
		const stored = structuredClone(c.sessions.map.get(alice.did));
		await session.signOut();
		assert.equal(c.sessions.map.get(alice.did), undefined);
		const url = `${pds.url}/xrpc/com.atproto.server.getSession`;
		const key = dpopKeyOf(stored.dpopJwk);
		const x = await fetch(url, { headers: {
		    authorization: `DPoP ${stored.tokenSet.access_token}`,
		    dpop: dpopProof(key, 'GET', url) } });
		assert.equal(x.status, 401);
	});
});
