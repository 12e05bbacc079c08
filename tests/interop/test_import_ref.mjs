// pdsctl import-reference: a real reference PDS (@atproto/pds from
// bench/node_modules, started with bench/ref-pds.mjs) and a real PLC
// directory make a data directory with several accounts, posts, likes,
// follows, reposts, images, an app password, preferences, an invite code,
// a deactivated and a taken-down account.  What the reference serves is
// recorded (every repo as a CAR, every blob, every record, the
// preferences, the firehose from cursor 0), the reference is stopped,
// the directory converted, and pdsd started on the result with the same
// PLC directory and rotation key.  Members log in with their old
// passwords and app password; every repo block, record and blob must be
// byte for byte what the reference served; the firehose replays the
// reference's events with their seqs and continues after them with a
// new post.  Also: a non-empty target, a damaged blob and a newer
// schema are refused without leaving anything behind, and the source is
// never modified.  Skipped when the reference is not installed
// (bench/setup.sh installs it).

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';
import { decodeAll } from '@atproto/lex-cbor';
import { readCarWithRoot } from '@atproto/repo';
import WebSocket from 'ws';

import { allRecords, BUILD, randomK256Hex, ROOT, runProgram, sleep,
    startPdsd, startPlc, startRef, tmpDir } from './lib.mjs';

const REF = path.join(ROOT, 'bench', 'ref-pds.mjs');
const REF_PKG = path.join(ROOT, 'bench', 'node_modules', '@atproto', 'pds',
    'package.json');
const SQLITE = path.join(ROOT, 'bench', 'node_modules', 'better-sqlite3',
    'build', 'Release', 'better_sqlite3.node');
const skip = fs.existsSync(REF) && fs.existsSync(REF_PKG) &&
    fs.existsSync(SQLITE) ? false :
    'the reference PDS is not installed under bench/ (bench/setup.sh)';
const PDSCTL = path.join(BUILD, 'bin', 'pdsctl');

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADU' +
    'lEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const imageBytes = (tag) => Buffer.concat([PNG, Buffer.from(tag)]);
const ADMIN = randomBytes(16).toString('hex');
const adminAuth = { authorization: 'Basic ' +
    Buffer.from(`admin:${ADMIN}`).toString('base64') };

async function xrpcGet(base, method, params, headers = {}) {
	const q = new URLSearchParams(params).toString();
	const r = await fetch(`${base}/xrpc/${method}?${q}`, { headers });
	const body = Buffer.from(await r.arrayBuffer());
	if (r.status !== 200)
		throw new Error(`${method} ${q}: ${r.status} ${body}`);
	return body;
}

// Everything a server serves about one account, read as the admin.
async function snapshot(base, did) {
	const car = await xrpcGet(base, 'com.atproto.sync.getRepo', { did },
	    adminAuth);
	const { root, blocks } = await readCarWithRoot(new Uint8Array(car));
	const blockMap = new Map();
	for (const { cid, bytes } of blocks.entries())
		blockMap.set(cid.toString(), Buffer.from(bytes));
	const latest = JSON.parse(await xrpcGet(base,
	    'com.atproto.sync.getLatestCommit', { did }, adminAuth));
	const cids = [];
	let cursor;
	do {
		const p = { did, limit: '100' };
		if (cursor)
			p.cursor = cursor;
		const l = JSON.parse(await xrpcGet(base,
		    'com.atproto.sync.listBlobs', p, adminAuth));
		cids.push(...l.cids);
		cursor = l.cursor;
	} while (cursor);
	// A taken-down blob is refused, even to the admin: null.
	const blobs = new Map();
	for (const cid of cids.sort())
		blobs.set(cid, await xrpcGet(base, 'com.atproto.sync.getBlob',
		    { did, cid }, adminAuth).catch(() => null));
	return { root: root.toString(), blocks: blockMap, latest, blobs };
}

// The firehose from cursor until quiet for quietMs: [{ seq, t, body }].
function firehose(base, cursor) {
	const ws = new WebSocket(base.replace(/^http/, 'ws') +
	    `/xrpc/com.atproto.sync.subscribeRepos?cursor=${cursor}`);
	const frames = [];
	ws.on('message', (d) => {
		const [h, b] = [...decodeAll(new Uint8Array(d))];
		frames.push({ seq: b.seq, t: h.t, body: b });
	});
	const open = new Promise((r, j) => {
		ws.once('open', r);
		ws.once('error', j);
	});
	return { ws, frames, open };
}

