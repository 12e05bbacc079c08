// The invite codes a member earns (PDS_INVITE_INTERVAL, PDS_INVITE_EPOCH):
// pdsd's invites_due (through $B/tests/invitecalc) against the reference
// PDS's own computation, calculateCodesToCreate in @atproto/pds's
// getAccountInviteCodes, run as shipped (its source read from
// bench/node_modules, or REF_PDS_DIR, and evaluated with a clock we set),
// on thousands of random accounts and code sets: intervals, epochs before
// and after the account, earned and admin-given codes, used, open and
// disabled.  Then both servers side by side, the reference started with
// bench/ref-pds.mjs: the same interval, an account on each, and the codes
// getAccountInviteCodes gives after 2.5 intervals compared.  Skipped when
// the reference is not installed (bench/setup.sh).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { BUILD, ROOT, runProgram, sleep, startPdsd, startPlc, startRef }
    from './lib.mjs';

const REF_DIR = process.env.REF_PDS_DIR ||
    path.join(ROOT, 'bench', 'node_modules', '@atproto', 'pds');
const REF_FILE = path.join(REF_DIR, 'dist', 'api', 'com', 'atproto',
    'server', 'getAccountInviteCodes.js');
const CALC = path.join(BUILD, 'tests', 'invitecalc');
const REF_SERVER = path.join(ROOT, 'bench', 'ref-pds.mjs');
const REF_SQLITE = path.join(ROOT, 'bench', 'node_modules', 'better-sqlite3',
    'build', 'Release', 'better_sqlite3.node');
const skip = fs.existsSync(REF_FILE) ? false :
    'the reference PDS is not installed under bench/ (bench/setup.sh)';
const skipServer = !process.env.REF_PDS_DIR && fs.existsSync(REF_FILE) &&
    fs.existsSync(REF_SERVER) && fs.existsSync(REF_SQLITE) ? false :
    'the reference PDS is not installed under bench/ (bench/setup.sh)';
const INTERVAL = 2000;

// The reference's function, evaluated with Date.now() under our control.
function referenceCalc() {
	const src = fs.readFileSync(REF_FILE, 'utf8');
	const m = /const calculateCodesToCreate = \(opts\) => \{[\s\S]*?\n\};/
	    .exec(src);
	assert.ok(m, `calculateCodesToCreate in ${REF_FILE}`);
	const clock = { now: 0 };
	class RefDate extends Date {
		static now() { return clock.now; }
	}
	// eslint-disable-next-line no-new-func
	const fn = new Function('Date', `${m[0]}\nreturn calculateCodesToCreate;`)(
	    RefDate);
	return (now, opts) => {
		clock.now = now;
		return fn(opts);
	};
}

// A small deterministic generator, so a failure can be replayed.
function rng(seed) {
	let s = seed >>> 0;
	return (n) => {
		s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
		return s % n;
	};
}

function randomCase(r) {
	const DAY = 86400000;
	const base = 1.7e12 + r(1000) * DAY;
	const interval = [1000, 60000, 3600000, 7 * DAY, 1 + r(10 * DAY)][r(5)];
	const created = base + r(400) * DAY + r(DAY);
	const epoch = [0, created - r(100) * DAY, created + r(50) * DAY,
	    created, created + r(5) * interval][r(5)];
	const now = created + [r(3) * interval, r(40) * interval + r(interval),
	    r(400) * DAY, -r(5000)][r(4)];
	const codes = [];
	const n = r(13);
	for (let i = 0; i < n; i++) {
		const available = 1 + r(3);
		const at = [created + r(Math.max(1, now - created)), epoch,
		    epoch + 1, epoch - 1, created - r(DAY)][r(5)];
		codes.push({
			createdBy: r(3) === 0 ? 'admin' : 'did:plc:member',
			createdAt: new Date(Math.max(0, at)).toISOString(),
			disabled: r(5) === 0,
			available,
			uses: new Array(r(available + 2)).fill({}),
		});
	}
	return { now, created, epoch, interval, codes };
}

test('earned invite codes: pdsd and the reference PDS agree', { skip },
    async () => {
	const ref = referenceCalc();
	const r = rng(Number(process.env.SEED || 20261207));
	const cases = [];
	for (let i = 0; i < 5000; i++)
		cases.push(randomCase(r));
	const lines = cases.map((c) => [c.now, c.created, c.epoch, c.interval,
	    c.codes.length, ...c.codes.flatMap((k) => [
		Date.parse(k.createdAt), k.createdBy !== 'admin' ? 1 : 0,
		!k.disabled && k.available > k.uses.length ? 1 : 0])].join(' '));
	const out = await runProgram(CALC, [], { input: lines.join('\n') + '\n' });
	assert.equal(out.code, 0, out.stderr);
	const ours = out.stdout.toString().trim().split('\n').map(Number);
	assert.equal(ours.length, cases.length);
	let positive = 0;
	cases.forEach((c, i) => {
		const want = ref(c.now, { did: 'did:plc:member',
		    userCreatedAt: c.created, codes: c.codes, epoch: c.epoch,
		    interval: c.interval }).toCreate;
		// the reference makes max(0, toCreate) codes
		assert.equal(Math.max(0, ours[i]), Math.max(0, want),
		    `case ${i}: ${JSON.stringify(c)}: pdsd ${ours[i]}, ` +
		    `reference ${want}`);
		if (want > 0)
			positive++;
	});
	// the cases must exercise both outcomes
	assert.ok(positive > 500 && positive < cases.length - 500,
	    `${positive} of ${cases.length} cases made codes`);
});

