// OAuth include: scopes (permission sets) with the official client,
// @atproto/oauth-client-node, as a loopback client.  A second pdsd is the
// lexicon authority: its account publishes permission sets as
// com.atproto.lexicon.schema records, and the pdsd under test runs with
// PDS_LEXICON_AUTHORITY_DID naming that account, so it resolves every
// NSID there (through the PLC directory and the other pdsd's
// com.atproto.sync.getRecord proof).
//
// Checked: the token scope is the set's permissions expanded as the
// reference does (the worked example of the specification notes: only
// repo and rpc entries under the set's NSID group, an inherited aud, no
// fixed aud, nothing with an unknown field), then the other scopes; the
// token grants them at the resource server and nothing else; a refresh
// recomputes them after the set changed; an NSID that does not resolve,
// or is not a permission set, is refused at PAR with invalid_scope and
// the reference's message, and so are more than 16 sets in one request
// (pdsd's own bound: each may cost three outbound calls).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Agent, AtpAgent } from '@atproto/api';

import { PDSD, isExecutable, sleep, startPdsd, startPlc } from './lib.mjs';
import { FormBrowser, REDIRECT_URI, oauthClient } from './oauth.mjs';

const skip = isExecutable(PDSD) ? false : `${PDSD} is not built yet`;

const SET = 'com.example.authFull';
const AUD = 'did:web:api.example.com#svc';
const INCLUDE = `include:${SET}?aud=did:web:api.example.com%23svc`;
const MISSING = 'include:com.example.nothingHere';
const NOT_A_SET = 'include:com.example.aRecord';
const SCOPE = `atproto ${INCLUDE}`;

const permissionSet = (withLike) => ({
	$type: 'com.atproto.lexicon.schema',
	lexicon: 1,
	id: SET,
	defs: {
		main: {
			type: 'permission-set',
			title: 'Full access to the example app',
			detail: 'Posts, likes and feeds',
			permissions: [
				{ type: 'permission', resource: 'repo',
				    collection: ['com.example.post'] },
				...(withLike ? [{ type: 'permission',
				    resource: 'repo',
				    collection: ['com.example.like'],
				    action: ['delete'] }] : []),
				{ type: 'permission', resource: 'rpc',
				    lxm: ['com.example.getFeed'],
				    inheritAud: true },
				{ type: 'permission', resource: 'rpc',
				    lxm: ['com.example.getSkeleton'], aud: '*' },
				{ type: 'permission', resource: 'rpc',
				    lxm: ['com.example.fixed'],
				    aud: 'did:web:other.example.com#x' },
				{ type: 'permission', resource: 'repo',
				    collection: ['org.other.thing'] },
				{ type: 'permission', resource: 'repo',
				    collection: ['com.example.sub.thing'] },
				{ type: 'permission', resource: 'blob',
				    accept: ['*/*'] },
				{ type: 'permission', resource: 'repo',
				    collection: ['com.example.odd'],
				    color: 'blue' },
			],
		},
	},
});

const EXPANDED = 'repo:com.example.post ' +
    'repo:com.example.like?action=delete ' +
    'rpc:com.example.getFeed?aud=did:web:api.example.com%23svc ' +
    'rpc:com.example.getSkeleton?aud=* repo:com.example.sub.thing atproto';
const EXPANDED_NO_LIKE = EXPANDED.replace(
    'repo:com.example.like?action=delete ', '');

let plc, authority, pds, alice, publisher;

async function publish(rkey, record) {
	await publisher.com.atproto.repo.putRecord({
		repo: publisher.session.did,
		collection: 'com.atproto.lexicon.schema', rkey, record });
}

before(async () => {
	if (skip)
		return;
	plc = await startPlc();
	authority = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url } });
	publisher = new AtpAgent({ service: authority.url });
	await publisher.createAccount({ handle: 'lexicons.test',
	    email: 'lexicons@example.com', password: 'lexicons-pw-1' });
	await publish(SET, permissionSet(true));
	await publish('com.example.aRecord', {
		$type: 'com.atproto.lexicon.schema', lexicon: 1,
		id: 'com.example.aRecord',
		defs: { main: { type: 'record', key: 'tid', record: {
		    type: 'object', properties: {} } } },
	});
	pds = await startPdsd({ env: {
		PDS_DID_PLC_URL: plc.url,
		PDS_LEXICON_AUTHORITY_DID: publisher.session.did,
		PDS_LEXICON_STALE_TTL: '1000',
		PDS_LEXICON_FAILURE_TTL: '1000',
	} });
	const agent = new AtpAgent({ service: pds.url });
	alice = { handle: 'alice.test', password: 'alice-pw-123' };
	await agent.createAccount({ handle: alice.handle,
	    email: 'alice@example.com', password: alice.password });
	alice.did = agent.session.did;
});
after(async () => {
	if (pds)
		await pds.stop();
	if (authority)
		await authority.stop();
	if (plc)
		await plc.stop();
});

