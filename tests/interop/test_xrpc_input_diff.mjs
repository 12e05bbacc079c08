// XRPC query parameters and JSON input bodies, pdsd against the reference
// PDS (@atproto/pds, bench/node_modules), side by side.  For each method
// below, a valid request is mutated from the method's lexicon (the
// vendored lexicons/ documents): parameters and properties dropped,
// emptied, repeated, of the wrong type, badly formatted, at their limits
// and one past them, null, and extra ones; each request goes to both
// servers, each with its own account, and the status and error name must
// be the same, and the message too where the reference's comes from its
// lexicon check ("Invalid <nsid> params: ...", "... at $.path").  The
// count of requests compared is printed; a disagreement fails.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { PDSD, ROOT, isExecutable, startPdsd, startPlc, startRef }
    from './lib.mjs';

const refInstalled = fs.existsSync(path.join(ROOT, 'bench', 'node_modules',
    '@atproto', 'pds', 'package.json'));
const skip = !isExecutable(PDSD) ? `${PDSD} is not built yet` :
    !refInstalled ? 'the reference PDS is not installed (bench/setup.sh)' :
    false;

const ADMIN_PASSWORD = randomBytes(12).toString('hex');
const CID = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
const POST = { $type: 'app.bsky.feed.post', text: 'hi',
    createdAt: '2026-01-01T00:00:00.000Z' };