async function quiet(frames, ms = 1500, max = 20000) {
	const end = Date.now() + max;
	let n = -1;
	while (Date.now() < end) {
		if (frames.length === n && n > 0)
			return;
		n = frames.length;
		await sleep(ms);
	}
}

function openSqlite(file, opts = { readonly: true }) {
	const require = createRequire(path.join(ROOT, 'bench', 'package.json'));
	const Database = require('better-sqlite3');
	return new Database(file, opts);
}

function sha(file) {
	return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

const PASS = {
	alice: 'alice has a long password',
	bob: 'b0b-pässwörd',
	carol: 'carol password 3',
	dave: 'dave is leaving',
	erin: 'erin was taken down',
};

let plc, ref, pds, work, refData, rotKey;
const accounts = {};		// name -> { did, handle }
const before_ = {};		// name -> snapshot on the reference
let appPassword, inviteCode, prefs, refFrames, takenDownBlob, refRepos;
const refRecords = {};
const plcDocs = {};		// name -> DID document before the move

async function populate() {
	const agents = {};
	for (const name of Object.keys(PASS)) {
		const a = new AtpAgent({ service: ref.url });
		const handle = `${name}${process.pid % 10000}.test`;
		await a.createAccount({ handle, email: `${name}@example.com`,
		    password: PASS[name] });
		agents[name] = a;
		accounts[name] = { did: a.session.did, handle };
	}
	const { alice, bob, carol, dave, erin } = agents;
	const av = await alice.uploadBlob(imageBytes('avatar'),
	    { encoding: 'image/png' });
	await alice.com.atproto.repo.putRecord({ repo: alice.session.did,
	    collection: 'app.bsky.actor.profile', rkey: 'self',
	    record: { $type: 'app.bsky.actor.profile', displayName: 'Alice',
	    avatar: av.data.blob } });
	const posts = [];
	for (let i = 0; i < 3; i++)
		posts.push(await alice.post({ text: `alice post ${i}` }));
	for (const [who, n] of [[alice, 2], [bob, 1]]) {
		const imgs = [];
		for (let i = 0; i < n; i++) {
			const b = await who.uploadBlob(imageBytes(
			    `${who.session.did} ${i}`), { encoding: 'image/png' });
			imgs.push({ alt: `image ${i}`, image: b.data.blob });
		}
		await who.post({ text: 'pictures', embed: {
		    $type: 'app.bsky.embed.images', images: imgs } });
	}
	const bp = await bob.post({ text: 'bob says hi' });
	await carol.post({ text: 'carol here' });
	// An image the moderators took down (the reference quarantines it).
	const hidden = imageBytes('taken down');
	const hb = await carol.uploadBlob(hidden, { encoding: 'image/png' });
	await carol.post({ text: 'hidden', embed: {
	    $type: 'app.bsky.embed.images', images: [{ alt: 'h',
	    image: hb.data.blob }] } });
	takenDownBlob = { cid: hb.data.blob.ref.toString(), bytes: hidden };
	await alice.like(bp.uri, bp.cid);
	await bob.like(posts[0].uri, posts[0].cid);
	await carol.like(posts[1].uri, posts[1].cid);
	await carol.repost(posts[2].uri, posts[2].cid);
	await alice.follow(bob.session.did);
	await alice.follow(carol.session.did);
	await bob.follow(alice.session.did);
	await carol.follow(alice.session.did);
	await dave.post({ text: 'dave, before leaving' });
	await erin.post({ text: 'erin, before the takedown' });
	const del = await bob.post({ text: 'deleted later' });
	await bob.deletePost(del.uri);
	// An app password, preferences, an invite code.
	const ap = await alice.com.atproto.server.createAppPassword({
	    name: 'my client' });
	appPassword = ap.data.password;
	prefs = [
		{ $type: 'app.bsky.actor.defs#adultContentPref',
		    enabled: false },
		{ $type: 'app.bsky.actor.defs#savedFeedsPrefV2', items: [{
		    id: '3l6ov4ojmls2a', type: 'timeline', value: 'following',
		    pinned: true }] },
	];
	await alice.app.bsky.actor.putPreferences({ preferences: prefs });
	const anon = new AtpAgent({ service: ref.url });
	const inv = await anon.com.atproto.server.createInviteCode(
	    { useCount: 3 }, { headers: adminAuth, encoding: 'application/json' });
	inviteCode = inv.data.code;
	// A deactivated account and a taken-down one.
	await dave.com.atproto.server.deactivateAccount({});
	await anon.com.atproto.admin.updateSubjectStatus({
	    subject: { $type: 'com.atproto.admin.defs#repoBlobRef',
	    did: carol.session.did, cid: takenDownBlob.cid },
	    takedown: { applied: true, ref: 'TAKEDOWN-BLOB' } },
	    { headers: adminAuth, encoding: 'application/json' });
	await anon.com.atproto.admin.updateSubjectStatus({
	    subject: { $type: 'com.atproto.admin.defs#repoRef',
	    did: erin.session.did }, takedown: { applied: true,
	    ref: 'TAKEDOWN-1' } }, { headers: adminAuth,
	    encoding: 'application/json' });
	for (const name of ['alice', 'bob', 'carol'])
		refRecords[name] = await allRecords(agents[name],
		    accounts[name].did);
	const got = await alice.app.bsky.actor.getPreferences();
	assert.deepEqual(got.data.preferences, prefs);
}

before(async () => {
	if (skip)
		return;
	work = tmpDir('pds-importref-');
	refData = path.join(work, 'ref', 'data');
	fs.mkdirSync(refData, { recursive: true, mode: 0o700 });
	rotKey = await randomK256Hex();
	plc = await startPlc();
	// on its own data directory, which outlives it
	ref = await startRef(plc, null, { PDS_ADMIN_PASSWORD: ADMIN,
	    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: rotKey },
	    { dataDir: refData });
	await populate();
	for (const name of Object.keys(PASS))
		before_[name] = await snapshot(ref.url, accounts[name].did);
	refRepos = JSON.parse(await xrpcGet(ref.url,
	    'com.atproto.sync.listRepos', { limit: '100' })).repos;
	for (const name of Object.keys(PASS))
		plcDocs[name] = await (await fetch(
		    `${plc.url}/${accounts[name].did}`)).json();
	const fh = firehose(ref.url, 0);
	await fh.open;
	await quiet(fh.frames);
	fh.ws.close();
	refFrames = fh.frames;
	await ref.stop();
});

after(async () => {
	await pds?.stop();
	await ref?.stop();
	await plc?.stop();
	if (work && !process.env.PDS_INTEROP_KEEP)
		fs.rmSync(work, { recursive: true, force: true });
});

function convert(src, dest, extra = []) {
	return runProgram(PDSCTL, ['--json', 'import-reference', ...extra, src,
	    dest], { timeoutMs: 120000 });
}

// What a directory holds besides the given names.
function leftovers(dir, base) {
	return fs.readdirSync(dir).filter((f) => f.startsWith(base));
}

describe('pdsctl import-reference', { skip }, () => {
	let dest, summary;

	test('refuses a target that is not empty', async () => {
		const t = path.join(work, 'full');
		fs.mkdirSync(t);
		fs.writeFileSync(path.join(t, 'keep'), 'x');
		const r = await convert(refData, t);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stderr, /not empty/);
		assert.deepEqual(fs.readdirSync(t), ['keep']);
		assert.deepEqual(leftovers(work, 'full.'), []);
	});

	test('refuses a damaged blob, leaving nothing', async () => {
		const copy = path.join(work, 'damaged');
		fs.cpSync(refData, copy, { recursive: true });
		const did = accounts.bob.did;
		const cid = [...before_.bob.blobs.keys()][0];
		fs.appendFileSync(path.join(copy, 'blocks', did, cid), 'x');
		const t = path.join(work, 'out-damaged');
		const r = await convert(copy, t);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stderr, /do not match its CID/);
		assert.equal(fs.existsSync(t), false);
		assert.deepEqual(leftovers(work, 'out-damaged'), []);
	});

	test('refuses a newer schema and a directory that is not one',
	    async () => {
		const copy = path.join(work, 'newer');
		fs.cpSync(refData, copy, { recursive: true });
		const db = openSqlite(path.join(copy, 'account.sqlite'), {});
		db.prepare('INSERT INTO kysely_migration (name, timestamp) ' +
		    "VALUES ('999', 'now')").run();
		db.close();
		const t = path.join(work, 'out-newer');
		let r = await convert(copy, t);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stderr, /schema version 999 is newer/);
		assert.equal(fs.existsSync(t), false);
		r = await convert(path.join(work), t);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stderr, /not a reference PDS data directory/);
		// A database file that is not one.
		fs.writeFileSync(path.join(copy, 'account.sqlite'),
		    randomBytes(8192));
		r = await convert(copy, t);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stderr, /account\.sqlite: (cannot open|not a reference PDS database)/);
		assert.equal(fs.existsSync(t), false);
		assert.deepEqual(leftovers(work, 'out-newer'), []);
	});

	test('converts the directory, reading it only', async () => {
		const sums = ['account.sqlite', 'sequencer.sqlite'].map((f) =>
		    sha(path.join(refData, f)));
		dest = path.join(work, 'pdsd-data');
		const t0 = Date.now();
		// "dir/" names dir: the partial directory goes beside it
		const r = await convert(refData, `${dest}/`);
		assert.equal(r.code, 0, r.stderr);
		summary = JSON.parse(r.stdout.toString());
		console.log(`# converted in ${Date.now() - t0} ms: ` +
		    r.stdout.toString().trim());
		assert.equal(summary.accounts, 5);
		assert.equal(summary.app_passwords, 1);
		assert.equal(summary.invite_codes, 1);
		assert.equal(summary.preferences, 2);
		assert.equal(summary.blobs, 5);
		assert.equal(summary.warnings, 0);
		assert.equal(summary.data_directory, dest);
		assert.equal(summary.last_seq, refFrames.at(-1).seq);
		assert.match(r.stderr, /account 5: /);
		assert.doesNotMatch(r.stderr, / info: /);
		assert.deepEqual(['account.sqlite', 'sequencer.sqlite'].map((f) =>
		    sha(path.join(refData, f))), sums);
		assert.deepEqual(leftovers(work, 'pdsd-data.'), []);
		pds = await startPdsd({ env: { PDS_DATA_DIRECTORY: dest,
		    PDS_DID_PLC_URL: plc.url, PDS_ADMIN_PASSWORD: ADMIN,
		    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: rotKey } });
	});

	test('members log in with their passwords and app password',
	    async () => {
		for (const name of ['alice', 'bob', 'carol', 'dave']) {
			for (let i = 0; i < 2; i++) {
				// twice: the second login checks pdsd's rehash
				const a = new AtpAgent({ service: pds.url });
				const s = await a.login({
				    identifier: accounts[name].handle,
				    password: PASS[name] });
				assert.equal(s.data.did, accounts[name].did);
				assert.equal(s.data.active, name !== 'dave');
				if (name === 'dave')
					assert.equal(s.data.status, 'deactivated');
			}
		}
		const bad = new AtpAgent({ service: pds.url });
		await assert.rejects(bad.login({
		    identifier: accounts.alice.handle, password: PASS.bob }),
		    (e) => e.status === 401);
		await assert.rejects(bad.login({
		    identifier: accounts.erin.handle, password: PASS.erin }),
		    (e) => e.error === 'AccountTakedown');
		for (let i = 0; i < 2; i++) {
			const a = new AtpAgent({ service: pds.url });
			await a.login({ identifier: 'alice@example.com',
			    password: appPassword });
			const l = await a.com.atproto.server.listAppPasswords();
			assert.deepEqual(l.data.passwords.map((p) => p.name),
			    ['my client']);
			await assert.rejects(a.com.atproto.server
			    .createAppPassword({ name: 'no' }));
		}
		// The first logins replaced the reference's scrypt hashes
		// with pdsd's own.
		const db = openSqlite(path.join(dest, 'pds.sqlite'));
		const hash = (name) => db.prepare('SELECT password_hash FROM ' +
		    'accounts WHERE did = ?').get(accounts[name].did)
		    .password_hash;
		assert.match(hash('alice'), /^\$argon2id\$/);
		assert.match(hash('dave'), /^\$argon2id\$/);
		assert.match(db.prepare('SELECT password_hash FROM ' +
		    'app_passwords').get().password_hash, /^b2:/);
		db.close();
	});

	test('every repo, record and blob is what the reference served',
	    async () => {
		for (const name of Object.keys(PASS)) {
			const did = accounts[name].did;
			const was = before_[name];
			const now = await snapshot(pds.url, did);
			assert.equal(now.root, was.root, name);
			assert.deepEqual(now.latest, was.latest, name);
			assert.equal(now.blocks.size, was.blocks.size, name);
			for (const [cid, bytes] of was.blocks)
				assert.ok(bytes.equals(now.blocks.get(cid) ??
				    Buffer.alloc(0)), `${name} block ${cid}`);
			assert.deepEqual([...now.blobs.keys()],
			    [...was.blobs.keys()], name);
			for (const [cid, bytes] of was.blobs)
				assert.ok(bytes === null ?
				    now.blobs.get(cid) === null :
				    bytes.equals(now.blobs.get(cid)),
				    `${name} blob ${cid}`);
		}
		// The quarantined blob came over, still refused.
		assert.equal(before_.carol.blobs.get(takenDownBlob.cid), null);
		assert.ok(fs.readFileSync(path.join(dest, 'blocks',
		    accounts.carol.did, takenDownBlob.cid))
		    .equals(takenDownBlob.bytes));
		const anon = new AtpAgent({ service: pds.url });
		for (const name of ['alice', 'bob', 'carol'])
			assert.deepEqual(await allRecords(anon,
			    accounts[name].did), refRecords[name], name);
		// Every account, head, rev and state, as listRepos shows them.
		const repos = JSON.parse(await xrpcGet(pds.url,
		    'com.atproto.sync.listRepos', { limit: '100' })).repos;
		const byDid = (l) => [...l].sort((x, y) =>
		    x.did < y.did ? -1 : 1);
		assert.deepEqual(byDid(repos), byDid(refRepos));
		assert.equal(repos.length, 5);
		const st = await anon.com.atproto.sync.getRepoStatus({
		    did: accounts.erin.did });
		assert.equal(st.data.status, 'takendown');
		const st2 = await anon.com.atproto.sync.getRepoStatus({
		    did: accounts.dave.did });
		assert.equal(st2.data.status, 'deactivated');
		const h = await anon.com.atproto.identity.resolveHandle({
		    handle: accounts.bob.handle });
		assert.equal(h.data.did, accounts.bob.did);
	});

	test('preferences and the invite code came over', async () => {
		const a = new AtpAgent({ service: pds.url });
		await a.login({ identifier: accounts.alice.did,
		    password: PASS.alice });
		const p = await a.app.bsky.actor.getPreferences();
		assert.deepEqual(p.data.preferences, prefs);
		const inv = JSON.parse(await xrpcGet(pds.url,
		    'com.atproto.admin.getInviteCodes', {}, adminAuth));
		const c = inv.codes.find((x) => x.code === inviteCode);
		assert.ok(c, JSON.stringify(inv));
		assert.equal(c.available, 3);
	});

	test('the firehose replays the reference\'s events and goes on',
	    async () => {
		const fh = firehose(pds.url, 0);
		await fh.open;
		await quiet(fh.frames);
		assert.deepEqual(fh.frames.map((f) => [f.seq, f.t]),
		    refFrames.map((f) => [f.seq, f.t]));
		for (let i = 0; i < refFrames.length; i++)
			assert.deepEqual(fh.frames[i].body, refFrames[i].body,
			    `event ${refFrames[i].seq}`);
		const last = refFrames.at(-1).seq;
		const a = new AtpAgent({ service: pds.url });
		await a.login({ identifier: accounts.bob.handle,
		    password: PASS.bob });
		const p = await a.post({ text: 'hello from pdsd' });
		const end = Date.now() + 10000;
		let f;
		while (!(f = fh.frames.find((x) => x.seq > last)) &&
		    Date.now() < end)
			await sleep(25);
		fh.ws.close();
		assert.ok(f, 'a new event after the reference\'s');
		assert.equal(f.t, '#commit');
		assert.equal(f.body.repo, accounts.bob.did);
		assert.equal(f.body.ops[0].path, p.uri.split('/').slice(3)
		    .join('/'));
		assert.ok(f.body.since === before_.bob.latest.rev);
		// A relay that stopped mid-way resumes from its cursor.
		const mid = refFrames[Math.floor(refFrames.length / 2)].seq;
		const fh2 = firehose(pds.url, mid);
		await fh2.open;
		await quiet(fh2.frames, 1000);
		fh2.ws.close();
		assert.deepEqual(fh2.frames.map((x) => x.seq),
		    [...refFrames.filter((x) => x.seq > mid).map((x) => x.seq),
		    f.seq]);
	});

	test('nothing changed on the PLC, and pdsd can still change it',
	    async () => {
		for (const name of Object.keys(PASS))
			assert.deepEqual(await (await fetch(
			    `${plc.url}/${accounts[name].did}`)).json(),
			    plcDocs[name], name);
		// The rotation key carried over: a handle change is a PLC
		// operation pdsd signs and the directory accepts.
		const a = new AtpAgent({ service: pds.url });
		await a.login({ identifier: accounts.carol.handle,
		    password: PASS.carol });
		const handle = `carol-moved${process.pid % 10000}.test`;
		await a.com.atproto.identity.updateHandle({ handle });
		const doc = await (await fetch(
		    `${plc.url}/${accounts.carol.did}`)).json();
		assert.deepEqual(doc.alsoKnownAs, [`at://${handle}`]);
		const anon = new AtpAgent({ service: pds.url });
		const h = await anon.com.atproto.identity.resolveHandle({
		    handle });
		assert.equal(h.data.did, accounts.carol.did);
	});
});
