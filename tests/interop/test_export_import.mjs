// The exit plan, as commands: ten members with posts, images, likes,
// follows and preferences go through pdsctl export on one pdsd and
// pdsctl import on a fresh one that keeps the coop's PLC rotation key.
// Checked: the export's manifests against Node's SHA-256; a member's
// export carries no secrets; a second run resumes (skips what is
// complete, re-does what was damaged); after the import every record
// (CID and value), every blob byte and every repo's tree (the MST root)
// is the original's, each repo verifies with @atproto/repo against the
// new signing key the PLC directory now names, the DID documents point
// at the new server, and members log in with their old passwords, find
// their preferences and write.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { readCarWithRoot } from '@atproto/repo';

import { PDSD, isExecutable, randomK256Hex, runProgram, startPdsd,
    startPlc, tmpDir } from './lib.mjs';
import { PDSCTL, loginAndWrite, seedCoop, sha256, snapshotCoop }
    from './coop.mjs';

const skip = isExecutable(PDSD) && isExecutable(PDSCTL) ? false :
    'pdsd or pdsctl is not built yet';
const N = 10;

let plc, a, b, members, before_, prefs_, work;

function ctl(pds, ...args) {
	return runProgram(PDSCTL, ['--socket', path.join(pds.dataDir,
	    'pdsd.sock'), ...args], { timeoutMs: 180000 });
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

describe('export and import', { skip }, () => {
	before(async () => {
		work = tmpDir('pds-export-');
		plc = await startPlc();
		const rotation = await randomK256Hex();
		const env = { PDS_DID_PLC_URL: plc.url,
		    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: rotation };
		a = await startPdsd({ env });
		b = await startPdsd({ env });
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
		console.log(`# export of ${N} accounts took ${Date.now() - t0} ms`);
		let res = JSON.parse(r.stdout);
		assert.equal(res.accounts, N);
		assert.equal(res.skipped, 0);
		assert.match(r.stderr, /"phase":"export"/);
		for (const m of members)
			assert.equal(manifestOk(path.join(dir, m.did)).secrets,
			    true);
		r = await ctl(a, '--json', 'export', '--all',
		    '--include-secrets', dir);
		res = JSON.parse(r.stdout);
		assert.equal(res.skipped, N, 'complete and verified: skipped');
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
		assert.equal(res.skipped, N - 2);
		assert.ok(res.blobsReused >= 1, 'kept blobs are not copied');
		manifestOk(d0);
		assert.equal(sha256(fs.readFileSync(path.join(d0, 'blobs',
		    cid0))), before_[members[1].did].blobs[cid0]);
	});

	test('import refuses a damaged export and changes nothing',
	    async () => {
		const bad = path.join(work, 'bad');
		fs.cpSync(path.join(work, 'all'), bad, { recursive: true });
		const car = path.join(bad, members[3].did, 'repo.car');
		const buf = fs.readFileSync(car);
		buf[buf.length - 1] ^= 1;
		fs.writeFileSync(car, buf);
		const r = await ctl(b, 'import', bad);
		assert.notEqual(r.code, 0);
		assert.match(r.stderr, /does not match the manifest/);
		const list = await ctl(b, '--json', 'account', 'list');
		assert.deepEqual(JSON.parse(list.stdout).accounts, []);
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
		const list = await ctl(b, '--json', 'account', 'list');
		assert.deepEqual(JSON.parse(list.stdout).accounts, [],
		    'the account loaded first was removed again');
	});

	test('a server without the coop\'s rotation key loads but cannot ' +
	    'move the DIDs', async () => {
		const c = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url } });
		try {
			const one = path.join(work, 'first');
			fs.mkdirSync(one);
			fs.cpSync(path.join(work, 'all', members[4].did),
			    path.join(one, members[4].did), { recursive: true });
			const r = await ctl(c, 'import', one);
			assert.equal(r.code, 1, r.stderr);
			assert.match(r.stderr, /could not be moved here/);
			const list = JSON.parse((await ctl(c, '--json', 'account',
			    'list')).stdout);
			assert.deepEqual(list.accounts.map((x) => [x.did,
			    x.deactivatedAt !== undefined]), [[members[4].did,
			    true]]);
			const doc = await (await fetch(`${plc.url}/${members[4]
			    .did}`)).json();
			assert.equal(doc.service[0].serviceEndpoint, a.url
			    .replace('127.0.0.1', 'localhost'), 'the DID is untouched');
		} finally {
			await c.stop();
		}
	});

	test('import on a fresh pdsd: the same members, exactly', async () => {
		const t0 = Date.now();
		const r = await ctl(b, '--json', 'import',
		    path.join(work, 'all'));
		assert.equal(r.code, 0, r.stderr);
		console.log(`# import of ${N} accounts took ${Date.now() - t0} ms`);
		const res = JSON.parse(r.stdout);
		assert.equal(res.accounts, N);
		assert.equal(res.moved, N);
		const after_ = await snapshotCoop(b.url, plc.url, members);
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
			assert.equal(doc.service[0].serviceEndpoint, b.url
			    .replace('127.0.0.1', 'localhost'));
		}
		for (const m of members) {
			const prefs = await loginAndWrite(b.url, m);
			assert.deepEqual(prefs, prefs_[m.did]);
		}
	});
});
