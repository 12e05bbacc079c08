// The exit plan, as commands: ten members with posts, images, likes,
// follows and preferences go through pdsctl export on one pdsd and
// pdsctl import on fresh ones that keep the coop's PLC rotation key.
// Checked: the export's manifests against Node's SHA-256; a member's
// export carries no secrets; a second run resumes (skips what is
// complete, re-does what was damaged).
// With --include-secrets the export carries each repo's signing key
// (mode 0600, marked secret in the manifest), and the import keeps it:
// every head commit's CID and rev and every getRepo CAR byte is the
// original's, each repo verifies with @atproto/repo against the key the
// DID document names, the only PLC operation changes the service
// endpoint (none at all when a server takes over the DID's own
// address), the firehose shows #identity, #account and the #sync of
// the imported head, and a member's next write chains from that head
// (#commit since = its rev, prevData = its tree).  A damaged key file,
// or one that is not the DID's key, is refused and nothing is imported.
// Without the key (an export that carries only password hashes) the
// import signs the same tree with a new key and re-points the DID.
// Either way every record (CID and value), every blob byte and every
// repo's tree (the MST root) is the original's, and members log in with
// their old passwords, find their preferences and write.
// On servers that already hold accounts (PDS_INTEROP_SEED), export --all
// must write those too, each once, and the imports take this file's
// members only (the other accounts are on every server already) and
// must leave the others as they were.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Secp256k1Keypair } from '@atproto/crypto';
import { decodeAll } from '@atproto/lex-cbor';
import { MemoryBlockstore, Repo, blocksToCarFile, readCarWithRoot }
    from '@atproto/repo';
import WebSocket from 'ws';

import { PDSD, isExecutable, pdsStats, pdsctlRun, randomK256Hex,
    startPdsd, startPlc, tmpDir, waitFor } from './lib.mjs';
import { PDSCTL, loginAndWrite, seedCoop, sha256, signingKey,
    snapshotAccount, snapshotCoop } from './coop.mjs';

const skip = isExecutable(PDSD) && isExecutable(PDSCTL) ? false :
    'pdsd or pdsctl is not built yet';
const N = 10;

let plc, a, b, env, members, before_, prefs_, work;
// The accounts a and b held before this file wrote ([] on empty servers).
let baseA, baseB;

// The export of this file's members: export --all's directory when a
// held nothing else, else a copy of their part of it.
function ownExport() {
	return path.join(work, baseA.length === 0 ? 'all' : 'mine');
}

function ctl(pds, ...args) {
	return pdsctlRun(pds, args, { timeoutMs: 180000 });
}

function manifestOk(dir) {
	const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'),
	    'utf8'));
	assert.equal(m.format, 'pds-export');
	assert.equal(m.complete, true);
	for (const f of m.files) {
		const buf = fs.readFileSync(path.join(dir, f.path));
		assert.equal(buf.length, f.size, f.path);
		assert.equal(sha256(buf), f.sha256, f.path);
	}
	return m;
}

// Replace (text) or remove (null) a file of an account's export, and
// list it in the manifest as pdsd would: the import's own checks pass.
function rewrite(adir, name, text) {
	const mpath = path.join(adir, 'manifest.json');
	const man = JSON.parse(fs.readFileSync(mpath, 'utf8'));
	const f = man.files.find((x) => x.path === name);
	if (text === null) {
		fs.rmSync(path.join(adir, name));
		man.files = man.files.filter((x) => x !== f);
	} else {
		fs.writeFileSync(path.join(adir, name), text);
		f.size = Buffer.byteLength(text);
		f.sha256 = sha256(Buffer.from(text));
	}
	fs.writeFileSync(mpath, JSON.stringify(man));
}

function copyAccounts(dst, list) {
	fs.mkdirSync(dst);
	for (const m of list)
		fs.cpSync(path.join(work, 'all', m.did), path.join(dst, m.did),
		    { recursive: true });
}

async function auditLog(did) {
	const r = await fetch(`${plc.url}/${did}/log/audit`);
	assert.equal(r.status, 200);
	return r.json();
}

async function accounts(pds) {
	return JSON.parse((await ctl(pds, '--json', 'account', 'list')).stdout)
	    .accounts;
}

