// The scale run (bench/run.sh --scale): pdsd and the reference PDS on a
// seeded server, the server pinned to CPU 0 and the load on CPU 1.
//
// For each target and size (pdsd: --accounts/--records/--blob-mb and the
// small server --small-accounts/--small-records; the reference:
// --ref-accounts/--ref-records/--ref-blob-mb and the same small server),
// bench/seed.mjs fills a fresh server through its public write path, or
// a kept one is reused (--keep DIR: DIR/<target>-<accounts>-<records>/
// holds the data directory, the settings and the accounts).  Then the
// server restarts pinned and the run measures:
//
//   - cold start to the first healthy answer;
//   - resident memory idle (after the restart), under load and its peak,
//     sampled every 200 ms, with VmHWM at the end;
//   - createRecord, getRecord, listRecords (wrk, --conns, --reps runs of
//     --duration s): 80% of the requests to the 10 largest accounts,
//     20% to 90 accounts of the long tail; getRepo of the largest repo,
//     which no scenario writes to, so that a kept server's stays at its
//     seeded size (20,000 records at --size large), in MB/s and in
//     repos/s (MB/s over the size of its CAR: wrk counts only the
//     requests that finished within the run);
//   - disk: the data directory (blobs included), and per 1,000 records;
//   - the firehose: --fh-replayers consumers replaying from cursor 0
//     while bench/fhsub's --fh-subs live subscribers receive --fh-rate
//     writes/s;
//   - pdsd only: `pdsctl backup` and `pdsctl export --all` times and
//     sizes;
//   - pdsd only: the pages of the write-ahead log per createRecord, by
//     table (scenarioWalPages()).
//
// createRecord adds to a kept server: delete its directory to seed it
// afresh.  With --keep, a new PLC directory runs each time; the seeded
// DIDs do not resolve there, which none of these scenarios needs.
// Every sample records the 1-minute load average.  Writes
// bench/results/<date>-scale.{json,md}: medians per figure and every raw
// sample.  Run it on an idle machine: the figures are meant for
// docs/sizing.md.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort, isExecutable, postPlcOps, readTail, sleep, startPlc }
    from '../tests/interop/lib.mjs';
import { seed } from './seed.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const BUILD = path.resolve(ROOT, process.env.B || 'build');
const PDSD = path.join(BUILD, 'bin', 'pdsd');
const PDSCTL = path.join(BUILD, 'bin', 'pdsctl');
const FHSUB = path.join(BUILD, 'bench', 'fhsub');
const FHREPLAY = path.join(HERE, 'fhreplay.mjs');
const REF = path.join(HERE, 'ref-pds.mjs');
const WRK_LUA = path.join(HERE, 'wrk.lua');
const BYPASS_KEY = randomBytes(16).toString('hex');
process.env.BENCH_RATELIMIT_BYPASS = BYPASS_KEY;
const SERVER_CPU = '0';
const CLIENT_CPU = os.cpus().length > 1 ? '1' : '0';
const COLL = 'app.bsky.feed.post';

function usage(msg) {
	if (msg)
		process.stderr.write(`scale: ${msg}\n`);
	process.stderr.write(`usage: bench/run.sh --scale [options]
  --accounts N --records N --blob-mb N     pdsd's seeded server (10000, 1000000, 2048)
  --ref-accounts N --ref-records N --ref-blob-mb N   the reference's (1000, 100000, 200)
  --small-accounts N --small-records N     the small server of both (100, 10000)
  --targets pdsd,ref  --sizes large,small  --reps N (3)  --duration S (10)
  --conns N (32)  --fh-subs N (1000)  --fh-replayers N (10)  --fh-rate N (100)
  --fh-duration S (10)  --keep DIR  --out DIR  --no-save
`);
	process.exit(msg ? 2 : 0);
}

function parseArgs(argv) {
	const o = { accounts: 10000, records: 1000000, blobMb: 2048,
		refAccounts: 1000, refRecords: 100000, refBlobMb: 200,
		smallAccounts: 100, smallRecords: 10000,
		targets: ['pdsd', 'ref'], sizes: ['large', 'small'], reps: 3,
		duration: 10, conns: 32, fhSubs: 1000, fhReplayers: 10,
		fhRate: 100, fhDuration: 10, keep: null,
		out: path.join(HERE, 'results'), save: true };
	const num = { '--accounts': 'accounts', '--records': 'records',
		'--blob-mb': 'blobMb', '--ref-accounts': 'refAccounts',
		'--ref-records': 'refRecords', '--ref-blob-mb': 'refBlobMb',
		'--small-accounts': 'smallAccounts',
		'--small-records': 'smallRecords', '--reps': 'reps',
		'--duration': 'duration', '--conns': 'conns',
		'--fh-subs': 'fhSubs', '--fh-replayers': 'fhReplayers',
		'--fh-rate': 'fhRate', '--fh-duration': 'fhDuration' };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const val = () => {
			if (i + 1 >= argv.length)
				usage(`${a} needs a value`);
			return argv[++i];
		};
		if (num[a] !== undefined) {
			o[num[a]] = Number(val());
			if (!Number.isFinite(o[num[a]]))
				usage(`${a} takes a number`);
			continue;
		}
		switch (a) {
		case '--scale': break;
		case '--targets': o.targets = val().split(','); break;
		case '--sizes': o.sizes = val().split(','); break;
		case '--keep': o.keep = path.resolve(val()); break;
		case '--out': o.out = path.resolve(val()); break;
		case '--no-save': o.save = false; break;
		case '-h': case '--help': usage(); break;
		default: usage(`unknown option ${a}`);
		}
	}
	return o;
}