// The methods: auth 'user' (the account's access token) or 'none' (a
// case may send 'garbage', a malformed token, instead); params or body
// the valid request ("{did}" and "{handle}" stand for each server's own
// account, "{n}" for a number new to each request).
const METHODS = [
	{ nsid: 'com.atproto.repo.getRecord', auth: 'none', params: {
	    repo: '{did}', collection: 'app.bsky.feed.post', rkey: 'self' } },
	{ nsid: 'com.atproto.repo.listRecords', auth: 'none', params: {
	    repo: '{did}', collection: 'app.bsky.feed.post', limit: '5',
	    reverse: 'true' } },
	{ nsid: 'com.atproto.repo.describeRepo', auth: 'none',
	    params: { repo: '{handle}' } },
	{ nsid: 'com.atproto.sync.getBlob', auth: 'none',
	    params: { did: '{did}', cid: CID } },
	{ nsid: 'com.atproto.sync.listBlobs', auth: 'none',
	    params: { did: '{did}', since: '3kabcdefghijk', limit: '10' } },
	{ nsid: 'com.atproto.sync.getRepo', auth: 'none',
	    params: { did: '{did}' } },
	{ nsid: 'com.atproto.sync.getLatestCommit', auth: 'none',
	    params: { did: '{did}' } },
	{ nsid: 'com.atproto.sync.getRepoStatus', auth: 'none',
	    params: { did: '{did}' } },
	{ nsid: 'com.atproto.sync.getBlocks', auth: 'none',
	    params: { did: '{did}', cids: [CID] } },
	{ nsid: 'com.atproto.sync.getRecord', auth: 'none', params: {
	    did: '{did}', collection: 'app.bsky.feed.post', rkey: 'self' } },
	{ nsid: 'com.atproto.sync.listRepos', auth: 'none',
	    params: { limit: '10' } },
	{ nsid: 'com.atproto.identity.resolveHandle', auth: 'none',
	    params: { handle: '{handle}' } },
	{ nsid: 'com.atproto.server.getServiceAuth', auth: 'user',
	    params: { aud: 'did:web:example.test', exp: '0',
	    lxm: 'com.atproto.repo.getRecord' } },
	{ nsid: 'com.atproto.server.getAccountInviteCodes', auth: 'user',
	    params: { includeUsed: 'true', createAvailable: 'false' } },
	{ nsid: 'com.atproto.repo.listMissingBlobs', auth: 'user',
	    params: { limit: '10' } },
	{ nsid: 'com.atproto.server.createSession', auth: 'none',
	    body: { identifier: '{handle}', password: 'alice-password-1' } },
	{ nsid: 'com.atproto.server.createAccount', auth: 'none',
	    body: { handle: 'c{n}.test', email: 'c{n}@example.com',
	    password: 'carol-password-1' } },
	{ nsid: 'com.atproto.repo.createRecord', auth: 'user', body: {
	    repo: '{did}', collection: 'app.bsky.feed.post', record: POST,
	    validate: true } },
	{ nsid: 'com.atproto.repo.putRecord', auth: 'user', body: {
	    repo: '{did}', collection: 'app.bsky.feed.post', rkey: 'self',
	    record: POST } },
	{ nsid: 'com.atproto.repo.deleteRecord', auth: 'user', body: {
	    repo: '{did}', collection: 'app.bsky.feed.post', rkey: 'gone' } },
	{ nsid: 'com.atproto.repo.applyWrites', auth: 'user', body: {
	    repo: '{did}', writes: [{
	    $type: 'com.atproto.repo.applyWrites#create',
	    collection: 'app.bsky.feed.post', value: POST }] } },
	{ nsid: 'com.atproto.identity.updateHandle', auth: 'user',
	    body: { handle: '{handle}' } },
	{ nsid: 'com.atproto.server.requestPasswordReset', auth: 'none',
	    body: { email: 'nobody@example.com' } },
	{ nsid: 'com.atproto.server.createAppPassword', auth: 'user',
	    body: { name: 'app-1', privileged: false } },
	{ nsid: 'com.atproto.server.revokeAppPassword', auth: 'user',
	    body: { name: 'nonexistent' } },
	{ nsid: 'com.atproto.server.confirmEmail', auth: 'user',
	    body: { email: 'alice@example.com', token: 'AAAAA-BBBBB' } },
	{ nsid: 'com.atproto.server.resetPassword', auth: 'none',
	    body: { token: 'AAAAA-BBBBB', password: 'new-password-1' } },
	{ nsid: 'com.atproto.server.reserveSigningKey', auth: 'none',
	    body: { did: '{did}' } },
	{ nsid: 'app.bsky.actor.putPreferences', auth: 'user', body: {
	    preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref',
	    enabled: true }] } },
	{ nsid: 'app.bsky.actor.getPreferences', auth: 'user', params: {} },
	// the admin's (HTTP Basic); last, as some change the account.
	// (Not searchAccounts: the reference does not serve it to the admin
	// password, it refuses the credential before the parameters.)
	{ nsid: 'com.atproto.admin.getAccountInfo', auth: 'admin',
	    params: { did: '{did}' } },
	{ nsid: 'com.atproto.admin.getAccountInfos', auth: 'admin',
	    params: { dids: ['{did}'] } },
	{ nsid: 'com.atproto.admin.getInviteCodes', auth: 'admin',
	    params: { sort: 'recent', limit: '10' } },
	{ nsid: 'com.atproto.admin.getSubjectStatus', auth: 'admin',
	    params: { did: '{did}' } },
	{ nsid: 'com.atproto.admin.updateSubjectStatus', auth: 'admin', body: {
	    subject: { $type: 'com.atproto.admin.defs#repoRef', did: '{did}' },
	    takedown: { applied: false } } },
	{ nsid: 'com.atproto.admin.disableInviteCodes', auth: 'admin',
	    body: { codes: ['nope'], accounts: [] } },
	{ nsid: 'com.atproto.admin.enableAccountInvites', auth: 'admin',
	    body: { account: '{did}', note: 'x' } },
	{ nsid: 'com.atproto.server.createInviteCode', auth: 'admin',
	    body: { useCount: 1 } },
	{ nsid: 'com.atproto.admin.updateAccountEmail', auth: 'admin',
	    body: { account: '{did}', email: 'alice@example.com' } },
	{ nsid: 'com.atproto.admin.deleteAccount', auth: 'admin',
	    body: { did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' } },
];

function lexiconOf(nsid) {
	const file = path.join(ROOT, 'lexicons', ...nsid.split('.')) + '.json';
	return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// A local ref ("#x") or "nsid#x" to its definition.
function resolve(doc, schema) {
	if (schema?.type !== 'ref')
		return schema;
	const [nsid, name] = schema.ref.startsWith('#') ?
	    [doc.id, schema.ref.slice(1)] : schema.ref.split('#');
	const d = nsid === doc.id ? doc : lexiconOf(nsid);
	return d.defs[name || 'main'];
}

// Values of the wrong kind, or just inside and outside the limits, for
// a scalar schema, as the strings a query carries.
function paramValues(s) {
	switch (s.type) {
	case 'integer': {
		const v = ['abc', '1.5', '-1', '0x10', '007', ' 5',
		    '99999999999999999999', '9007199254740993',
		    '-9007199254740991'];
		if (s.minimum !== undefined)
			v.push(String(s.minimum - 1), String(s.minimum));
		if (s.maximum !== undefined)
			v.push(String(s.maximum), String(s.maximum + 1));
		return v;
	}
	case 'boolean':
		return ['yes', 'TRUE', '1', 'false'];
	case 'string': {
		const v = ['bad value!', 'a', '\u00e9\u00e9'];
		if (s.format)
			v.push('did:plc:', 'x.y', 'at://a/b', '1234567890abc',
			    'bafy', '2026-01-01',
			    // long ones, shown cut in the message
			    'a'.repeat(300) + '!', '\u00e9'.repeat(300) + '!',
			    'a' + '\u{1F600}'.repeat(200) + '!',
			    '\u{1F600}'.repeat(200) + '!');
		if (s.maxLength !== undefined)
			v.push('a'.repeat(s.maxLength),
			    'a'.repeat(s.maxLength + 1));
		return v;
	}
	default:
		return [];
	}
}

function queryCases(m) {
	const doc = lexiconOf(m.nsid);
	const props = doc.defs.main.parameters?.properties ?? {};
	const cases = [{ params: m.params }];
	cases.push({ params: { ...m.params, zzUnknown: 'x' } });
	for (const [name, s] of Object.entries(props)) {
		const rest = { ...m.params };
		delete rest[name];
		cases.push({ params: rest });
		cases.push({ params: { ...rest, [name]: '' } });
		const base = m.params[name] ?? 'x';
		cases.push({ params: { ...rest, [name]: [base, base].flat() } });
		const item = s.type === 'array' ? s.items : s;
		for (const v of paramValues(item))
			cases.push({ params: { ...rest,
			    [name]: s.type === 'array' ? [v] : v } });
		if (s.type === 'array') {
			const many = Array(Math.max(s.maxLength ?? 2, 2) + 1)
			    .fill([base].flat()[0]);
			cases.push({ params: { ...rest, [name]: many } });
		}
	}
	// parameters are checked before the credentials
	if (m.auth !== 'none')
		cases.push({ params: { ...m.params, zzUnknown: 'x' },
		    auth: 'none' });
	for (const [name] of Object.entries(props).slice(0, 1)) {
		for (const auth of ['none', 'garbage'])
			cases.push({ params: { ...m.params,
			    [name]: 'bad value!' }, auth });
		// past 80 other parameters
		const many = Object.fromEntries(Array.from({ length: 80 },
		    (_, i) => [`zz${i}`, 'x']));
		cases.push({ params: { ...many, ...m.params,
		    [name]: 'bad value!' } });
	}
	return cases;
}

function badValues(s) {
	const v = [null, 5, 'x', true, [], {}];
	switch (s?.type) {
	case 'string':
		if (s.format)
			v.push('bad value!', 'did:plc:', 'x.y',
			    'a\n"\u00e9' + '\u{1F600}'.repeat(200));
		if (s.maxLength !== undefined)
			v.push('a'.repeat(s.maxLength),
			    'a'.repeat(s.maxLength + 1));
		if (s.minLength !== undefined && s.minLength > 0)
			v.push('a'.repeat(s.minLength - 1));
		if (s.maxGraphemes !== undefined)
			v.push('\u{1F469}\u200D\u{1F4BB}'.repeat(
			    s.maxGraphemes + 1));
		break;
	case 'integer':
		v.push(1.5, 2 ** 60, 1e21, -(2 ** 53) - 2, 1e-7);
		if (s.minimum !== undefined)
			v.push(s.minimum - 1, s.minimum);
		if (s.maximum !== undefined)
			v.push(s.maximum, s.maximum + 1);
		break;
	case 'array':
		v.push([5], ['x', 'y']);
		if (s.maxLength !== undefined)
			v.push(Array(s.maxLength + 1).fill({}));
		break;
	case 'union':
		v.push({ $type: 'com.example.nope' }, { $type: 5 },
		    { collection: 'x' });
		break;
	}
	return v;
}

function procedureCases(m) {
	const doc = lexiconOf(m.nsid);
	const schema = resolve(doc, doc.defs.main.input?.schema);
	const props = schema?.properties ?? {};
	const cases = [{ body: m.body }, { body: { ...m.body, zzExtra: 1 } },
	    { body: [1] }, { body: {} }];
	for (const [name, s0] of Object.entries(props)) {
		const s = resolve(doc, s0);
		const rest = { ...m.body };
		delete rest[name];
		cases.push({ body: rest });
		for (const v of badValues(s))
			cases.push({ body: { ...rest, [name]: v } });
		if (s.type === 'array' && s.items?.type === 'union') {
			// the members of applyWrites' writes
			for (const v of badValues(s.items))
				cases.push({ body: { ...rest, [name]: [v] } });
			const w = m.body[name]?.[0] ?? {};
			for (const k of Object.keys(w))
				if (k !== '$type') {
					const ww = { ...w };
					delete ww[k];
					cases.push({ body: { ...rest,
					    [name]: [ww] } });
					cases.push({ body: { ...rest,
					    [name]: [{ ...w, [k]: 5 }] } });
				}
		}
	}
	// the input is checked after the credentials
	if (m.auth !== 'none')
		for (const auth of ['none', 'garbage'])
			cases.push({ body: {}, auth });
	return cases;
}

function subst(v, acct, n) {
	if (typeof v === 'string')
		return v.replaceAll('{did}', acct.did)
		    .replaceAll('{handle}', acct.handle)
		    .replaceAll('{n}', String(n));
	if (Array.isArray(v))
		return v.map((x) => subst(x, acct, n));
	if (v && typeof v === 'object')
		return Object.fromEntries(Object.entries(v)
		    .map(([k, x]) => [k, subst(x, acct, n)]));
	return v;
}

async function send(server, acct, m, c, n) {
	const auth = c.auth ?? m.auth;
	const headers = {};
	if (auth === 'user')
		headers.authorization = `Bearer ${acct.accessJwt}`;
	else if (auth === 'garbage')
		headers.authorization = 'Bearer garbage';
	else if (auth === 'admin')
		headers.authorization = 'Basic ' +
		    Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
	let qs = '';
	if (c.params) {
		const sp = new URLSearchParams();
		for (const [k, v] of Object.entries(subst(c.params, acct, n)))
			for (const x of [v].flat())
				sp.append(k, x);
		qs = sp.toString() ? `?${sp}` : '';
	}
	let body;
	if (c.body !== undefined) {
		headers['content-type'] = 'application/json';
		body = JSON.stringify(subst(c.body, acct, n));
	}
	const res = await fetch(`${server}/xrpc/${m.nsid}${qs}`, {
	    method: c.body !== undefined ? 'POST' : 'GET', headers, body });
	const text = await res.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {
		// a CAR, a blob
	}
	let msg = typeof json?.message === 'string' ? json.message : '';
	msg = msg.replaceAll(acct.did, '{did}');
	return { status: res.status, error: res.status === 200 ? null :
	    json?.error ?? null, msg };
}

// The reference's own messages of its params and input checks, which
// pdsd must repeat (not those of its record checks, "Invalid record key
// for ..." and "Invalid <collection> record: ...", whose words pdsd
// takes from @atproto/lexicon, as records are validated on the network).
function lexiconMessage(r) {
	return r.error === 'InvalidRequest' &&
	    (/^Invalid [a-z.A-Z]+ params: /.test(r.msg) ||
	    / at \$[^ ]*$/.test(r.msg)) &&
	    !/^Invalid (record key for |[a-zA-Z.]+ record: )/.test(r.msg);
}

const field = (c, k) => (c.params ?? c.body ?? {})[k];

/*
 * Differences kept on purpose, each with its reason: all are the
 * handlers' answers to well-formed input, none the lexicon checks'.  A
 * row returns true for a (method, case, pdsd answer, reference answer)
 * it excuses.
 */
const ALLOWED = [
	// pdsd names the error as the method's lexicon declares it; the
	// reference's handler throws a plain InvalidRequest, same words.
	(m, c, a, b) => a.status === b.status && a.msg === b.msg &&
	    b.error === 'InvalidRequest' && (lexiconOf(m.nsid).defs.main
	    .errors ?? []).some((e) => e.name === a.error),
	// A well-formed handle no account has: the reference looks it up
	// on the network (502 here) or refuses the write in its auth layer
	// (403 AccountNotFound); pdsd answers from its own accounts.
	(m, c) => field(c, 'repo') === 'x.y',
	// listRepos cursors are opaque and pdsd's are its own.
	(m, c) => m.nsid === 'com.atproto.sync.listRepos' &&
	    field(c, 'cursor') !== undefined,
	// pdsd does not tell strangers which addresses have accounts.
	(m, c, a, b) => m.nsid === 'com.atproto.server.requestPasswordReset' &&
	    a.status === 200 && /does not have an email/.test(b.msg),
	// A second app password of the same name: the reference fails on
	// its unique index (500); pdsd says why.
	(m, c, a, b) => m.nsid === 'com.atproto.server.createAppPassword' &&
	    b.status === 500 && /already exists/.test(a.msg),
	// A new account without a password: the reference makes one
	// nobody can sign in to; pdsd requires one.
	(m, c, a) => m.nsid === 'com.atproto.server.createAccount' &&
	    field(c, 'password') === undefined && a.error === 'InvalidPassword',
	// A malformed Bearer token on a moderator's route: the reference
	// reads it as a service JWT and finds its issuer untrusted (401);
	// pdsd calls it malformed (400).  Both refuse it first.
	(m, c, a, b) => c.auth === 'garbage' && b.error === 'UntrustedIss' &&
	    a.error === 'InvalidToken',
	// Admin actions on what does not exist (an invite code, an
	// account) or an email address that is not one: pdsd tells the
	// operator, the reference says nothing (200) or words it otherwise.
	(m, c, a) => ['com.atproto.admin.disableInviteCodes',
	    'com.atproto.admin.deleteAccount',
	    'com.atproto.admin.updateAccountEmail'].includes(m.nsid) &&
	    ['NotFound', 'AccountNotFound', 'InvalidEmail'].includes(a.error),
	// An invite code while invites are not required: pdsd ignores it,
	// the reference still checks it.
	(m, c, a, b) => m.nsid === 'com.atproto.server.createAccount' &&
	    field(c, 'inviteCode') !== undefined &&
	    b.error === 'InvalidInviteCode',
];

describe('XRPC params and input: pdsd against the reference', { skip },
    () => {
	let plc, ref, pds;
	const acct = {};

	before(async () => {
		plc = await startPlc();
		ref = await startRef(plc, null,
		    { PDS_ADMIN_PASSWORD: ADMIN_PASSWORD });
		pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
		    PDS_ADMIN_PASSWORD: ADMIN_PASSWORD } });
		for (const [name, url] of [['ref', ref.url],
		    ['pds', pds.url]]) {
			const r = await fetch(`${url}/xrpc/` +
			    'com.atproto.server.createAccount', {
			    method: 'POST',
			    headers: { 'content-type': 'application/json' },
			    body: JSON.stringify({ handle: 'alice.test',
			    email: 'alice@example.com',
			    password: 'alice-password-1' }) });
			const j = await r.json();
			assert.equal(r.status, 200, JSON.stringify(j));
			acct[name] = { ...j, handle: 'alice.test' };
		}
	});
	after(async () => {
		await pds?.stop();
		await ref?.stop();
		await plc?.stop();
	});

	test('same status, error name and lexicon message', async () => {
		let compared = 0, messages = 0;
		const bad = [];
		for (const m of METHODS) {
			const cases = m.params ? queryCases(m) :
			    procedureCases(m);
			for (const c of cases) {
				compared++;
				const a = await send(pds.url, acct.pds, m, c,
				    compared);
				const b = await send(ref.url, acct.ref, m, c,
				    compared);
				let same = a.status === b.status &&
				    a.error === b.error;
				if (same && lexiconMessage(b)) {
					messages++;
					same = a.msg === b.msg;
				}
				if (same || ALLOWED.some((f) => f(m, c, a, b)))
					continue;
				bad.push(`${m.nsid} ${JSON.stringify(
				    c.params ?? c.body).slice(0, 160)}` +
				    `${c.auth ? ` auth=${c.auth}` : ''}\n` +
				    `    pdsd ${a.status} ${a.error} ${a.msg}\n` +
				    `    ref  ${b.status} ${b.error} ${b.msg}`);
			}
		}
		console.log(`xrpc input diff: ${compared} requests compared ` +
		    `(${messages} lexicon messages), ${bad.length} ` +
		    'disagreements');
		assert.equal(bad.length, 0, `disagreements:\n${bad.join('\n')}`);
	});
});
