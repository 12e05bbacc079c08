// The firehose (com.atproto.sync.subscribeRepos) read by the official
// consumer, @atproto/sync's Firehose: it checks every message against the
// lexicon, verifies each commit's signature against the DID document in
// the local PLC directory and each op's MST proof (verifyProofs).  Beside
// it a raw WebSocket subscriber keeps the exact frames, on which this file
// runs the inversion check (undo the ops on the partial MST of the slice,
// compare with prevData) with @atproto/repo's MST.  Then: a replay from
// cursor=0 must give the same frames, a cursor ahead of the head gets
// FutureCursor, relays in PDS_CRAWLERS get one requestCrawl, and a
// subscriber that reads nothing is dropped with ConsumerTooSlow while
// pdsd's memory stays bounded.  On a server that already holds accounts
// and their events (PDS_INTEROP_SEED) the consumer starts after the last
// seq before this file's writes, and the cursor=0 replay must give the
// seeded log (in order, every event once) before this file's frames.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { AtpAgent } from '@atproto/api';
import { IdResolver } from '@atproto/identity';
import { decodeAll } from '@atproto/lex-cbor';
import { MST, MemoryBlockstore, readCarWithRoot } from '@atproto/repo';
import { Firehose } from '@atproto/sync';
import WebSocket from 'ws';

import { isExecutable, PDSCTL, PDSD, pdsStats, sleep, startPdsd,
    waitFor } from './lib.mjs';

const skip = isExecutable(PDSD) && isExecutable(PDSCTL) ? false :
    'pdsd or pdsctl is not built yet';
const SUB = '/xrpc/com.atproto.sync.subscribeRepos';

let pds;
let relay;
// The firehose before this file wrote: its last seq and its event count
// (both 0 on an empty server).
let baseSeq, baseEvents;
const crawls = [];

before(async () => {
	if (skip)
		return;
	relay = http.createServer((req, res) => {
		let body = '';
		req.on('data', (d) => { body += d; });
		req.on('end', () => {
			crawls.push({ url: req.url, method: req.method, body });
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{}');
		});
	});
	await new Promise((r) => relay.listen(0, '127.0.0.1', r));
	pds = await startPdsd({ env: {
		PDS_CRAWLERS: `http://127.0.0.1:${relay.address().port}`,
		PDS_MAX_SUBSCRIPTION_BUFFER: '50',
		PDS_LOG_LEVEL: 'info',
	},
	// Under AddressSanitizer freed memory waits in a quarantine (256 MB by
	// default) before reuse, which would hide whether pdsd's own buffers
	// stay bounded; keep it small so the RSS check below means the same
	// in both builds.  Other builds ignore the variable.
	procEnv: { ASAN_OPTIONS: [process.env.ASAN_OPTIONS,
	    'quarantine_size_mb=4'].filter(Boolean).join(':') } });
	const st = await pdsStats(pds);
	baseSeq = st.firehose.lastSeq;
	baseEvents = st.firehose.events;
});

after(async () => {
	if (pds)
		await pds.stop();
	if (relay)
		await new Promise((r) => relay.close(r));
});

function wsUrl(query = '') {
	return pds.url.replace(/^http/, 'ws') + SUB + query;
}

// A raw subscriber: every frame as { seq, t, header, body, bytes }.
function rawSubscriber(query) {
	const ws = new WebSocket(wsUrl(query));
	const frames = [];
	let closed = null;
	const opened = new Promise((resolve, reject) => {
		ws.once('open', resolve);
		ws.once('error', reject);
	});
	ws.on('message', (data) => {
		const bytes = new Uint8Array(data);
		const [header, body] = [...decodeAll(bytes)];
		frames.push({ seq: body.seq, t: header.t, op: header.op, header,
		    body, bytes });
	});
	ws.on('close', (code, reason) => {
		closed = { code, reason: reason.toString() };
	});
	return { ws, frames, opened, closed: () => closed };
}

function adminHeaders() {
	return { authorization: 'Basic ' +
	    Buffer.from(`admin:${pds.adminPassword}`).toString('base64') };
}

async function adminStatus(did, body) {
	const res = await fetch(`${pds.url}/xrpc/com.atproto.admin.` +
	    'updateSubjectStatus', {
		method: 'POST',
		headers: { ...adminHeaders(), 'content-type': 'application/json' },
		body: JSON.stringify({ subject: {
		    $type: 'com.atproto.admin.defs#repoRef', did }, ...body }),
	});
	const text = await res.text();
	assert.equal(res.status, 200, `updateSubjectStatus: ${text}`);
}