const opt = parseArgs(process.argv.slice(2));
const T0 = Date.now();

function say(msg) {
	const t = ((Date.now() - T0) / 1000).toFixed(0).padStart(5);
	process.stderr.write(`[${t}s] ${msg}\n`);
}

function median(xs) {
	const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x))
	    .sort((a, b) => a - b);
	if (v.length === 0)
		return null;
	const m = Math.floor(v.length / 2);
	return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function run(file, args, { env, timeoutMs = 600000 } = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(file, args, { cwd: ROOT,
		    env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '', err = '';
		child.stdout.setEncoding('utf8');
		child.stderr.setEncoding('utf8');
		child.stdout.on('data', (d) => { out += d; });
		child.stderr.on('data', (d) => { err += d; });
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		child.on('error', (e) => {
			clearTimeout(timer);
			reject(e);
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, stdout: out, stderr: err });
		});
	});
}

function healthOnce(url) {
	return new Promise((resolve) => {
		const req = http.get(`${url}/xrpc/_health`,
		    { agent: false, timeout: 2000 }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode));
		});
		req.on('error', () => resolve(0));
		req.on('timeout', () => {
			req.destroy();
			resolve(0);
		});
	});
}

function mem(pid) {
	try {
		const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)[1]) * 1024,
			hwm: Number(/VmHWM:\s+(\d+)/.exec(s)[1]) * 1024 };
	} catch {
		return { rss: null, hwm: null };
	}
}

function diskBytes(dir) {
	let n = 0;
	const walk = (d) => {
		for (const e of fs.readdirSync(d, { withFileTypes: true })) {
			const p = path.join(d, e.name);
			if (e.isDirectory())
				walk(p);
			else
				n += fs.lstatSync(p).blocks * 512;
		}
	};
	walk(dir);
	return n;
}

// ---- servers -------------------------------------------------------

let plc = null;

function cleanEnv() {
	const e = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (!k.startsWith('PDS_') && !k.startsWith('LOG_'))
			e[k] = v;
	}
	return e;
}

// A new server's settings (kept beside its data for --keep).
function newSettings(kind, dir) {
	const s = {
		PDS_HOSTNAME: 'localhost',
		PDS_DEV_MODE: 'true',
		PDS_INVITE_REQUIRED: 'false',
		PDS_JWT_SECRET: randomBytes(32).toString('hex'),
		PDS_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
		PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX:
		    randomBytes(32).toString('hex'),
		PDS_SERVICE_HANDLE_DOMAINS: '.test',
		PDS_DATA_DIRECTORY: path.join(dir, 'data'),
		PDS_RATE_LIMITS_ENABLED: 'true',
		PDS_RATE_LIMIT_BYPASS_KEY: BYPASS_KEY,
	};
	if (kind === 'pdsd') {
		Object.assign(s, {
			PDS_BIND_ADDRESS: '127.0.0.1',
			PDS_LOG_LEVEL: 'warn',
			PDS_ADMIN_SOCKET: path.join(dir, 'admin.sock'),
			PDS_FIREHOSE_MAX_SUBSCRIBERS: '20000',
			PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP: '20000',
			PDS_MAX_CONNECTIONS: '30000',
			PDS_MAX_CONNECTIONS_PER_IP: '20000',
		});
	} else {
		s.PDS_BLOBSTORE_DISK_LOCATION = path.join(dir, 'data', 'blocks');
	}
	return s;
}