// The firehose of url after seq cursor (0: from the start):
// { ws, frames: [{ t, body }], open }.
function firehose(url, cursor) {
	const ws = new WebSocket(url.replace(/^http/, 'ws') +
	    `/xrpc/com.atproto.sync.subscribeRepos?cursor=${cursor}`);
	const frames = [];
	ws.on('message', (d) => {
		const [h, body] = [...decodeAll(new Uint8Array(d))];
		frames.push({ t: h.t, body });
	});
	const open = new Promise((res, rej) => {
		ws.once('open', res);
		ws.once('error', rej);
	});
	return { ws, frames, open };
}

function eventsOf(fh, did, t) {
	return fh.frames.filter((f) => f.t === t && (f.body.did ?? f.body
	    .repo) === did);
}

// Every account of the export is back with its head exactly; the DID
// documents name pds; the audit logs grew by ops (0 or 1) each, and an
// operation changed nothing but the service endpoint.
async function checkKeptHeads(pds, audits, ops) {
	const after_ = await snapshotCoop(pds.url, plc.url, members);
	for (const m of members) {
		const x = before_[m.did], y = after_[m.did];
		assert.deepEqual(y.head, x.head, `${m.handle}: the same head ` +
		    'commit, CID and rev');
		assert.equal(y.car, x.car, `${m.handle}: getRepo, byte for byte`);
		assert.equal(y.carBytes, x.carBytes);
		assert.deepEqual(y.records, x.records, m.handle);
		assert.deepEqual(y.blobs, x.blobs, m.handle);
		assert.equal(y.data, x.data, 'the same tree');
		const log = await auditLog(m.did);
		assert.equal(log.length, audits[m.did].length + ops, m.handle);
		const [prev, last] = log.slice(-2).map((e) => e.operation);
		assert.deepEqual(last.verificationMethods,
		    prev.verificationMethods, 'the signing key is kept');
		assert.deepEqual(last.rotationKeys, prev.rotationKeys);
		assert.deepEqual(last.alsoKnownAs, prev.alsoKnownAs);
		assert.equal(last.services.atproto_pds.endpoint, pds.url
		    .replace('127.0.0.1', 'localhost'));
	}
}