async function xrpc(url, method, { body, token, basic, query = '' } = {}) {
	const headers = {};
	if (body)
		headers['content-type'] = 'application/json';
	if (token)
		headers.authorization = `Bearer ${token}`;
	if (basic)
		headers.authorization = 'Basic ' +
		    Buffer.from(`admin:${basic}`).toString('base64');
	const r = await fetch(`${url}/xrpc/${method}${query}`, {
		method: body ? 'POST' : 'GET', headers,
		body: body ? JSON.stringify(body) : undefined });
	const j = await r.json().catch(() => ({}));
	assert.equal(r.status, 200, `${url} ${method}: ${JSON.stringify(j)}`);
	return j;
}

// An account on a server with invites required: { did, token, born,
// made }, the times before and after its createAccount.
async function member(url, adminPassword, handle) {
	const { code } = await xrpc(url, 'com.atproto.server.createInviteCode',
	    { body: { useCount: 1 }, basic: adminPassword });
	const born = Date.now();
	const a = await xrpc(url, 'com.atproto.server.createAccount', { body: {
		handle, email: `${handle}@example.com`,
		password: 'earn codes please', inviteCode: code } });
	return { did: a.did, token: a.accessJwt, born, made: Date.now() };
}

// The codes' shape, without the codes themselves and their times.
function shape(codes, did) {
	return codes.map((c) => ({ available: c.available,
	    disabled: c.disabled, mine: c.forAccount === did &&
	    c.createdBy === did, uses: c.uses.length }));
}

test('earned invite codes: the reference PDS and pdsd side by side',
    { skip: skipServer, timeout: 120000 }, async () => {
	const plc = await startPlc();
	const adminPassword = randomBytes(16).toString('hex');
	const servers = [];
	try {
		// the reference with invites required and INTERVAL
		servers.push(await startRef(plc, null, {
			PDS_ADMIN_PASSWORD: adminPassword,
			PDS_INVITE_REQUIRED: 'true',
			PDS_INVITE_INTERVAL: String(INTERVAL) }));
		servers.push(await startPdsd({ env: {
			PDS_DID_PLC_URL: plc.url,
			PDS_ADMIN_PASSWORD: adminPassword,
			PDS_INVITE_REQUIRED: 'true',
			PDS_INVITE_INTERVAL: String(INTERVAL) } }));
		const seen = [];
		for (const [i, s] of servers.entries()) {
			const m = await member(s.url, adminPassword,
			    `earner${i}.test`);
			const first = await xrpc(s.url,
			    'com.atproto.server.getAccountInviteCodes',
			    { token: m.token });
			if (Date.now() - m.born < INTERVAL - 300)
				assert.equal(first.codes.length, 0, s.url);
			// Two intervals after the server's creation time, which
			// is between born and made: on a busy machine the
			// reference's createAccount alone has taken over a second.
			while (Date.now() < Math.max(m.born + INTERVAL * 5 / 2,
			    m.made + INTERVAL * 2 + 100))
				await sleep(50);
			const none = await xrpc(s.url,
			    'com.atproto.server.getAccountInviteCodes',
			    { token: m.token, query: '?createAvailable=false' });
			const got = await xrpc(s.url,
			    'com.atproto.server.getAccountInviteCodes',
			    { token: m.token });
			const again = await xrpc(s.url,
			    'com.atproto.server.getAccountInviteCodes',
			    { token: m.token });
			// one earned code used by a second account
			const b = await xrpc(s.url,
			    'com.atproto.server.createAccount', { body: {
				handle: `used${i}.test`,
				email: `used${i}@example.com`,
				password: 'earn codes please',
				inviteCode: got.codes[0].code } });
			assert.ok(b.did);
			const unused = await xrpc(s.url,
			    'com.atproto.server.getAccountInviteCodes',
			    { token: m.token, query: '?includeUsed=false' });
			const all = await xrpc(s.url,
			    'com.atproto.server.getAccountInviteCodes',
			    { token: m.token, query: '?createAvailable=false' });
			seen.push({ none: none.codes.length,
			    got: shape(got.codes, m.did),
			    again: again.codes.length,
			    unused: unused.codes.length,
			    all: shape(all.codes, m.did)
				.sort((x, y) => x.uses - y.uses) });
		}
		assert.equal(seen[0].got.length, 2,
		    `the reference: ${JSON.stringify(seen[0])}`);
		assert.deepEqual(seen[1], seen[0], 'pdsd as the reference');
	} finally {
		for (const s of servers)
			await s.stop();
		await plc.stop();
	}
});