// Start the server of t (pinned when asked); resolves { pid, url,
// coldMs, stop }.
async function startServer(t, pin) {
	const port = await freePort();
	const s = { ...t.settings, PDS_PORT: String(port),
		PDS_DID_PLC_URL: t.kind === 'pdsd' ? plc.url : plc.localhostUrl,
		// the bypass key of this run
		PDS_RATE_LIMIT_BYPASS_KEY: BYPASS_KEY };
	fs.mkdirSync(s.PDS_DATA_DIRECTORY, { recursive: true, mode: 0o700 });
	const log = fs.openSync(path.join(t.dir, `${t.kind}.log`), 'a');
	let file, args, env;
	if (t.kind === 'pdsd') {
		const envFile = path.join(t.dir, 'pds.env');
		fs.writeFileSync(envFile, Object.entries(s).map(([k, v]) =>
		    `${k}=${v}\n`).join(''), { mode: 0o600 });
		[file, args, env] = [PDSD, ['-c', envFile], cleanEnv()];
	} else {
		[file, args, env] = [process.execPath, [REF],
			{ ...cleanEnv(), ...s, NODE_ENV: 'production',
			    UV_USE_IO_URING: '0' }];
	}
	if (pin) {
		args = ['-c', SERVER_CPU, file, ...args];
		file = 'taskset';
	}
	const t0 = performance.now();
	const child = spawn(file, args, { cwd: t.dir, env,
	    stdio: ['ignore', log, log] });
	fs.closeSync(log);
	const url = `http://127.0.0.1:${port}`;
	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null)
			return;
		const exited = new Promise((r) => child.once('exit', r));
		child.kill('SIGTERM');
		const late = sleep(20000).then(() => 'late');
		if (await Promise.race([exited, late]) === 'late') {
			child.kill('SIGKILL');
			await exited;
		}
	};
	for (;;) {
		if (child.exitCode !== null || child.signalCode !== null)
			throw new Error(`${t.kind} exited:\n` + readTail(
			    path.join(t.dir, `${t.kind}.log`)));
		if (await healthOnce(url) === 200)
			break;
		if (performance.now() - t0 > 120000) {
			await stop();
			throw new Error(`${t.kind}: no healthy answer`);
		}
		await sleep(2);
	}
	// SIGKILL: the server's files stay as they were written
	const kill = async () => {
		if (child.exitCode !== null || child.signalCode !== null)
			return;
		const exited = new Promise((r) => child.once('exit', r));
		child.kill('SIGKILL');
		await exited;
	};
	return { pid: child.pid, url, coldMs: performance.now() - t0, stop,
		kill };
}

// ---- seeding, or a kept server -------------------------------------

// The PLC directory lives in memory and each run starts a new one, so
// the seeding run saves every account's signed operations (plc-ops.jsonl)
// and a run that reuses the server posts them to its PLC again: the DIDs
// resolve as they did (export --all needs their documents).
async function eachLimit(items, n, fn) {
	let i = 0;
	await Promise.all(Array.from({ length: n }, async () => {
		while (i < items.length)
			await fn(items[i++]);
	}));
}

async function savePlcOps(dir) {
	const accts = fs.readFileSync(path.join(dir, 'accounts.jsonl'), 'utf8')
	    .split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
	const lines = [];
	await eachLimit(accts, 16, async (a) => {
		const r = await fetch(`${plc.url}/${a.did}/log`);
		if (!r.ok)
			throw new Error(`PLC log of ${a.did}: ${r.status}`);
		lines.push(JSON.stringify({ did: a.did, ops: await r.json() }));
	});
	fs.writeFileSync(path.join(dir, 'plc-ops.jsonl'), lines.join('\n') +
	    '\n');
}

async function replayPlcOps(dir) {
	const file = path.join(dir, 'plc-ops.jsonl');
	if (!fs.existsSync(file))
		return false;
	await postPlcOps(plc.url, file, 16);
	return true;
}

async function prepare(kind, size) {
	const [accounts, records, blobMb] = size === 'small' ?
	    [opt.smallAccounts, opt.smallRecords, 0] : kind === 'pdsd' ?
	    [opt.accounts, opt.records, opt.blobMb] :
	    [opt.refAccounts, opt.refRecords, opt.refBlobMb];
	const name = `${kind}-${accounts}-${records}`;
	const dir = opt.keep ? path.join(opt.keep, name) :
	    fs.mkdtempSync(path.join(os.tmpdir(), `pds-scale-${name}-`));
	const t = { kind, size, name, dir, accounts, records, blobMb };
	const done = path.join(dir, 'seeded.json');
	if (opt.keep && fs.existsSync(done)) {
		t.settings = JSON.parse(fs.readFileSync(path.join(dir,
		    'settings.json'), 'utf8'));
		t.seed = JSON.parse(fs.readFileSync(done, 'utf8'));
		say(`${name}: reusing the kept server in ${dir}`);
		t.plcReplayed = await replayPlcOps(dir);
	} else {
		fs.rmSync(path.join(dir, 'data'), { recursive: true,
		    force: true });
		fs.mkdirSync(dir, { recursive: true });
		t.settings = newSettings(kind, dir);
		fs.writeFileSync(path.join(dir, 'settings.json'),
		    JSON.stringify(t.settings), { mode: 0o600 });
		const srv = await startServer(t, false);
		say(`${name}: seeding ${accounts} accounts, ${records} ` +
		    `records, ${blobMb} MB of blobs`);
		try {
			t.seed = await seed({ url: srv.url, accounts, records,
			    blobMb, conc: 8, name: 'm', bypass: BYPASS_KEY,
			    out: path.join(dir, 'accounts.jsonl'),
			    log: (m) => say(`  ${name}: ${m}`) });
		} finally {
			await srv.stop();
		}
		// the seeded size, for disk per 1,000 records: a kept server
		// grows with every run's createRecord
		t.seed.disk_bytes = diskBytes(t.settings.PDS_DATA_DIRECTORY);
		await savePlcOps(dir);
		fs.writeFileSync(done, JSON.stringify(t.seed));
		say(`${name}: seeded in ${t.seed.secs} s`);
	}
	t.accts = fs.readFileSync(path.join(dir, 'accounts.jsonl'), 'utf8')
	    .split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
	return t;
}