describe('export and import', { skip }, () => {
	before(async () => {
		work = tmpDir('pds-export-');
		plc = await startPlc();
		const rotation = await randomK256Hex();
		env = { PDS_DID_PLC_URL: plc.url,
		    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: rotation };
		a = await startPdsd({ env });
		b = await startPdsd({ env });
		baseA = await accounts(a);
		baseB = await accounts(b);
		members = await seedCoop(a.url, N);
		before_ = await snapshotCoop(a.url, plc.url, members);
		prefs_ = {};
		for (const m of members)
			prefs_[m.did] = (await m.agent.app.bsky.actor
			    .getPreferences()).data.preferences;
	});
	after(async () => {
		await b?.stop();
		await a?.stop();
		await plc?.stop();
		if (work)
			fs.rmSync(work, { recursive: true, force: true });
	});

	test('a member takes their export away: no secrets in it',
	    async () => {
		const dir = path.join(work, 'one');
		fs.mkdirSync(dir);
		const r = await ctl(a, 'export', members[0].handle, dir);
		assert.equal(r.code, 0, r.stderr);
		const adir = path.join(dir, members[0].did);
		const m = manifestOk(adir);
		assert.equal(m.secrets, false);
		assert.ok(!fs.existsSync(path.join(adir, 'secrets.json')));
		assert.ok(!fs.existsSync(path.join(adir, 'signing-key.json')));
		assert.ok(m.files.every((x) => x.secret === undefined));
		for (const f of ['account.json', 'repo.car', 'preferences.json',
		    'did.json', 'plc-audit.json'])
			assert.ok(m.files.some((x) => x.path === f), f);
		for (const f of m.files) {
			const s = fs.readFileSync(path.join(adir, f.path));
			assert.ok(!s.includes('$argon2') && !s.includes('$scrypt')
			    && !s.includes(a.env.PDS_JWT_SECRET) &&
			    !s.includes(a.env
			    .PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX), f.path);
		}
		// the CAR is the repo sync.getRepo serves, readable by
		// @atproto/repo
		const car = fs.readFileSync(path.join(adir, 'repo.car'));
		assert.equal(sha256(car), before_[members[0].did].car);
		const { root } = await readCarWithRoot(new Uint8Array(car));
		assert.equal(root.toString(), before_[members[0].did].head.cid);
		const audit = JSON.parse(fs.readFileSync(path.join(adir,
		    'plc-audit.json'), 'utf8'));
		assert.equal(audit[0].did, members[0].did);
		const doc = JSON.parse(fs.readFileSync(path.join(adir,
		    'did.json'), 'utf8'));
		assert.equal(doc.id, members[0].did);
		for (const cid of Object.keys(before_[members[0].did].blobs))
			assert.equal(sha256(fs.readFileSync(path.join(adir,
			    'blobs', cid))), before_[members[0].did].blobs[cid]);
	});

	test('export --all writes everyone, and a second run resumes',
	    async () => {
		const dir = path.join(work, 'all');
		fs.mkdirSync(dir);
		const t0 = Date.now();
		let r = await ctl(a, '--json', 'export', '--all',
		    '--include-secrets', dir);
		assert.equal(r.code, 0, r.stderr);
		let res = JSON.parse(r.stdout);
		console.log(`# export of ${res.accounts} accounts took ` +
		    `${Date.now() - t0} ms`);
		assert.equal(res.accounts, baseA.length + N);
		assert.equal(res.skipped, 0);
		assert.match(r.stderr, /"phase":"export"/);
		// one directory per account, the members' and the others'
		assert.deepEqual(fs.readdirSync(dir).filter((x) =>
		    x.startsWith('did:')).sort(), [...baseA.map((x) => x.did),
		    ...members.map((m) => m.did)].sort());
		for (const x of baseA)
			assert.equal(manifestOk(path.join(dir, x.did)).secrets,
			    true, x.did);
		for (const m of members) {
			const adir = path.join(dir, m.did);
			const man = manifestOk(adir);
			assert.equal(man.secrets, true);
			assert.deepEqual(man.files.filter((x) => x.secret)
			    .map((x) => x.path).sort(), ['secrets.json',
			    'signing-key.json'], 'the manifest names the secrets');
			for (const f of ['secrets.json', 'signing-key.json'])
				assert.equal(fs.statSync(path.join(adir, f)).mode &
				    0o777, 0o600, f);
			// the repo's own key: the one its DID document names
			const k = JSON.parse(fs.readFileSync(path.join(adir,
			    'signing-key.json'), 'utf8'));
			assert.equal(k.did, m.did);
			assert.equal(k.publicKey, await signingKey(plc.url, m.did));
			const kp = await Secp256k1Keypair.import(k.privateKeyHex);
			assert.equal(kp.did(), k.publicKey);
		}
		r = await ctl(a, '--json', 'export', '--all',
		    '--include-secrets', dir);
		res = JSON.parse(r.stdout);
		assert.equal(res.skipped, baseA.length + N,
		    'complete and verified: skipped');
		// damage one account: a blob goes, another account's
		// manifest goes (as if cut short)
		const d0 = path.join(dir, members[1].did);
		const cid0 = Object.keys(before_[members[1].did].blobs)[0];
		fs.rmSync(path.join(d0, 'blobs', cid0));
		fs.rmSync(path.join(dir, members[2].did, 'manifest.json'));
		r = await ctl(a, '--json', 'export', '--all',
		    '--include-secrets', dir);
		assert.equal(r.code, 0, r.stderr);
		res = JSON.parse(r.stdout);
		assert.equal(res.skipped, baseA.length + N - 2);
		assert.ok(res.blobsReused >= 1, 'kept blobs are not copied');
		manifestOk(d0);
		manifestOk(path.join(dir, members[2].did));
		assert.equal(sha256(fs.readFileSync(path.join(d0, 'blobs',
		    cid0))), before_[members[1].did].blobs[cid0]);
		if (baseA.length > 0)
			copyAccounts(ownExport(), members);
	});

	test('import refuses a damaged export and changes nothing',
	    async () => {
		const bad = path.join(work, 'bad');
		fs.cpSync(ownExport(), bad, { recursive: true });
		const car = path.join(bad, members[3].did, 'repo.car');
		const buf = fs.readFileSync(car);
		buf[buf.length - 1] ^= 1;
		fs.writeFileSync(car, buf);
		const r = await ctl(b, 'import', bad);
		assert.notEqual(r.code, 0);
		assert.match(r.stderr, /does not match the manifest/);
		assert.deepEqual(await accounts(b), baseB);
	});

	test('import is all or nothing: a bad account takes back the good',
	    async () => {
		const two = path.join(work, 'two');
		fs.mkdirSync(two);
		for (const m of [members[5], members[6]])
			fs.cpSync(path.join(work, 'all', m.did),
			    path.join(two, m.did), { recursive: true });
		// a well-formed, correctly hashed file the importer refuses
		const d = path.join(two, members[6].did);
		const bad = JSON.stringify({ preferences: [{ $type:
		    'com.example.not.a.pref', x: 1 }] });
		fs.writeFileSync(path.join(d, 'preferences.json'), bad);
		const man = JSON.parse(fs.readFileSync(path.join(d,
		    'manifest.json'), 'utf8'));
		const f = man.files.find((x) => x.path === 'preferences.json');
		f.size = Buffer.byteLength(bad);
		f.sha256 = sha256(Buffer.from(bad));
		fs.writeFileSync(path.join(d, 'manifest.json'),
		    JSON.stringify(man));
		const r = await ctl(b, 'import', two);
		assert.notEqual(r.code, 0);
		assert.match(r.stderr, /loading failed/);
		assert.deepEqual(await accounts(b), baseB,
		    'the account loaded first was removed again');
	});

	test('a server without the coop\'s rotation key loads but cannot ' +
	    'move the DIDs', async () => {
		const c = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url } });
		try {
			const baseC = await accounts(c);
			const one = path.join(work, 'first');
			fs.mkdirSync(one);
			fs.cpSync(path.join(work, 'all', members[4].did),
			    path.join(one, members[4].did), { recursive: true });
			const r = await ctl(c, 'import', one);
			assert.equal(r.code, 1, r.stderr);
			assert.match(r.stderr, /could not be moved here/);
			const list = await accounts(c);
			const old = new Set(baseC.map((x) => x.did));
			assert.deepEqual(list.filter((x) => !old.has(x.did))
			    .map((x) => [x.did, x.deactivatedAt !== undefined]),
			    [[members[4].did, true]]);
			assert.deepEqual(list.filter((x) => old.has(x.did)), baseC,
			    'the others are as they were');
			const doc = await (await fetch(`${plc.url}/${members[4]
			    .did}`)).json();
			assert.equal(doc.service[0].serviceEndpoint, a.url
			    .replace('127.0.0.1', 'localhost'), 'the DID is untouched');
		} finally {
			await c.stop();
		}
	});

	test('a damaged signing key, or one that is not the DID\'s, is ' +
	    'refused and nothing is imported', async () => {
		// damaged: one digit of the private key changed
		const dmg = path.join(work, 'damagedkey');
		copyAccounts(dmg, [members[5], members[6]]);
		let d = path.join(dmg, members[6].did);
		const k = JSON.parse(fs.readFileSync(path.join(d,
		    'signing-key.json'), 'utf8'));
		const flip = k.privateKeyHex[10] === '1' ? '2' : '1';
		rewrite(d, 'signing-key.json', JSON.stringify({ ...k,
		    privateKeyHex: k.privateKeyHex.slice(0, 10) + flip +
		    k.privateKeyHex.slice(11) }));
		let r = await ctl(b, 'import', dmg);
		assert.notEqual(r.code, 0);
		assert.match(r.stderr, new RegExp(`${members[6].did}/` +
		    'signing-key.json: the private key does not give ' +
		    'publicKey: the file is damaged'));
		assert.deepEqual(await accounts(b), baseB);
		// well formed, but another key than the DID document's
		const mis = path.join(work, 'otherkey');
		copyAccounts(mis, [members[5], members[6]]);
		d = path.join(mis, members[6].did);
		const kp = await Secp256k1Keypair.create({ exportable: true });
		rewrite(d, 'signing-key.json', JSON.stringify({ ...k,
		    privateKeyHex: Buffer.from(await kp.export()).toString('hex'),
		    publicKey: kp.did() }));
		r = await ctl(b, 'import', mis);
		assert.notEqual(r.code, 0);
		assert.match(r.stderr, /is not the signing key the DID document names/);
		assert.deepEqual(await accounts(b), baseB);
		// the DID's key, but a head commit another key signed: refused
		// while loading, and what was loaded is taken back
		const other = path.join(work, 'otherhead');
		copyAccounts(other, [members[5], members[6]]);
		d = path.join(other, members[6].did);
		const store = new MemoryBlockstore();
		const repo = await Repo.create(store, members[6].did, kp);
		rewrite(d, 'repo.car', Buffer.from(await blocksToCarFile(repo.cid,
		    store.blocks)));
		r = await ctl(b, 'import', other);
		assert.notEqual(r.code, 0);
		assert.match(r.stderr, new RegExp(`${members[6].did}: loading ` +
		    'failed: .*commit is not signed by'));
		assert.deepEqual(await accounts(b), baseB);
		for (const m of [members[5], members[6]]) {
			const doc = await (await fetch(`${plc.url}/${m.did}`))
			    .json();
			assert.equal(doc.service[0].serviceEndpoint, a.url
			    .replace('127.0.0.1', 'localhost'), 'the DID is untouched');
		}
	});

	test('import with the signing keys: the same heads, exactly, and ' +
	    'the next write chains from them', async () => {
		const fh = firehose(b.url, (await pdsStats(b)).firehose.lastSeq);
		await fh.open;
		const audits = {};
		for (const m of members)
			audits[m.did] = await auditLog(m.did);
		const t0 = Date.now();
		const r = await ctl(b, '--json', 'import', ownExport());
		assert.equal(r.code, 0, r.stderr);
		console.log(`# import of ${N} accounts took ${Date.now() - t0} ms`);
		const res = JSON.parse(r.stdout);
		assert.equal(res.accounts, N);
		assert.equal(res.moved, N);
		assert.equal(res.keysKept, N);
		assert.equal(res.plcOperations, N, 'the DIDs named the old server');
		await checkKeptHeads(b, audits, 1);
		const list = await accounts(b);
		const old = new Set(baseB.map((x) => x.did));
		assert.deepEqual(list.filter((x) => old.has(x.did)), baseB,
		    'the others are as they were');
		assert.deepEqual(list.filter((x) => !old.has(x.did))
		    .map((x) => x.did).sort(), members.map((m) => m.did).sort());
		// the firehose: the accounts and their imported heads
		await waitFor(() => members.every((m) => eventsOf(fh, m.did,
		    '#sync').length > 0), 20000, 'a #sync per account');
		for (const m of members) {
			const x = before_[m.did];
			assert.ok(eventsOf(fh, m.did, '#identity').length > 0);
			assert.ok(eventsOf(fh, m.did, '#account').some((e) =>
			    e.body.active === true));
			const sync = eventsOf(fh, m.did, '#sync');
			assert.equal(sync.length, 1, m.handle);
			assert.equal(sync[0].body.rev, x.head.rev);
			const { root } = await readCarWithRoot(sync[0].body.blocks);
			assert.equal(root.toString(), x.head.cid);
		}
		// members log in with their passwords and write
		for (const m of members) {
			const prefs = await loginAndWrite(b.url, m);
			assert.deepEqual(prefs, prefs_[m.did]);
		}
		await waitFor(() => members.every((m) => eventsOf(fh, m.did,
		    '#commit').length > 0), 20000, 'a #commit per account');
		fh.ws.close();
		for (const m of members) {
			const x = before_[m.did];
			const [c] = eventsOf(fh, m.did, '#commit');
			assert.equal(c.body.since, x.head.rev, 'since: the imported ' +
			    'head');
			assert.equal(c.body.prevData.toString(), x.data,
			    'prevData: the imported tree');
			assert.ok(c.body.rev > x.head.rev);
			// still signed with the same key, the DID document's
			const y = await snapshotAccount(b.url, m.did,
			    await signingKey(plc.url, m.did));
			assert.equal(y.head.rev, c.body.rev);
			assert.equal(y.head.cid, c.body.commit.toString());
		}
	});

	test('the same host restored on a new machine: no PLC operation',
	    async () => {
		// a new pdsd takes over b's address; the DIDs name it already
		const port = b.port;
		await b.stop();
		b = await startPdsd({ env, port });
		const audits = {};
		for (const m of members)
			audits[m.did] = await auditLog(m.did);
		const r = await ctl(b, '--json', 'import', ownExport());
		assert.equal(r.code, 0, r.stderr);
		const res = JSON.parse(r.stdout);
		assert.equal(res.moved, N);
		assert.equal(res.plcOperations, 0);
		await checkKeptHeads(b, audits, 0);
		const prefs = await loginAndWrite(b.url, members[0]);
		assert.deepEqual(prefs, prefs_[members[0].did]);
	});

	test('import without the signing keys: a new key, the same tree',
	    async () => {
		// an export that carries only the password hashes
		const nokeys = path.join(work, 'nokeys');
		copyAccounts(nokeys, members);
		for (const m of members)
			rewrite(path.join(nokeys, m.did), 'signing-key.json', null);
		const e = await startPdsd({ env });
		try {
			const t0 = Date.now();
			const r = await ctl(e, '--json', 'import', nokeys);
			assert.equal(r.code, 0, r.stderr);
			console.log(`# import of ${N} accounts took ` +
			    `${Date.now() - t0} ms`);
			const res = JSON.parse(r.stdout);
			assert.equal(res.accounts, N);
			assert.equal(res.moved, N);
			assert.equal(res.keysKept, 0);
			assert.equal(res.plcOperations, N);
			const after_ = await snapshotCoop(e.url, plc.url, members);
			for (const m of members) {
				const x = before_[m.did], y = after_[m.did];
				assert.deepEqual(y.records, x.records, m.handle);
				assert.deepEqual(y.blobs, x.blobs, m.handle);
				assert.equal(y.data, x.data, 'the same tree');
				assert.equal(y.creates, x.creates);
				assert.notEqual(y.head.cid, x.head.cid,
				    'signed again with the new key');
				const doc = await (await fetch(`${plc.url}/${m.did}`))
				    .json();
				assert.equal(doc.service[0].serviceEndpoint, e.url
				    .replace('127.0.0.1', 'localhost'));
				assert.notEqual(await signingKey(plc.url, m.did),
				    JSON.parse(fs.readFileSync(path.join(work, 'all',
				    m.did, 'signing-key.json'), 'utf8')).publicKey,
				    'a new key');
			}
			for (const m of members) {
				const prefs = await loginAndWrite(e.url, m);
				assert.deepEqual(prefs, prefs_[m.did]);
			}
		} finally {
			await e.stop();
		}
	});

	test('an export whose DID documents cannot be resolved says so',
	    async () => {
		const gone = await startPlc();
		const top = tmpDir('pds-export-noplc-');
		const genv = { PDS_DID_PLC_URL: gone.url,
		    PDS_DATA_DIRECTORY: path.join(top, 'data'),
		    PDS_ADMIN_SOCKET: path.join(top, 'admin.sock') };
		fs.mkdirSync(genv.PDS_DATA_DIRECTORY, { mode: 0o700 });
		let c = await startPdsd({ env: genv });
		try {
			await seedCoop(c.url, 1, { prefix: 'gone', posts: 1 });
		} finally {
			await c.stop();
			await gone.stop();
		}
		// the same data directory, its PLC directory gone
		c = await startPdsd({ env: genv });
		try {
			const dir = path.join(top, 'export');
			fs.mkdirSync(dir);
			const r = await ctl(c, 'export', '--all', dir);
			assert.notEqual(r.code, 0);
			assert.match(r.stderr, /its DID document could not be resolved/,
			    r.stderr);
		} finally {
			await c.stop();
			fs.rmSync(top, { recursive: true, force: true });
		}
	});
});
