// uploadBlob streams its body to a temporary file instead of holding it
// in memory: a chunked upload (no Content-Length) is cut off with 413 as
// soon as it passes PDS_BLOB_UPLOAD_LIMIT and leaves no temporary file;
// credentials are checked before any body byte is read; a large allowed
// upload does not grow pdsd's resident memory by anything near its size,
// and comes back intact, with Content-Length, from sync.getBlob.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';

import { PDSD, isExecutable, sleep, startPdsd } from './lib.mjs';

const skip = isExecutable(PDSD) ? false : `${PDSD} is not built yet`;
const MiB = 1024 * 1024;
const LIMIT = 64 * MiB;
const BIG = 48 * MiB;		// allowed, and far above the RSS bound
const CHUNK = MiB;

let pds, alice, did;

function tmpFiles() {
	const dir = path.join(pds.dataDir, 'blocks', 'tempt');
	return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

// KiB of a /proc/<pid>/status field (VmRSS, VmHWM).
function procKiB(field) {
	const s = fs.readFileSync(`/proc/${pds.pid}/status`, 'utf8');
	const m = s.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
	return m ? Number(m[1]) : NaN;
}

// Deterministic bytes: chunk i of a pseudo-random stream.
function chunkAt(i, n) {
	const seed = crypto.createHash('sha256').update(`chunk ${i}`).digest();
	const out = Buffer.alloc(n);
	for (let off = 0; off < n; off += seed.length)
		seed.copy(out, off, 0, Math.min(seed.length, n - off));
	out.writeUInt32BE(i, 0);
	return out;
}

// POST total bytes to uploadBlob in CHUNK pieces, chunked unless
// contentLength.  Resolves { status, json, sent, sha256 } once the reply
// is in; stops sending as soon as a reply arrives.
function rawUpload({ total, auth, contentLength = false,
    headersOnly = false }) {
	return new Promise((resolve, reject) => {
		const headers = { 'content-type': 'application/octet-stream' };
		if (auth)
			headers.authorization = `Bearer ${auth}`;
		if (contentLength)
			headers['content-length'] = String(total);
		const req = http.request(`${pds.url}/xrpc/` +
		    'com.atproto.repo.uploadBlob', { method: 'POST', headers });
		const hash = crypto.createHash('sha256');
		let sent = 0, replied = false;
		req.on('response', (res) => {
			replied = true;
			const parts = [];
			res.on('data', (d) => parts.push(d));
			res.on('end', () => {
				const text = Buffer.concat(parts).toString();
				let json = null;
				try {
					json = JSON.parse(text);
				} catch {
					// not JSON
				}
				resolve({ status: res.statusCode, json, sent,
				    sha256: hash.digest('hex') });
			});
			res.on('error', reject);
		});
		req.on('error', (e) => {
			if (!replied)
				reject(e);
		});
		if (headersOnly) {
			req.flushHeaders();
			return;
		}
		let i = 0;
		const pump = () => {
			while (!replied && sent < total) {
				const n = Math.min(CHUNK, total - sent);
				const c = chunkAt(i++, n);
				hash.update(c);
				sent += n;
				if (!req.write(c)) {
					req.once('drain', pump);
					return;
				}
			}
			if (!replied)
				req.end();
		};
		pump();
	});
}

describe('uploadBlob streams its body', { skip }, () => {
	before(async () => {
		pds = await startPdsd({ env: {
		    PDS_BLOB_UPLOAD_LIMIT: String(LIMIT) } });
		alice = new AtpAgent({ service: pds.url });
		await alice.createAccount({ handle: 'alice.test',
		    email: 'alice@example.com', password: 'alice-password-1' });
		did = alice.session.did;
	});
	after(async () => {
		if (pds)
			await pds.stop();
	});

	test('a chunked upload over the limit gets 413, no temp file left',
	    async () => {
		const r = await rawUpload({ total: LIMIT + 8 * MiB,
		    auth: alice.session.accessJwt });
		assert.equal(r.status, 413);
		assert.equal(r.json.error, 'PayloadTooLarge');
		assert.ok(r.sent <= LIMIT + 8 * MiB);
		let left = tmpFiles();
		for (let i = 0; i < 50 && left.length > 0; i++) {
			await sleep(100);
			left = tmpFiles();
		}
		assert.deepEqual(left, [], 'no temporary upload file remains');
		// the server is still fine
		const ok = await rawUpload({ total: 3 * CHUNK + 17,
		    auth: alice.session.accessJwt });
		assert.equal(ok.status, 200);
		assert.equal(ok.json.blob.size, 3 * CHUNK + 17);
		assert.deepEqual(tmpFiles(), []);
	});

	test('a Content-Length over the limit gets 413 before the body',
	    async () => {
		const r = await rawUpload({ total: LIMIT + 1, contentLength: true,
		    auth: alice.session.accessJwt, headersOnly: true });
		assert.equal(r.status, 413);
		assert.equal(r.sent, 0);
		assert.deepEqual(tmpFiles(), []);
	});

	test('credentials are refused before the body is read', async () => {
		// only headers are sent: the reply cannot wait for the body
		const none = await rawUpload({ total: 10 * MiB,
		    contentLength: true, headersOnly: true });
		assert.equal(none.status, 401);
		assert.equal(none.json.error, 'AuthMissing');
		const bad = await rawUpload({ total: 10 * MiB,
		    contentLength: true, headersOnly: true, auth: 'not.a.jwt' });
		assert.equal(bad.status, 400);
		assert.equal(bad.json.error, 'InvalidToken');
		assert.deepEqual(tmpFiles(), []);
	});

	test('a large upload does not sit in memory, and reads back whole',
	    async () => {
		const rss0 = procKiB('VmRSS');
		let hwmOk = true;
		try {
			// reset the peak (VmHWM) to the current RSS
			fs.writeFileSync(`/proc/${pds.pid}/clear_refs`, '5');
		} catch {
			hwmOk = false;
		}
		let peak = rss0;
		const sampler = setInterval(() => {
			const v = procKiB('VmRSS');
			if (v > peak)
				peak = v;
		}, 10);
		let r;
		try {
			r = await rawUpload({ total: BIG,
			    auth: alice.session.accessJwt });
		} finally {
			clearInterval(sampler);
		}
		if (hwmOk)
			peak = Math.max(peak, procKiB('VmHWM'));
		assert.equal(r.status, 200, JSON.stringify(r.json));
		assert.equal(r.json.blob.size, BIG);
		const growth = (peak - rss0) * 1024;
		assert.ok(growth < BIG / 4, `pdsd grew by ${growth} bytes ` +
		    `for a ${BIG}-byte upload`);
		assert.deepEqual(tmpFiles(), []);

		const cid = r.json.blob.ref.$link;
		const file = path.join(pds.dataDir, 'blocks', did, cid);
		assert.equal(fs.statSync(file).size, BIG);

		// referenced, it is served from the file with Content-Length
		await alice.com.atproto.repo.putRecord({ repo: did,
		    collection: 'com.example.blob.holder', rkey: 'big',
		    record: { $type: 'com.example.blob.holder', blob: {
		    $type: 'blob', ref: { $link: cid },
		    mimeType: r.json.blob.mimeType, size: BIG } } });
		const res = await fetch(`${pds.url}/xrpc/com.atproto.sync.` +
		    'getBlob?' + new URLSearchParams({ did, cid }));
		assert.equal(res.status, 200);
		assert.equal(res.headers.get('content-length'), String(BIG));
		const body = Buffer.from(await res.arrayBuffer());
		assert.equal(body.length, BIG);
		assert.equal(crypto.createHash('sha256').update(body)
		    .digest('hex'), r.sha256);
	});
});