// ---- the measurements ----------------------------------------------

const results = { started: new Date().toISOString(), options: opt,
	env: { cpus: os.cpus().length, model: os.cpus()[0]?.model,
		mem_bytes: os.totalmem(), kernel: os.release() },
	servers: {}, samples: [], na: {} };

function sample(t, scenario, fields) {
	results.samples.push({ server: t.name, target: t.kind, size: t.size,
		scenario, ...fields, load1: +os.loadavg()[0].toFixed(2) });
}

function markNa(t, scenario, why) {
	results.na[`${t.name}/${scenario}`] = why;
	say(`  ${t.name} ${scenario}: n/a (${why})`);
}

async function xrpcPost(url, nsid, body, token) {
	const headers = { 'content-type': 'application/json',
		'x-ratelimit-bypass': BYPASS_KEY };
	if (token)
		headers.authorization = `Bearer ${token}`;
	const r = await fetch(`${url}/xrpc/${nsid}`, { method: 'POST',
	    headers, body: JSON.stringify(body) });
	const j = await r.json().catch(() => null);
	if (r.status !== 200)
		throw new Error(`${nsid}: HTTP ${r.status} ${j?.error ?? ''} ` +
		    `${j?.message ?? ''}`);
	return j;
}

async function xrpcGet(url, nsid, params) {
	const r = await fetch(`${url}/xrpc/${nsid}?` +
	    new URLSearchParams(params), { headers:
	    { 'x-ratelimit-bypass': BYPASS_KEY } });
	if (r.status !== 200)
		throw new Error(`${nsid}: HTTP ${r.status}`);
	return r.json();
}

// 10 active accounts (the largest) and 90 of the long tail, signed in,
// with some of their record keys.
async function users(t, url) {
	const bySize = [...t.accts].sort((a, b) => b.records - a.records);
	const active = bySize.slice(0, 10);
	const rest = bySize.slice(10);
	const tail = [];
	for (let i = 0; i < 90 && rest.length > 0; i++)
		tail.push(rest[Math.floor(i * rest.length / 90)]);
	const out = { active: [], tail: [] };
	for (const [k, list] of [['active', active], ['tail', tail]]) {
		for (const a of list) {
			const s = await xrpcPost(url,
			    'com.atproto.server.createSession',
			    { identifier: a.handle, password: a.password });
			// the oldest: seeded records, whatever runs wrote
			const l = await xrpcGet(url,
			    'com.atproto.repo.listRecords',
			    { repo: a.did, collection: COLL, limit: 100,
				reverse: 'true' });
			out[k].push({ ...a, token: s.accessJwt,
				rkeys: l.records.map((r) => r.uri.split('/')
				    .pop()) });
		}
	}
	// the copy in out.active: writers() tells it apart by identity
	out.largest = out.active[0];
	return out;
}

// The active accounts the scenarios write to: all but getRepo's, so that
// a kept server's repo stays at its seeded size (all, if it is the only
// one).
function writers(u) {
	const w = u.active.filter((a) => a !== u.largest);
	return w.length > 0 ? w : u.active;
}

