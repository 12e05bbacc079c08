// Firehose benchmark: N WebSocket subscribers on subscribeRepos while one
// account writes posts at a steady rate (open loop: write k is due at
// start + k/rate).  Reports delivery latency from the write's
// acknowledgement (its createRecord response) to the frame's arrival at
// each subscriber (p50/p99/max over every subscriber x write pair; a
// frame that beats the response counts 0 and is tallied apart), drops,
// and pdsd's CPU time and RSS (peak and end) from /proc.
//
//   B=build node bench/firehose_bench.mjs [subscribers] [writes/s] [seconds]
//
// Uses Node 22 (scripts/node.sh) and the interop tests' packages and
// lib.mjs (pdsd on a free loopback port with a local PLC directory).

import fs from 'node:fs';
import { createRequire } from 'node:module';

import { sleep, startPdsd } from '../tests/interop/lib.mjs';

const require = createRequire(new URL('../tests/interop/package.json',
    import.meta.url));
const WebSocket = require('ws');

const N = Number(process.argv[2] ?? 100);
const RATE = Number(process.argv[3] ?? 20);
const SECS = Number(process.argv[4] ?? 10);

function procStat(pid) {
	const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
	const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
	const ticks = Number(f[11]) + Number(f[12]);	/* utime + stime */
	const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	return {
		cpuS: ticks / 100,
		rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)[1]),
		hwmKb: Number(/VmHWM:\s+(\d+)/.exec(status)[1]),
	};
}

function pct(sorted, p) {
	if (sorted.length === 0)
		return null;
	return sorted[Math.min(sorted.length - 1,
	    Math.floor(p / 100 * sorted.length))];
}

// The rev of a #commit frame, read straight from its bytes: the text
// after the key "rev" (63 72 65 76 6d: a 13-character string).
function frameRev(buf) {
	const i = buf.indexOf(Buffer.from([0x63, 0x72, 0x65, 0x76, 0x6d]));
	return i < 0 ? null : buf.toString('latin1', i + 5, i + 18);
}

// every subscriber comes from 127.0.0.1: lift pdsd's caps on them
const pds = await startPdsd({ env: { PDS_LOG_LEVEL: 'warn',
	PDS_FIREHOSE_MAX_SUBSCRIBERS: '100000',
	PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP: '100000',
	PDS_MAX_CONNECTIONS: '150000', PDS_MAX_CONNECTIONS_PER_IP: '100000' } });
try {
	const acct = await (await fetch(`${pds.url}/xrpc/com.atproto.server.` +
	    'createAccount', { method: 'POST', headers: { 'content-type':
	    'application/json' }, body: JSON.stringify({ handle: 'bench.test',
	    email: 'bench@example.com', password: 'bench-password-1' }) }))
	    .json();

	const acked = new Map();	/* rev -> ack time (ms, hrtime) */
	const lat = [];
	let early = 0, frames = 0, closed = 0;
	const pendingEarly = new Map();	/* rev -> [arrival times] */
	const subs = [];
	for (let i = 0; i < N; i++) {
		const ws = new WebSocket(pds.url.replace(/^http/, 'ws') +
		    '/xrpc/com.atproto.sync.subscribeRepos');
		ws.on('message', (data) => {
			const t = performance.now();
			frames++;
			const rev = frameRev(data);
			if (rev === null)
				return;
			const a = acked.get(rev);
			if (a !== undefined)
				lat.push(t - a);
			else {
				const l = pendingEarly.get(rev) ?? [];
				l.push(t);
				pendingEarly.set(rev, l);
			}
		});
		ws.on('close', () => { closed++; });
		ws.on('error', () => {});
		subs.push(new Promise((r) => ws.once('open', r)));
		subs[i].ws = ws;
	}
	await Promise.all(subs);
	await sleep(200);

	const before = procStat(pds.pid);
	const t0 = performance.now();
	const total = RATE * SECS;
	let ok = 0, failed = 0;
	const inflight = [];
	for (let k = 0; k < total; k++) {
		const due = t0 + k * 1000 / RATE;
		const wait = due - performance.now();
		if (wait > 0)
			await sleep(wait);
		inflight.push(fetch(`${pds.url}/xrpc/com.atproto.repo.` +
		    'createRecord', { method: 'POST', headers: {
		    'content-type': 'application/json', authorization:
		    `Bearer ${acct.accessJwt}` }, body: JSON.stringify({
		    repo: acct.did, collection: 'app.bsky.feed.post', record: {
		    $type: 'app.bsky.feed.post', text: `bench ${k}`,
		    createdAt: new Date().toISOString() } }) }).then(async (r) => {
			const t = performance.now();
			const body = await r.json();
			if (r.status !== 200) {
				failed++;
				return;
			}
			ok++;
			const rev = body.commit.rev;
			acked.set(rev, t);
			const e = pendingEarly.get(rev);
			if (e) {
				early += e.length;
				for (const _ of e)
					lat.push(0);
				pendingEarly.delete(rev);
			}
		}).catch(() => { failed++; }));
	}
	await Promise.all(inflight);
	const elapsed = (performance.now() - t0) / 1000;
	await sleep(1000);
	const after = procStat(pds.pid);
	lat.sort((a, b) => a - b);
	const expected = ok * N;
	const res = {
		subscribers: N,
		rate: RATE,
		seconds: SECS,
		writes_ok: ok,
		writes_failed: failed,
		achieved_rate: +(ok / elapsed).toFixed(1),
		deliveries: lat.length,
		deliveries_expected: expected,
		missing: expected - lat.length,
		before_ack: early,
		latency_ms: {
			p50: +pct(lat, 50)?.toFixed(2),
			p99: +pct(lat, 99)?.toFixed(2),
			max: +(lat[lat.length - 1] ?? 0).toFixed(2),
		},
		frames_received: frames,
		disconnects: closed,
		server_cpu_s: +(after.cpuS - before.cpuS).toFixed(2),
		server_cpu_pct: +((after.cpuS - before.cpuS) / elapsed * 100)
		    .toFixed(1),
		server_rss_kb: after.rssKb,
		server_peak_rss_kb: after.hwmKb,
	};
	console.log(JSON.stringify(res, null, 2));
	for (const s of subs)
		s.ws.terminate();
} finally {
	await pds.stop();
}