// Undo a #commit's ops on the slice's partial tree; the root must be
// prevData (atproto-notes §4.6).
async function invert(body) {
	const car = await readCarWithRoot(body.blocks);
	assert.equal(car.root.toString(), body.commit.toString(),
	    'the slice\'s root is the commit');
	const commitBytes = car.blocks.get(car.root);
	const [commit] = [...decodeAll(commitBytes)];
	assert.equal(commit.rev, body.rev, 'rev matches the signed commit');
	assert.equal(commit.did, body.repo, 'repo matches the signed commit');
	let mst = MST.load(new MemoryBlockstore(car.blocks), commit.data);
	for (const op of body.ops) {
		if (op.action === 'create') {
			assert.equal(op.prev, undefined, 'no prev on create');
			mst = await mst.delete(op.path);
		} else if (op.action === 'update') {
			mst = await mst.update(op.path, op.prev);
		} else {
			assert.equal(op.cid, null, 'delete has cid null');
			mst = await mst.add(op.path, op.prev);
		}
	}
	const root = await mst.getPointer();
	assert.equal(root.toString(), body.prevData.toString(),
	    `inversion of seq ${body.seq} gives prevData`);
}

const state = {};

test('the official consumer reads the whole account lifecycle without ' +
    'errors', { skip, timeout: 120000 }, async () => {
	const errors = [];
	const events = [];
	const idResolver = new IdResolver({ plcUrl: pds.plc.url,
	    fetch: globalThis.fetch });
	// The consumer's connection is not awaited (start() only returns at
	// the end), so without a cursor it would miss whatever is sequenced
	// before its socket opens: under load, the account's first events.
	// It starts after the last seq before this test wrote (cursor 0, the
	// whole log, on a fresh pdsd); after a reconnect it resumes after
	// the last event it handled.
	let handledSeq = baseSeq;
	const firehose = new Firehose({
		service: pds.url.replace(/^http/, 'ws'),
		idResolver,
		unauthenticatedHandles: true,
		getCursor: async () => handledSeq,
		handleEvent: async (evt) => {
			events.push(evt);
			handledSeq = Math.max(handledSeq, evt.seq);
		},
		onError: (err) => { errors.push(err); },
	});
	const live = rawSubscriber('');
	await live.opened;
	const fhRun = firehose.start();

	const agent = new AtpAgent({ service: pds.url });
	await agent.createAccount({ handle: 'alice.test',
	    email: 'alice@example.com', password: 'alice-password-1' });
	const did = agent.session.did;
	state.did = did;
	const repo = agent.com.atproto.repo;
	const uris = [];
	for (let i = 0; i < 3; i++) {
		const r = await repo.createRecord({ repo: did,
		    collection: 'app.bsky.feed.post', record: { $type:
		    'app.bsky.feed.post', text: `post ${i}`,
		    createdAt: new Date().toISOString() } });
		uris.push(r.data.uri);
	}
	const rkey0 = uris[0].split('/').pop();
	await repo.putRecord({ repo: did, collection: 'app.bsky.feed.post',
	    rkey: rkey0, record: { $type: 'app.bsky.feed.post',
	    text: 'post 0, edited', createdAt: new Date().toISOString() } });
	await repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post',
	    rkey: uris[1].split('/').pop() });
	await repo.applyWrites({ repo: did, writes: [
		{ $type: 'com.atproto.repo.applyWrites#create',
		  collection: 'app.bsky.actor.profile', rkey: 'self',
		  value: { $type: 'app.bsky.actor.profile',
		  displayName: 'Alice' } },
		{ $type: 'com.atproto.repo.applyWrites#delete',
		  collection: 'app.bsky.feed.post',
		  rkey: uris[2].split('/').pop() },
	] });
	await agent.com.atproto.identity.updateHandle({ handle: 'alice2.test' });
	await adminStatus(did, { deactivated: { applied: true } });
	await adminStatus(did, { deactivated: { applied: false } });
	await adminStatus(did, { takedown: { applied: true, ref: 'test' } });
	await adminStatus(did, { takedown: { applied: false } });

	// the head: a subscriber with cursor 0 sees everything up to it
	const headRes = await fetch(`${pds.url}/xrpc/com.atproto.sync.` +
	    `getLatestCommit?did=${did}`);
	assert.equal(headRes.status, 200);
	await waitFor(() => live.frames.some((f) => f.t === '#account' &&
	    f.body.active === true && live.frames.filter((g) =>
	    g.t === '#account').length >= 5), 10000, 'the last #account');
	const lastSeq = live.frames[live.frames.length - 1].seq;
	state.lastSeq = lastSeq;
	state.liveFrames = live.frames;
	await waitFor(() => events.some((e) => e.seq === lastSeq), 20000,
	    'the official consumer to reach the head');
	await firehose.destroy();
	await fhRun;
	live.ws.close();

	assert.deepEqual(errors.map((e) => `${e.message}: ${e.cause?.message}`),
	    [], 'no validation, parse or verification errors');
	// nothing but this test wrote: every event is its account's, all
	// after the seq the server had before
	assert.deepEqual([...new Set(events.map((e) => e.did))], [did]);
	assert.deepEqual([...new Set(live.frames.map((f) => f.body.did ??
	    f.body.repo))], [did]);
	assert.ok(events[0].seq > baseSeq, `${events[0].seq} after ${baseSeq}`);

	// what the consumer saw, in order
	const kinds = events.map((e) => e.event === 'account' ?
	    `account:${e.active}:${e.status ?? ''}` : e.event);
	assert.deepEqual(kinds.slice(0, 2), ['identity', 'account:true:'],
	    'creation starts with #identity then #account');
	const creates = events.filter((e) => e.event === 'create');
	assert.equal(creates.length, 4, 'three posts and a profile');
	assert.equal(events.filter((e) => e.event === 'update').length, 1);
	assert.equal(events.filter((e) => e.event === 'delete').length, 2);
	assert.equal(events.find((e) => e.event === 'update').record.text,
	    'post 0, edited');
	assert.ok(events.some((e) => e.event === 'identity' &&
	    e.didDocument?.alsoKnownAs?.includes('at://alice2.test')),
	    'the handle change came with the new DID document');
	const statuses = kinds.filter((k) => k.startsWith('account:'));
	assert.deepEqual(statuses, ['account:true:', 'account:false:deactivated',
	    'account:true:', 'account:false:takendown', 'account:true:']);
	assert.ok(events.some((e) => e.event === 'sync'), 'a #sync event');

	// every frame: strictly increasing seq, and commits invert
	let prev = baseSeq;
	let commits = 0;
	for (const f of live.frames) {
		assert.equal(f.op, 1);
		assert.ok(f.seq > prev, `seq ${f.seq} after ${prev}`);
		prev = f.seq;
		if (f.t === '#commit') {
			assert.equal(f.body.rebase, false);
			assert.equal(f.body.tooBig, false);
			assert.deepEqual(f.body.blobs, []);
			if (f.body.since === null) {
				assert.equal(f.body.prevData, undefined);
				continue;
			}
			await invert(f.body);
			commits++;
		}
	}
	assert.equal(commits, 6, 'six commits after the genesis one inverted');
	const handleEvt = live.frames.find((f) => f.t === '#identity' &&
	    f.body.handle === 'alice2.test');
	assert.ok(handleEvt, '#identity with the new handle');
});