// 100 request lines, 80 for the active accounts and 20 for the tail.
// Reads go to the seeded records (the oldest, listed from the oldest
// on), so that what they read does not depend on what earlier runs
// wrote: a kept server's newest posts are the short ones createRecord
// adds, a fresh one's are seeded posts with facets and images.
function lines(u, scenario) {
	const g = (p) => `GET\t${p}\t-\t-`;
	const enc = encodeURIComponent;
	const active = scenario === 'createRecord' ? writers(u) : u.active;
	const pick = (i) => (i % 5 === 4 && u.tail.length > 0 ?
	    u.tail[(i * 7) % u.tail.length] : active[i % active.length]);
	const out = [];
	for (let i = 0; i < 100; i++) {
		const a = pick(i);
		const k = a.rkeys.length > 0 ? a.rkeys[(i * 13) %
		    a.rkeys.length] : null;
		switch (scenario) {
		case 'createRecord':
			out.push(`POST\t/xrpc/com.atproto.repo.createRecord\t` +
			    `${a.token}\t${JSON.stringify({ repo: a.did,
				collection: COLL, record: { $type: COLL,
				text: `scale post ${i} @SEQ@`,
				createdAt: new Date().toISOString() } })}`);
			break;
		case 'getRecord':
			if (k)
				out.push(g(`/xrpc/com.atproto.repo.getRecord?` +
				    `repo=${enc(a.did)}&collection=${COLL}` +
				    `&rkey=${k}`));
			break;
		case 'listRecords':
			out.push(g(`/xrpc/com.atproto.repo.listRecords?repo=` +
			    `${enc(a.did)}&collection=${COLL}&limit=50` +
			    '&reverse=true' + (k && i % 2 ? `&cursor=${k}` :
			    '')));
			break;
		case 'getRepo':
			return [g(`/xrpc/com.atproto.sync.getRepo?did=` +
			    `${enc(u.largest.did)}`)];
		default:
			throw new Error(scenario);
		}
	}
	return out;
}

// The size of a repo's CAR.  getRepo's throughput is its bytes over
// this: wrk counts the requests that finished in the run, so a server
// that takes seconds per CAR at c=32 shows fewer of them than it sent,
// and its bytes of the unfinished ones count only in MB/s.
async function carBytes(url, did) {
	const r = await fetch(`${url}/xrpc/com.atproto.sync.getRepo?did=` +
	    encodeURIComponent(did), { headers:
	    { 'accept-encoding': 'identity' } });
	if (!r.ok)
		throw new Error(`getRepo: ${r.status}`);
	return (await r.arrayBuffer()).byteLength;
}

async function wrk(url, file, conns, secs) {
	const r = await run('taskset', ['-c', CLIENT_CPU, 'wrk', '-t2',
		`-c${conns}`, `-d${secs}s`, '--timeout', '10s', '-s', WRK_LUA,
		url], { env: { ...process.env, BENCH_REQUESTS: file,
		    BENCH_RUN: randomBytes(6).toString('hex') },
		timeoutMs: (secs + 60) * 1000 });
	const m = /^BENCHJSON (.*)$/m.exec(r.stdout);
	if (!m)
		throw new Error(`wrk: ${r.stderr || r.stdout}`.slice(0, 300));
	const j = JSON.parse(m[1]);
	const d = j.duration_us / 1e6;
	const e = j.errors;
	const ok = Math.max(0, j.requests - e.status - e.timeout);
	return { conns, requests: j.requests, ok, rps: ok / d,
		p50_ms: j.latency_us.p50 / 1000,
		p99_ms: j.latency_us.p99 / 1000,
		mb_per_s: j.bytes / d / 1e6,
		errors: e.status + e.timeout + e.connect + e.read + e.write };
}

async function scenarioFirehose(t, srv, u) {
	if (!isExecutable(FHSUB))
		return markNa(t, 'firehose', `${FHSUB} is not built`);
	const tokens = path.join(t.dir, 'fh-tokens.txt');
	fs.writeFileSync(tokens, writers(u).map((a) => `${a.did} ${a.token}`)
	    .join('\n') + '\n');
	// The replays are load too: on the load's CPU, in a process of
	// their own at a lower priority than fhsub, which measures.  (In
	// this process, which is not pinned, they could run on the
	// server's CPU.)
	const replays = run('taskset', ['-c', CLIENT_CPU, 'nice', '-n', '10',
		process.execPath, FHREPLAY, srv.url, String(opt.fhReplayers),
		String((opt.fhDuration + 120) * 1000)],
	    { timeoutMs: (opt.fhDuration + 240) * 1000 });
	const fh = await run('taskset', ['-c', CLIENT_CPU, FHSUB, '-u',
		srv.url, '-n', String(opt.fhSubs), '-r', String(opt.fhRate),
		'-d', String(opt.fhDuration), '-w', '8', '-t', tokens],
	    { timeoutMs: (opt.fhDuration + 180) * 1000 });
	const rr = await replays;
	let j = null, rs = null;
	try {
		j = JSON.parse(fh.stdout);
	} catch {
		return markNa(t, 'firehose', `fhsub: ${fh.stderr}`
		    .slice(0, 200));
	}
	try {
		rs = JSON.parse(rr.stdout);
	} catch {
		return markNa(t, 'firehose', `fhreplay: ${rr.stderr}`
		    .slice(0, 200));
	}
	sample(t, 'firehose', { subs: opt.fhSubs, rate: opt.fhRate,
		live_p50_ms: j.delivery_ms?.p50, live_p99_ms: j.delivery_ms?.p99,
		drops: j.drops, rate_achieved: j.rate_achieved,
		ack_p99_ms: j.ack_ms?.p99,
		replay_frames: median(rs.map((r) => r.frames)),
		replay_frames_per_s: median(rs.map((r) => r.frames_per_s)),
		replays: rs });
}

