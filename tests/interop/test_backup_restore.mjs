// A backup is proven by restoring it: pdsctl backup of a live pdsd with
// members, posts, images, likes, follows and preferences; its manifest
// checked file by file with Node's own SHA-256; pdsctl restore into a
// fresh directory; a second pdsd started on it; then every repo head,
// every repo's CAR bytes (verified by @atproto/repo), every record and
// every blob compared with the original, and every member logs in with
// their password, finds their preferences and writes.  Restore refuses
// a non-empty target and a damaged backup, leaving nothing behind.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { PDSD, isExecutable, pdsctlRun, runProgram, startPdsd, tmpDir }
    from './lib.mjs';
import { PDSCTL, loginAndWrite, seedCoop, sha256, signingKey,
    snapshotAccount, snapshotCoop } from './coop.mjs';

const skip = isExecutable(PDSD) && isExecutable(PDSCTL) ? false :
    'pdsd or pdsctl is not built yet';

let orig, copy, members, churn, lost, before_, work;

function ctl(pds, ...args) {
	return pdsctlRun(pds, args, { timeoutMs: 120000 });
}

describe('backup and restore', { skip }, () => {
	before(async () => {
		work = tmpDir('pds-restore-');
		orig = await startPdsd();
		members = await seedCoop(orig.url, 4);
		// a member who deletes posts with images while the backup runs
		[churn] = await seedCoop(orig.url, 1, { prefix: 'churn',
		    posts: 12 });
		// and one whose image file was lost from the disk before
		[lost] = await seedCoop(orig.url, 1, { prefix: 'lost',
		    posts: 1 });
		const ldir = path.join(orig.dataDir, 'blocks', lost.did);
		lost.cid = fs.readdirSync(ldir)[0];
		fs.rmSync(path.join(ldir, lost.cid));
		before_ = await snapshotCoop(orig.url, orig.plc.url, members);
	});
	after(async () => {
		await copy?.stop();
		await orig?.stop();
		if (work)
			fs.rmSync(work, { recursive: true, force: true });
	});

	test('pdsctl backup writes the database, the blobs and a manifest',
	    async () => {
		const t0 = Date.now();
		const r = await ctl(orig, '--json', 'backup',
		    path.join(work, 'bk', 'pds.sqlite'));
		assert.equal(r.code, 1, 'the directory does not exist yet');
		fs.mkdirSync(path.join(work, 'bk'));
		const deleting = (async () => {
			for (const p of churn.posts)
				await churn.agent.deletePost(p.uri);
		})();
		const ok = await ctl(orig, '--json', 'backup',
		    path.join(work, 'bk', 'pds.sqlite'));
		await deleting;
		assert.equal(ok.code, 0, ok.stderr);
		console.log(`# backup took ${Date.now() - t0} ms`);
		const res = JSON.parse(ok.stdout);
		const nblobs = Object.values(before_).reduce((n, s) =>
		    n + Object.keys(s.blobs).length, 0);
		assert.ok(res.blobs >= nblobs, `${res.blobs} blobs`);
		assert.equal(res.missingBlobs, 1, 'a lost file is reported, ' +
		    'the rest backed up');
		assert.match(ok.stderr, /"phase":"blobs"/);
		const m = JSON.parse(fs.readFileSync(res.manifest, 'utf8'));
		assert.equal(m.format, 'pds-backup');
		assert.equal(m.blobstore, 'disk');
		assert.deepEqual(m.missingBlobs, [{ did: lost.did,
		    cid: lost.cid }]);
		assert.equal(m.files.length, res.blobs + 1);
		for (const f of m.files) {
			const b = fs.readFileSync(path.join(work, 'bk', f.path));
			assert.equal(b.length, f.size, f.path);
			assert.equal(sha256(b), f.sha256, f.path);
		}
		for (const [did, s] of Object.entries(before_))
			for (const cid of Object.keys(s.blobs))
				assert.ok(m.files.some((f) => f.path ===
				    `pds.sqlite.blobs/${did}/${cid}`), cid);
		const again = await ctl(orig, 'backup',
		    path.join(work, 'bk', 'pds.sqlite'));
		assert.equal(again.code, 4, 'never overwrites');
	});

	test('restore refuses a non-empty target and a damaged backup',
	    async () => {
		const full = path.join(work, 'full');
		fs.mkdirSync(full);
		fs.writeFileSync(path.join(full, 'keep'), 'x');
		let r = await runProgram(PDSCTL, ['restore',
		    path.join(work, 'bk', 'pds.sqlite'), full]);
		assert.equal(r.code, 4, r.stderr);
		assert.deepEqual(fs.readdirSync(full), ['keep']);

		// a copy of the backup with one blob's last byte changed
		fs.cpSync(path.join(work, 'bk'), path.join(work, 'bad'),
		    { recursive: true });
		const m = JSON.parse(fs.readFileSync(path.join(work, 'bad',
		    'pds.sqlite.manifest.json'), 'utf8'));
		const blob = m.files.find((f) => f.path.includes('/bafk'));
		const p = path.join(work, 'bad', blob.path);
		const b = fs.readFileSync(p);
		b[b.length - 1] ^= 1;
		fs.writeFileSync(p, b);
		r = await runProgram(PDSCTL, ['restore',
		    path.join(work, 'bad', 'pds.sqlite'),
		    path.join(work, 'nope')]);
		assert.equal(r.code, 65, r.stderr);
		assert.match(r.stderr, /SHA-256/);
		assert.ok(!fs.existsSync(path.join(work, 'nope')));
		assert.deepEqual(fs.readdirSync(work).filter((n) =>
		    n.startsWith('nope')), [], 'no staging left behind');

		// a manifest that points outside the backup
		m.files[0].path = '../etc/passwd';
		fs.writeFileSync(path.join(work, 'bad',
		    'pds.sqlite.manifest.json'), JSON.stringify(m));
		r = await runProgram(PDSCTL, ['restore',
		    path.join(work, 'bad', 'pds.sqlite'),
		    path.join(work, 'nope')]);
		assert.equal(r.code, 65, r.stderr);
	});

	test('pdsd runs on the restored directory: everything identical',
	    async () => {
		const dir = path.join(work, 'restored');
		const t0 = Date.now();
		// an empty target given with a trailing slash
		fs.mkdirSync(dir);
		const r = await runProgram(PDSCTL, ['restore',
		    path.join(work, 'bk', 'pds.sqlite.manifest.json'), dir + '/']);
		assert.equal(r.code, 0, r.stderr);
		console.log(`# restore took ${Date.now() - t0} ms`);
		assert.match(r.stdout.toString(), /every SHA-256 matched/);
		assert.match(r.stderr, /restore: \[#+\] 100%/);
		// what a crash in the middle of a backup leaves behind
		const stale = path.join(dir, 'blocks', '.backup-1-1');
		fs.mkdirSync(stale);
		fs.writeFileSync(path.join(stale, '0'), 'a staged blob');
		copy = await startPdsd({ env: {
		    PDS_DATA_DIRECTORY: dir,
		    PDS_DID_PLC_URL: orig.plc.url,
		    PDS_JWT_SECRET: orig.env.PDS_JWT_SECRET,
		    PDS_ADMIN_PASSWORD: orig.env.PDS_ADMIN_PASSWORD,
		    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX:
		      orig.env.PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX,
		} });
		assert.ok(!fs.existsSync(stale), 'pdsd sweeps stale staging');
		const after_ = await snapshotCoop(copy.url, orig.plc.url,
		    members);
		assert.deepEqual(after_, before_);
		// whatever the snapshot caught of the member deleting posts,
		// every blob its records reference is there
		const c = await snapshotAccount(copy.url, churn.did,
		    await signingKey(orig.plc.url, churn.did));
		console.log(`# the restored churn member has ${c.creates} ` +
		    `records and ${Object.keys(c.blobs).length} blobs`);
		for (const m of members) {
			const prefs = await loginAndWrite(copy.url, m);
			assert.ok(prefs.some((p) => p.$type ===
			    'app.bsky.actor.defs#adultContentPref'));
		}
	});
});