// Sign in and allow, as approveInForms does, checking on the way that
// the consent page names the permission set and what it grants.
async function approveShowingSet(authorizeUrl) {
	const br = new FormBrowser();
	const page = await br.get(authorizeUrl);
	assert.equal(page.status, 200, page.body);
	const signin = await br.post(authorizeUrl, page.body,
	    '/oauth/authorize/sign-in', { identifier: alice.handle,
	    password: alice.password });
	assert.equal(signin.status, 200, signin.body);
	assert.match(signin.body,
	    /Full access to the example app \(com\.example\.authFull\)/);
	assert.match(signin.body, /Posts, likes and feeds/);
	assert.match(signin.body, /com\.example\.post/);
	assert.doesNotMatch(signin.body, /org\.other\.thing/);
	const consent = await br.post(authorizeUrl, signin.body,
	    '/oauth/authorize/consent', { decision: 'allow' });
	assert.equal(consent.status, 303, consent.body);
	return new URL(consent.headers.location).searchParams;
}

async function refusal(promise) {
	try {
		await promise;
	} catch (e) {
		return e;
	}
	assert.fail('expected a refusal');
}

describe('include: permission sets', { skip }, () => {
	let c, session;

	test('granted and expanded into the token scope', async () => {
		c = oauthClient(pds, plc, { scope: SCOPE });
		const url = await c.client.authorize(alice.handle,
		    { scope: SCOPE });
		const params = await approveShowingSet(String(url));
		const res = await c.client.callback(params,
		    { redirect_uri: REDIRECT_URI });
		session = res.session;
		const info = await session.getTokenInfo(false);
		assert.equal(info.scope, EXPANDED);
	});

	test('the expanded permissions hold at the resource server',
	    async () => {
		const agent = new Agent(session);
		const r = await agent.com.atproto.repo.createRecord({
			repo: alice.did, collection: 'com.example.post',
			record: { $type: 'com.example.post', text: 'hi' },
		});
		assert.match(r.data.uri, /com\.example\.post/);
		const e = await refusal(agent.com.atproto.repo.createRecord({
			repo: alice.did, collection: 'com.example.like',
			record: { $type: 'com.example.like' },
		}));
		assert.equal(e.status, 403);
		assert.match(e.message,
		    /Missing required scope "repo:com\.example\.like\?action=create"/);
		const e2 = await refusal(agent.com.atproto.repo.createRecord({
			repo: alice.did, collection: 'org.other.thing',
			record: { $type: 'org.other.thing' },
		}));
		assert.equal(e2.status, 403);
	});

	test('a refresh recomputes the scope from the set', async () => {
		await publish(SET, permissionSet(false));
		await sleep(1100);	/* past PDS_LEXICON_STALE_TTL */
		const info = await session.getTokenInfo(true);
		assert.equal(info.scope, EXPANDED_NO_LIKE);
	});

	test('an NSID that does not resolve: invalid_scope', async () => {
		const scope = `atproto ${MISSING}`;
		const cm = oauthClient(pds, plc, { scope });
		const e = await refusal(cm.client.authorize(alice.handle,
		    { scope }));
		const text = `${e.message} ${JSON.stringify(e.payload ?? {})}`;
		assert.match(text, /invalid_scope/);
		assert.match(text, /Could not resolve Lexicon for NSID \(com\.example\.nothingHere\)/);
	});

	test('more than 16 permission sets in one request: invalid_scope',
	    async () => {
		const many = Array.from({ length: 17 },
		    (_, i) => `include:com.example.set${i}`);
		const scope = `atproto ${many.join(' ')}`;
		const cm = oauthClient(pds, plc, { scope });
		const e = await refusal(cm.client.authorize(alice.handle,
		    { scope }));
		const text = `${e.message} ${JSON.stringify(e.payload ?? {})}`;
		assert.match(text, /invalid_scope/);
		assert.match(text, /Too many permission sets/);
	});

	test('a lexicon that is not a permission set: invalid_scope',
	    async () => {
		const scope = `atproto ${NOT_A_SET}`;
		const cm = oauthClient(pds, plc, { scope });
		const e = await refusal(cm.client.authorize(alice.handle,
		    { scope }));
		const text = `${e.message} ${JSON.stringify(e.payload ?? {})}`;
		assert.match(text, /invalid_scope/);
		assert.match(text, /Lexicon document is not a permission set \(com\.example\.aRecord\)/);
	});
});