async function timedPdsctl(t, what, args, out) {
	const t0 = performance.now();
	const r = await run(PDSCTL, ['--socket', t.settings.PDS_ADMIN_SOCKET,
		...args], { timeoutMs: 3600000 });
	if (r.code !== 0)
		return markNa(t, what, (r.stderr || r.stdout).slice(-300));
	sample(t, what, { secs: (performance.now() - t0) / 1000,
		bytes: diskBytes(out) });
}

// pdsctl backup DEST writes DEST, DEST.blobs/ and DEST.manifest.json;
// pdsctl export --all DIR one CAR (and blobs) per account.
async function scenarioBackup(t) {
	if (t.kind !== 'pdsd')
		return;
	const out = path.join(t.dir, 'bench-copies');
	const noPlc = t.seed.disk_bytes !== undefined || t.plcReplayed ?
	    null : 'seeded before plc-ops.jsonl was kept: its DIDs do not ' +
	    'resolve in this run\'s PLC';
	fs.rmSync(out, { recursive: true, force: true });
	fs.mkdirSync(out);
	await timedPdsctl(t, 'backup', ['backup',
		path.join(out, 'backup.sqlite')], out);
	fs.rmSync(out, { recursive: true, force: true });
	fs.mkdirSync(path.join(out, 'export'), { recursive: true });
	if (noPlc !== null)
		markNa(t, 'export', noPlc);
	else
		await timedPdsctl(t, 'export', ['export', '--all',
		    path.join(out, 'export')], out);
	fs.rmSync(out, { recursive: true, force: true });
}

// Disk per 1,000 createRecord writes on the seeded server, 5 s after
// the load (both servers' logs as they are then), from the disk before
// createRecord and the writes that succeeded.
let diskBefore = 0;
async function diskGrowth(t, dataDir) {
	await sleep(5000);
	const posts = results.samples.filter((x) => x.server === t.name &&
	    x.scenario === 'createRecord').reduce((n, x) => n + x.ok,
	    t.warmPosts ?? 0);
	if (posts > 0)
		sample(t, 'disk_growth', { posts, bytes: diskBytes(dataDir) -
		    diskBefore, per_1000_posts: (diskBytes(dataDir) -
		    diskBefore) / posts * 1000 });
}

// pdsd only: the pages of the write-ahead log per createRecord, by
// table.  The server restarts with a log bound no load reaches, so that
// no checkpoint starts the log over, takes createRecord at --conns for
// --duration s, and is killed, its log as written.  Each frame of a
// committed transaction is one page that commit wrote; dbstat names the
// table or index that holds each page now.
async function scenarioWalPages(t) {
	const { default: Database } = await import('better-sqlite3');
	const dataDir = t.settings.PDS_DATA_DIRECTORY;
	const dbPath = path.join(dataDir, 'pds.sqlite');
	const saved = t.settings;
	let srv, res;
	t.settings = { ...saved, PDS_SQLITE_WAL_MAX_MB: '1000000' };
	try {
		srv = await startServer(t, true);
	} finally {
		t.settings = saved;
	}
	try {
		res = await wrk(srv.url, path.join(t.dir,
		    'req-createRecord.txt'), opt.conns, opt.duration);
	} finally {
		await srv.kill();
	}
	// the frames' headers only: the log can be a gigabyte
	const fd = fs.openSync(`${dbPath}-wal`, 'r');
	const txns = [];
	let cur = new Set(), frames = 0, committed = 0;
	try {
		const hdr = Buffer.alloc(32), fh = Buffer.alloc(24);
		const walLen = fs.fstatSync(fd).size;
		fs.readSync(fd, hdr, 0, 32, 0);
		const psize = hdr.readUInt32BE(8);
		const salt = hdr.subarray(16, 24);
		for (let off = 32; off + 24 + psize <= walLen;
		    off += 24 + psize) {
			fs.readSync(fd, fh, 0, 24, off);
			if (!fh.subarray(8, 16).equals(salt))
				break;
			cur.add(fh.readUInt32BE(0));
			frames++;
			if (fh.readUInt32BE(4) !== 0) {
				txns.push(cur);
				cur = new Set();
				committed = frames;
			}
		}
	} finally {
		fs.closeSync(fd);
	}
	const db = new Database(dbPath);
	const owner = new Map();
	try {
		for (const r of db.prepare('SELECT name, pageno FROM dbstat')
		    .iterate())
			owner.set(r.pageno, r.name);
	} finally {
		db.close();
	}
	const byTable = {};
	let pages = 0;
	for (const tx of txns) {
		for (const p of tx) {
			const n = owner.get(p) ?? '(free now)';
			byTable[n] = (byTable[n] ?? 0) + 1;
			pages++;
		}
	}
	const writes = Math.max(1, res.ok);
	const perRequest = pages / writes;
	const perTxn = res.ok / Math.max(1, txns.length);
	for (const n of Object.keys(byTable))
		byTable[n] /= writes;
	sample(t, 'wal_pages', { requests: res.ok, rps: res.rps,
		txns: txns.length, frames: committed, per_request: perRequest,
		per_txn: perTxn, by_table: byTable });
	say(`  ${t.name} log pages per createRecord: ` +
	    `${perRequest.toFixed(1)} (${perTxn.toFixed(1)} per transaction)`);
}

