// OAuth include: scopes at PAR, pdsd against the reference PDS
// (@atproto/pds from bench/node_modules): both run with
// PDS_LEXICON_AUTHORITY_DID naming an account of a third server (a
// pdsd) that publishes the lexicons, and the official client
// (@atproto/oauth-client-node) pushes the same authorization requests to
// each.  Their verdicts must be equal: a permission set accepted, an
// NSID with no published lexicon and a lexicon that is not a permission
// set refused with the same invalid_scope description.  Skipped when the
// reference is not installed (bench/setup.sh installs it).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';

import { PDSD, ROOT, isExecutable, startPdsd, startPlc, startRef }
    from './lib.mjs';
import { oauthClient } from './oauth.mjs';

const REF_PKG = path.join(ROOT, 'bench', 'node_modules', '@atproto', 'pds',
    'package.json');
const SQLITE = path.join(ROOT, 'bench', 'node_modules', 'better-sqlite3',
    'build', 'Release', 'better_sqlite3.node');
const skip = !isExecutable(PDSD) ? `${PDSD} is not built yet` :
    !fs.existsSync(REF_PKG) || !fs.existsSync(SQLITE) ?
    'the reference PDS is not installed under bench/ (bench/setup.sh)' :
    false;

const SCOPES = [
	'atproto include:com.example.authFull',
	'atproto include:com.example.authFull?aud=did:web:api.example.com%23svc',
	'atproto include:com.example.nothingHere',
	'atproto include:com.example.aRecord',
];

let plc, authority, ref, pds;

before(async () => {
	if (skip)
		return;
	plc = await startPlc();
	authority = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url } });
	const pub = new AtpAgent({ service: authority.url });
	await pub.createAccount({ handle: 'lexicons.test',
	    email: 'lexicons@example.com', password: 'lexicons-pw-1' });
	const put = (rkey, defs) => pub.com.atproto.repo.putRecord({
		repo: pub.session.did,
		collection: 'com.atproto.lexicon.schema', rkey,
		record: { $type: 'com.atproto.lexicon.schema', lexicon: 1,
		    id: rkey, defs },
	});
	await put('com.example.authFull', { main: { type: 'permission-set',
	    title: 'Example', permissions: [{ type: 'permission',
	    resource: 'repo', collection: ['com.example.post'] }] } });
	await put('com.example.aRecord', { main: { type: 'record',
	    key: 'tid', record: { type: 'object', properties: {} } } });
	const env = { PDS_LEXICON_AUTHORITY_DID: pub.session.did };
	ref = await startRef(plc, null, env);
	pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url, ...env } });
	for (const [srv, handle] of [[ref, 'bob.test'], [pds, 'alice.test']]) {
		const a = new AtpAgent({ service: srv.url });
		await a.createAccount({ handle, email: `${handle}@example.com`,
		    password: 'include-pw-1' });
		srv.handle = handle;
	}
});
after(async () => {
	await pds?.stop();
	await ref?.stop();
	await authority?.stop();
	await plc?.stop();
});

// What PAR says to the official client: "ok" or the error's text.
async function verdict(srv, scope) {
	const c = oauthClient(srv, plc, { scope });
	try {
		await c.client.authorize(srv.handle, { scope });
		return 'ok';
	} catch (e) {
		const p = e.payload ?? {};
		return p.error !== undefined ?
		    `${p.error}: ${p.error_description}` : e.message;
	}
}

describe('include: at PAR, pdsd and the reference', { skip }, () => {
	for (const scope of SCOPES) {
		test(scope, async () => {
			const want = await verdict(ref, scope);
			const got = await verdict(pds, scope);
			assert.equal(got, want);
		});
	}
	test('the reference did refuse what it could not resolve',
	    async () => {
		assert.match(await verdict(ref, SCOPES[2]),
		    /invalid_scope: Could not resolve Lexicon for NSID/);
	});
});