// A seeded server (PDS_INTEROP_SEED) may hold hundreds of megabytes of
// log for a replay from cursor 0 to go through.
const REPLAY_WAIT_MS = process.env.PDS_INTEROP_SEED ? 240000 : 30000;

// A replay from cursor up to state.lastSeq: its frames, checked to be
// the live run's frames byte for byte after what came before baseSeq.
async function replay(cursor) {
	const r = rawSubscriber(`?cursor=${cursor}`);
	await r.opened;
	await waitFor(() => r.frames.some((f) => f.seq >= state.lastSeq),
	    REPLAY_WAIT_MS, 'the replay to reach the head');
	r.ws.close();
	const frames = r.frames.filter((f) => f.seq <= state.lastSeq);
	const mine = frames.filter((f) => f.seq > baseSeq);
	const live = state.liveFrames.filter((f) => f.seq <= state.lastSeq);
	assert.equal(mine.length, live.length);
	for (let i = 0; i < live.length; i++)
		assert.deepEqual(Buffer.from(mine[i].bytes),
		    Buffer.from(live[i].bytes), `frame seq ${live[i].seq}`);
	return frames;
}

test('replay from cursor=0 gives the log before, then the same frames ' +
    'as the live run', { skip, timeout: REPLAY_WAIT_MS + 30000 },
    async () => {
	assert.ok(state.liveFrames, 'the first test ran');
	const frames = await replay(0);
	// what was there before: every event once, in order (none on an
	// empty server, where the replay is exactly the live run)
	const old = frames.filter((f) => f.seq <= baseSeq);
	assert.equal(old.length, baseEvents);
	let prev = 0;
	for (const f of old) {
		assert.equal(f.op, 1, `frame seq ${f.seq}`);
		assert.ok(f.seq > prev, `seq ${f.seq} after ${prev}`);
		prev = f.seq;
	}
	if (baseEvents > 0)
		assert.equal(prev, baseSeq);
});