async function measure(t) {
	// cold starts: --reps of them, the last one stays up
	for (let r = 1; r < opt.reps; r++) {
		const c = await startServer(t, true);
		await c.stop();
		sample(t, 'cold', { ms: c.coldMs });
	}
	const srv = await startServer(t, true);
	say(`${t.name}: cold start ${srv.coldMs.toFixed(0)} ms`);
	sample(t, 'cold', { ms: srv.coldMs });
	let peakRss = 0;
	const rssTimer = setInterval(() => {
		const m = mem(srv.pid);
		if (m.rss !== null && m.rss > peakRss)
			peakRss = m.rss;
	}, 200);
	try {
		await sleep(3000);
		sample(t, 'rss_idle', { bytes: mem(srv.pid).rss });
		const dataDir = t.settings.PDS_DATA_DIRECTORY;
		const seeded = t.seed.disk_bytes ?? null;
		diskBefore = diskBytes(dataDir);
		sample(t, 'disk', { bytes: diskBefore, seeded_bytes: seeded,
			per_1000_records: seeded === null ? null :
			    seeded / t.seed.records * 1000 });
		const u = await users(t, srv.url);
		for (const s of ['createRecord', 'getRecord', 'listRecords',
		    'getRepo']) {
			if (s === 'getRecord')
				await diskGrowth(t, dataDir);
			const file = path.join(t.dir, `req-${s}.txt`);
			fs.writeFileSync(file, lines(u, s).join('\n') + '\n');
			const warm = await wrk(srv.url, file, 8, 1);	/* warm-up */
			if (s === 'createRecord')
				t.warmPosts = warm.ok;
			const car = s === 'getRepo' ? await carBytes(srv.url,
			    u.largest.did) : null;
			for (let r = 0; r < opt.reps; r++) {
				const res = await wrk(srv.url, file, opt.conns,
				    opt.duration);
				res.rss_bytes = mem(srv.pid).rss;
				if (car !== null) {
					res.car_bytes = car;
					res.repos_per_s = res.mb_per_s * 1e6 /
					    car;
				}
				sample(t, s, res);
				say(`  ${t.name} ${s} c=${opt.conns}: ` +
				    `${res.rps.toFixed(0)}/s p99 ` +
				    `${res.p99_ms.toFixed(1)} ms`);
			}
		}
		await scenarioFirehose(t, srv, u);
		await scenarioBackup(t);
		const m = mem(srv.pid);
		sample(t, 'rss_peak', { bytes: Math.max(peakRss, m.hwm ?? 0),
			sampled_max: peakRss, hwm: m.hwm });
	} finally {
		clearInterval(rssTimer);
		await srv.stop();
	}
	if (t.kind === 'pdsd') {
		try {
			await scenarioWalPages(t);
		} catch (e) {
			markNa(t, 'wal_pages', e.message.slice(0, 300));
		}
	}
}

// ---- the report ----------------------------------------------------

const FIGURES = [
	['cold', 'ms', 'cold start (ms)'],
	['rss_idle', 'bytes', 'RSS idle (MB)', 1e-6],
	['rss_peak', 'bytes', 'RSS peak (MB)', 1e-6],
	['disk', 'bytes', 'disk, blobs included (MB)', 1e-6],
	['disk', 'per_1000_records', 'disk per 1,000 records, as seeded (MB)',
	    1e-6],
	['disk_growth', 'per_1000_posts',
	    'disk per 1,000 createRecord posts, 5 s after (MB)', 1e-6],
	['createRecord', 'rps', 'createRecord (req/s)'],
	['createRecord', 'p99_ms', 'createRecord p99 (ms)'],
	['getRecord', 'rps', 'getRecord (req/s)'],
	['getRecord', 'p99_ms', 'getRecord p99 (ms)'],
	['listRecords', 'rps', 'listRecords (req/s)'],
	['listRecords', 'p99_ms', 'listRecords p99 (ms)'],
	['getRepo', 'mb_per_s', 'getRepo of the largest repo (MB/s)'],
	['getRepo', 'car_bytes', 'getRepo: that repo\'s CAR (MB)', 1e-6],
	['getRepo', 'repos_per_s', 'getRepo (repos/s: MB/s over the CAR)'],
	['getRepo', 'rps', 'getRepo (requests finished in the run, /s)'],
	['firehose', 'live_p99_ms', 'firehose live p99 (ms)'],
	['firehose', 'replay_frames_per_s', 'firehose replay (frames/s each)'],
	['backup', 'secs', 'pdsctl backup (s)'],
	['backup', 'bytes', 'pdsctl backup, blobs included (MB)', 1e-6],
	['export', 'secs', 'pdsctl export --all (s)'],
	['export', 'bytes', 'pdsctl export --all (MB)', 1e-6],
];