test('replay from the seq before the writes gives exactly the live run',
    { skip, timeout: 30000 }, async () => {
	assert.ok(state.liveFrames, 'the first test ran');
	const frames = await replay(baseSeq);
	assert.equal(frames.length, state.liveFrames.filter((f) =>
	    f.seq <= state.lastSeq).length, 'nothing before the cursor');
});

test('a cursor past the head: FutureCursor, then close 1008',
    { skip, timeout: 30000 }, async () => {
	const r = rawSubscriber(`?cursor=${(state.lastSeq ?? 0) + 1000}`);
	await r.opened;
	await waitFor(() => r.closed() !== null, 5000, 'the close');
	assert.equal(r.frames.length, 1);
	assert.equal(r.frames[0].op, -1);
	assert.deepEqual(r.frames[0].body, { error: 'FutureCursor',
	    message: 'Cursor in the future.' });
	assert.equal(r.closed().code, 1008);
});

test('not a WebSocket, or a bad cursor: 400 before any upgrade',
    { skip }, async () => {
	const res = await fetch(`${pds.url}${SUB}`);
	assert.equal(res.status, 400);
	assert.equal((await res.json()).error, 'InvalidRequest');
	// the ws client reports the refused handshake with its status
	const ws = new WebSocket(wsUrl('?cursor=abc'));
	const status = await new Promise((resolve) => {
		ws.on('unexpected-response', (req, r) => resolve(r.statusCode));
		ws.on('open', () => resolve('opened'));
		ws.on('error', () => {});
	});
	ws.terminate();
	assert.equal(status, 400);
});

test('relays in PDS_CRAWLERS get one requestCrawl', { skip }, async () => {
	await waitFor(() => crawls.length > 0, 5000, 'a requestCrawl');
	await sleep(500);
	assert.equal(crawls.length, 1, 'at most once per 20 minutes');
	assert.equal(crawls[0].method, 'POST');
	assert.equal(crawls[0].url, '/xrpc/com.atproto.sync.requestCrawl');
	assert.deepEqual(JSON.parse(crawls[0].body), { hostname: 'localhost' });
});

function rssKb(pid) {
	const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/VmRSS:\s+(\d+)/.exec(s)[1]);
}

test('a subscriber that reads nothing gets ConsumerTooSlow; memory stays ' +
    'bounded', { skip, timeout: 120000 }, async () => {
	const agent = new AtpAgent({ service: pds.url });
	await agent.createAccount({ handle: 'bulk.test',
	    email: 'bulk@example.com', password: 'bulk-password-1' });
	const did = agent.session.did;
	const r = rawSubscriber('');
	await r.opened;
	r.ws._socket.pause();	// read nothing from here on
	const rss0 = rssKb(pds.pid);
	const text = 'x'.repeat(100000);
	let maxRss = rss0;
	// Up to 40 MB of events: far past both sockets' buffers and 50
	// frames.  pdsd logs the drop; then read again (within its grace
	// period) to see the error frame and the close.
	const dropped = () => fs.readFileSync(pds.logFile, 'utf8')
	    .includes('too slow at seq');
	let i = 0;
	for (; i < 400 && !dropped(); i++) {
		await agent.com.atproto.repo.createRecord({ repo: did,
		    collection: 'com.example.bulk', validate: false,
		    record: { $type: 'com.example.bulk', text, i } });
		if (i % 10 === 0)
			maxRss = Math.max(maxRss, rssKb(pds.pid));
	}
	maxRss = Math.max(maxRss, rssKb(pds.pid));
	assert.ok(dropped(), `dropped after ${i} writes of 100 kB`);
	r.ws._socket.resume();
	await waitFor(() => r.closed() !== null, 20000, 'the close');
	const last = r.frames[r.frames.length - 1];
	assert.equal(last.op, -1, 'the last frame is an error');
	assert.equal(last.body.error, 'ConsumerTooSlow');
	assert.equal(r.closed().code, 1008);
	assert.ok(r.frames.length < 200, `dropped early (${r.frames.length} ` +
	    'frames got through)');
	// megabytes went by; the server kept at most its buffer's worth
	assert.ok(maxRss - rss0 < 48 * 1024, `RSS grew ${maxRss - rss0} kB ` +
	    `over ${i} writes`);
	console.log(`# ConsumerTooSlow after ${i} writes of 100 kB; RSS ` +
	    `${rss0} -> ${maxRss} kB; ${r.frames.length} frames delivered`);
});