function report() {
	const names = Object.keys(results.servers);
	let md = `# Scale run ${results.started}\n\n`;
	md += `Medians of ${opt.reps} runs of ${opt.duration} s at ` +
	    `c=${opt.conns}; the server on CPU ${SERVER_CPU}, the load on ` +
	    `CPU ${CLIENT_CPU}.  Raw samples, with the load average of ` +
	    'each, are in the JSON file beside this one.\n\n';
	md += '| server | accounts | records | blob MB | seeded in (s) |\n' +
	    '|---|---|---|---|---|\n';
	for (const n of names) {
		const s = results.servers[n];
		md += `| ${n} | ${s.accounts} | ${s.records} | ${s.blobMb} | ` +
		    `${s.seed?.secs ?? ''} |\n`;
	}
	md += `\n| figure | ${names.join(' | ')} |\n|---|` +
	    names.map(() => '---').join('|') + '|\n';
	for (const [sc, field, label, scale = 1] of FIGURES) {
		const cells = names.map((n) => {
			const v = median(results.samples.filter((x) =>
			    x.server === n && x.scenario === sc)
			    .map((x) => x[field]));
			if (v === null)
				return results.na[`${n}/${sc}`] ? 'n/a' : '';
			const y = v * scale;
			return y >= 100 ? y.toFixed(0) : y.toFixed(2);
		});
		md += `| ${label} | ${cells.join(' | ')} |\n`;
	}
	const wp = results.samples.filter((x) => x.scenario === 'wal_pages');
	if (wp.length > 0) {
		md += '\nPages of the write-ahead log per createRecord, by ' +
		    'table (one run at c=' + opt.conns + ', no checkpoints):\n';
		for (const x of wp) {
			md += `\n- ${x.server}: ${x.per_request.toFixed(1)} ` +
			    `pages, ${x.per_txn.toFixed(1)} commits per ` +
			    'transaction: ' + Object.entries(x.by_table)
			    .sort((a, b) => b[1] - a[1]).filter(([, v]) =>
			    v >= 0.05).map(([k, v]) => `${k} ${v.toFixed(2)}`)
			    .join(', ');
		}
		md += '\n';
	}
	const loads = results.samples.map((x) => x.load1);
	md += `\nLoad average (1 min) during the samples: min ` +
	    `${Math.min(...loads).toFixed(2)}, median ` +
	    `${median(loads).toFixed(2)}, max ` +
	    `${Math.max(...loads).toFixed(2)}.\n`;
	for (const [k, v] of Object.entries(results.na))
		md += `\n- ${k}: n/a (${v})`;
	return md + '\n';
}

async function main() {
	if (!isExecutable(PDSD))
		usage(`${PDSD} is not built`);
	plc = await startPlc();
	try {
		for (const kind of opt.targets) {
			for (const size of opt.sizes) {
				const t = await prepare(kind, size);
				results.servers[t.name] = { target: kind, size,
					accounts: t.accounts,
					records: t.records, blobMb: t.blobMb,
					seed: t.seed, dir: opt.keep ? t.dir :
					    undefined };
				try {
					await measure(t);
				} catch (e) {
					markNa(t, 'run', e.message.slice(0, 300));
				}
				if (!opt.keep)
					fs.rmSync(t.dir, { recursive: true,
					    force: true });
			}
		}
	} finally {
		await plc.stop();
	}
	const md = report();
	process.stdout.write(md);
	if (opt.save) {
		fs.mkdirSync(opt.out, { recursive: true });
		const stamp = new Date().toISOString().slice(0, 16)
		    .replace(/:/g, '');
		const base = path.join(opt.out, `${stamp}-scale`);
		fs.writeFileSync(`${base}.json`,
		    JSON.stringify(results, null, 1) + '\n');
		fs.writeFileSync(`${base}.md`, md);
		say(`wrote ${base}.md and .json`);
	}
}

main().catch((e) => {
	process.stderr.write(`scale: ${e.stack ?? e.message}\n`);
	process.exit(1);
});
