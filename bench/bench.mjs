// The side-by-side benchmark: pdsd and the reference PDS (@atproto/pds),
// started fresh on loopback with one local PLC directory, measured in the
// same run with every scenario interleaved (A B, B A, ...), or any PDS
// given by URL.  Run it through bench/run.sh, which builds and installs
// what it needs; see bench/README.md for the scenarios and the options.
//
// Writes <out>/<date>[-quick].json (every sample, the environment, the
// options) and <out>/<date>[-quick].md (medians, pdsd/reference ratios).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort, isExecutable, readTail, sleep, startPlc } from
    '../tests/interop/lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const BUILD = path.resolve(ROOT, process.env.B || 'build');
const PDSD = path.join(BUILD, 'bin', 'pdsd');
const FHSUB = path.join(BUILD, 'bench', 'fhsub');
const MICRO = path.join(BUILD, 'bench', 'micro');
const DPOPLOAD = path.join(BUILD, 'bench', 'dpopload');
const REF = path.join(HERE, 'ref-pds.mjs');
// Both servers run with their rate limits on (as the distribution of the
// reference does), and every request of the load generators carries the
// bypass key: the figures are those of a production set-up whose
// benchmark client is exempt.  Children (wrk.lua, fhsub, dpopload) read
// the key from BENCH_RATELIMIT_BYPASS.
const BYPASS_KEY = randomBytes(16).toString('hex');
process.env.BENCH_RATELIMIT_BYPASS = BYPASS_KEY;
const WRK_LUA = path.join(HERE, 'wrk.lua');
const COLL = 'app.bsky.feed.post';

const HTTP_SCENARIOS = ['describeServer', 'getRecord', 'listRecords',
	'getLatestCommit', 'getRepo', 'createSession', 'createRecord'];
// The OAuth scenario signs in through each server's authorization pages
// (the reference's are a JavaScript application, driven through its JSON
// API), so it runs only when asked for: --only oauth.  getRecord is a
// public method on both servers, which read neither the token nor the
// proof there; getSession is the read on which both check them.
const OAUTH_SCENARIOS = ['oauthCreateRecord', 'oauthGetRecord',
	'oauthGetSession'];
const ALL_SCENARIOS = ['micro', 'cold', 'disk', 'diskload', 'memory',
	...HTTP_SCENARIOS, 'firehose', 'oauth', 'blobstore'];
const OPT_IN = ['oauth', 'blobstore'];

// ---- options -------------------------------------------------------

function usage(msg) {
	if (msg)
		console.error(`bench: ${msg}`);
	console.error(`usage: bench/run.sh [--quick] [--only a,b] [--skip a,b]
    [--targets pdsd,ref] [--pdsd-url URL] [--ref-url URL] [--reps N]
    [--duration S] [--conns 8,32] [--fh-subs 1,100,500,1000]
    [--fh-rates 20,100] [--fh-duration S] [--records N] [--posts N]
    [--cold-reps N] [--load-duration S] [--idle S] [--logs on|off] [--pin]
    [--out DIR] [--no-save] [--keep]
scenarios: ${ALL_SCENARIOS.join(' ')}`);
	process.exit(2);
}

function listArg(v, numeric = false) {
	const l = String(v).split(',').map((s) => s.trim()).filter(Boolean);
	if (numeric) {
		const n = l.map(Number);
		if (n.some((x) => !Number.isFinite(x) || x <= 0))
			usage(`bad number list ${v}`);
		return n;
	}
	return l;
}

function parseArgs(argv) {
	const o = {
		quick: false, only: null, skip: [], targets: ['pdsd', 'ref'],
		urls: {}, reps: null, duration: null, conns: [8, 32],
		fhSubs: null, fhRates: null, fhDuration: null, records: 5000,
		posts: null, coldReps: null, loadDuration: null, idle: 30,
		logs: 'off', pin: false,
		out: path.join(HERE, 'results'), save: true, keep: false,
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const val = () => {
			if (i + 1 >= argv.length)
				usage(`${a} needs a value`);
			return argv[++i];
		};
		switch (a) {
		case '--quick': o.quick = true; break;
		case '--only': o.only = listArg(val()); break;
		case '--skip': o.skip = listArg(val()); break;
		case '--targets': o.targets = listArg(val()); break;
		case '--pdsd-url': o.urls.pdsd = val(); break;
		case '--ref-url': o.urls.ref = val(); break;
		case '--reps': o.reps = listArg(val(), true)[0]; break;
		case '--duration': o.duration = listArg(val(), true)[0]; break;
		case '--conns': o.conns = listArg(val(), true); break;
		case '--fh-subs': o.fhSubs = listArg(val(), true); break;
		case '--fh-rates': o.fhRates = listArg(val(), true); break;
		case '--fh-duration': o.fhDuration = listArg(val(), true)[0];
			break;
		case '--records': o.records = listArg(val(), true)[0]; break;
		case '--posts': o.posts = listArg(val(), true)[0]; break;
		case '--cold-reps': o.coldReps = listArg(val(), true)[0]; break;
		case '--load-duration': o.loadDuration = listArg(val(), true)[0];
			break;
		case '--idle': o.idle = listArg(val(), true)[0]; break;
		case '--logs': o.logs = val(); break;
		case '--pin': o.pin = true; break;
		case '--out': o.out = path.resolve(val()); break;
		case '--no-save': o.save = false; break;
		case '--keep': o.keep = true; break;
		case '-h': case '--help': usage(); break;
		default: usage(`unknown option ${a}`);
		}
	}
	for (const s of [...(o.only ?? []), ...o.skip]) {
		if (!ALL_SCENARIOS.includes(s))
			usage(`unknown scenario ${s}`);
	}
	for (const t of o.targets) {
		if (t !== 'pdsd' && t !== 'ref')
			usage(`unknown target ${t}`);
	}
	if (o.logs !== 'on' && o.logs !== 'off')
		usage('--logs takes on or off');
	o.reps ??= o.quick ? 1 : 3;
	o.duration ??= o.quick ? 2 : 4;
	o.fhSubs ??= o.quick ? [1, 100] : [1, 100, 500, 1000];
	o.fhRates ??= o.quick ? [100] : [20, 100];
	o.fhDuration ??= o.quick ? 3 : 8;
	o.coldReps ??= o.quick ? 2 : 5;
	o.posts ??= o.quick ? 500 : 1000;
	o.loadDuration ??= o.quick ? 5 : 20;
	return o;
}

const opt = parseArgs(process.argv.slice(2));

// --pin: servers on the last CPU, load generators on the others (one
// core each for the server, as the reference's distribution recommends).
const NCPU = os.cpus().length;
const SERVER_CPUS = String(NCPU - 1);
const CLIENT_CPUS = NCPU > 2 ? `0-${NCPU - 2}` : '0';
function pinned(file, args, cpus) {
	if (!opt.pin || NCPU < 2)
		return [file, args];
	return ['taskset', ['-c', cpus, file, ...args]];
}
const T0 = Date.now();

function want(s) {
	return (opt.only === null ? !OPT_IN.includes(s) : opt.only.includes(s)) &&
	    !opt.skip.includes(s);
}

function say(msg) {
	const t = ((Date.now() - T0) / 1000).toFixed(0).padStart(4);
	process.stderr.write(`[${t}s] ${msg}\n`);
}

// ---- small helpers -------------------------------------------------

function median(xs) {
	const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x))
	    .sort((a, b) => a - b);
	if (v.length === 0)
		return null;
	const m = Math.floor(v.length / 2);
	return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// Deterministic shuffle (both targets see the same access pattern shape).
function shuffle(arr, seed = 1) {
	const a = arr.slice();
	let s = seed >>> 0;
	for (let i = a.length - 1; i > 0; i--) {
		s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
		const j = s % (i + 1);
		[a[i], a[j]] = [a[j], a[i]];
	}
	return a;
}

function run(file, args, { env, timeoutMs = 600000 } = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(file, args, { cwd: ROOT,
		    env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		child.stdout.setEncoding('utf8');
		child.stderr.setEncoding('utf8');
		child.stdout.on('data', (d) => { out += d; });
		child.stderr.on('data', (d) => { err += d; });
		const timer = setTimeout(() => {
			try {
				process.kill(child.pid, 'SIGKILL');
			} catch {
				// gone
			}
		}, timeoutMs);
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

// GET url until it answers 200; resolves the time it took, in ms.
function healthOnce(url) {
	return new Promise((resolve) => {
		const req = http.get(url, { agent: false, timeout: 2000 },
		    (res) => {
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

async function waitHealthy(url, child, t0, timeoutMs, logFile) {
	while (performance.now() - t0 < timeoutMs) {
		if (child.exitCode !== null || child.signalCode !== null) {
			throw new Error(`server exited (${child.exitCode ??
			    child.signalCode}):\n${readTail(logFile)}`);
		}
		if (await healthOnce(`${url}/xrpc/_health`) === 200)
			return performance.now() - t0;
		await sleep(5);
	}
	throw new Error(`no healthy answer from ${url} in ${timeoutMs} ms:\n` +
	    readTail(logFile));
}

// Resident memory of a process and its descendants, in bytes.
function procChildren() {
	const kids = new Map();
	for (const d of fs.readdirSync('/proc')) {
		if (!/^[0-9]+$/.test(d))
			continue;
		try {
			const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
			const ppid = Number(st.slice(st.lastIndexOf(')') + 2)
			    .split(' ')[1]);
			if (!kids.has(ppid))
				kids.set(ppid, []);
			kids.get(ppid).push(Number(d));
		} catch {
			// gone
		}
	}
	return kids;
}

function memOf(pid) {
	const kids = procChildren();
	const todo = [pid];
	let rss = 0;
	let hwm = 0;
	while (todo.length) {
		const p = todo.pop();
		try {
			const s = fs.readFileSync(`/proc/${p}/status`, 'utf8');
			rss += Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) * 1024;
			hwm += Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) * 1024;
		} catch {
			// gone
		}
		todo.push(...(kids.get(p) ?? []));
	}
	return { rss, hwm };
}

// Bytes under a directory: allocated (du) and apparent.
function diskUsage(dir) {
	let alloc = 0;
	let apparent = 0;
	const walk = (d) => {
		for (const e of fs.readdirSync(d, { withFileTypes: true })) {
			const p = path.join(d, e.name);
			if (e.isDirectory()) {
				walk(p);
			} else {
				const st = fs.lstatSync(p);
				alloc += st.blocks * 512;
				apparent += st.size;
			}
		}
	};
	walk(dir);
	return { alloc, apparent };
}

// Bytes in the write-ahead logs under a directory (every *-wal file:
// pdsd has one, the reference one per SQLite database).
function walBytes(dir) {
	let n = 0;
	const walk = (d) => {
		for (const e of fs.readdirSync(d, { withFileTypes: true })) {
			const p = path.join(d, e.name);
			try {
				if (e.isDirectory())
					walk(p);
				else if (e.name.endsWith('-wal'))
					n += fs.lstatSync(p).size;
			} catch {
				// gone meanwhile (a checkpoint may remove it)
			}
		}
	};
	walk(dir);
	return n;
}

// ---- servers -------------------------------------------------------

let plc = null;

function envFileText(env) {
	let text = '';
	for (const [k, v] of Object.entries(env))
		text += `${k}="${v}"\n`;
	return text;
}

function cleanEnv() {
	const e = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (!k.startsWith('PDS_') && k !== 'LOG_ENABLED' &&
		    k !== 'LOG_LEVEL' && k !== 'LOG_DESTINATION')
			e[k] = v;
	}
	return e;
}

// Start a fresh server of a kind ('pdsd' or 'ref'), or restart one in its
// old directory (reuse).  Resolves { kind, url, pid, dir, dataDir,
// coldMs, stop }.
async function startServer(kind, reuse = null, extra = {}) {
	const dir = reuse?.dir ?? fs.mkdtempSync(path.join(os.tmpdir(),
	    `pds-bench-${kind}-`));
	const dataDir = path.join(dir, 'data');
	fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
	const port = await freePort();
	const logFile = path.join(dir, `${kind}.log`);
	const settings = reuse?.settings ?? {
		PDS_HOSTNAME: 'localhost',
		PDS_DEV_MODE: 'true',
		PDS_INVITE_REQUIRED: 'false',
		PDS_JWT_SECRET: randomBytes(32).toString('hex'),
		PDS_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
		PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX:
		    randomBytes(32).toString('hex'),
		PDS_SERVICE_HANDLE_DOMAINS: '.test',
		PDS_DATA_DIRECTORY: dataDir,
		PDS_RATE_LIMITS_ENABLED: 'true',
		PDS_RATE_LIMIT_BYPASS_KEY: BYPASS_KEY,
	};
	settings.PDS_PORT = String(port);
	Object.assign(settings, extra);
	let child;
	let t0;
	const log = fs.openSync(logFile, 'a');
	if (kind === 'pdsd') {
		Object.assign(settings, {
			PDS_BIND_ADDRESS: '127.0.0.1',
			PDS_DID_PLC_URL: plc.url,
			PDS_LOG_LEVEL: opt.logs === 'on' ? 'info' : 'warn',
			// fhsub's subscribers all come from one address
			PDS_FIREHOSE_MAX_SUBSCRIBERS: '20000',
			PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_IP: '20000',
			// and so do its connections
			PDS_MAX_CONNECTIONS: '30000',
			PDS_MAX_CONNECTIONS_PER_IP: '20000',
		});
		const envFile = path.join(dir, 'pds.env');
		fs.writeFileSync(envFile, envFileText(settings),
		    { mode: 0o600 });
		t0 = performance.now();
		const [f, a] = pinned(PDSD, ['-c', envFile], SERVER_CPUS);
		child = spawn(f, a, { cwd: dir, env: cleanEnv(),
		    stdio: ['ignore', log, log] });
	} else {
		Object.assign(settings, {
			// The reference refuses IP-literal URLs for what it
			// resolves through its safe client.
			PDS_DID_PLC_URL: plc.localhostUrl,
			PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir,
			    'blocks'),
		});
		// the reference refuses a disk location beside S3
		if (extra.PDS_BLOBSTORE_S3_BUCKET)
			delete settings.PDS_BLOBSTORE_DISK_LOCATION;
		const env = { ...cleanEnv(), ...settings,
			NODE_ENV: 'production', UV_USE_IO_URING: '0' };
		if (opt.logs === 'on') {
			env.LOG_ENABLED = 'true';
			env.LOG_DESTINATION = path.join(dir, 'pino.log');
		}
		t0 = performance.now();
		const [f, a] = pinned(process.execPath, [REF], SERVER_CPUS);
		child = spawn(f, a, { cwd: dir, env,
		    stdio: ['ignore', log, log] });
	}
	fs.closeSync(log);
	const url = `http://127.0.0.1:${port}`;
	const srv = { kind, url, pid: child.pid, child, dir, dataDir, logFile,
		settings, coldMs: null };
	srv.stop = async (remove = true) => {
		if (child.exitCode === null && child.signalCode === null) {
			const exited = new Promise((r) => child.once('exit', r));
			try {
				process.kill(child.pid, 'SIGTERM');
			} catch {
				// gone
			}
			const late = sleep(15000).then(() => 'late');
			if (await Promise.race([exited, late]) === 'late') {
				try {
					process.kill(child.pid, 'SIGKILL');
				} catch {
					// gone
				}
				await exited;
			}
		}
		if (remove && !opt.keep)
			fs.rmSync(dir, { recursive: true, force: true });
		else if (remove)
			say(`kept ${dir}`);
	};
	try {
		srv.coldMs = await waitHealthy(url, child, t0, 60000, logFile);
	} catch (e) {
		await srv.stop(false);
		throw e;
	}
	return srv;
}

// Servers still running when this process exits get SIGKILL.
const live = new Set();
process.on('exit', () => {
	for (const s of live) {
		try {
			process.kill(s.pid, 'SIGKILL');
		} catch {
			// gone
		}
	}
});

// ---- XRPC ----------------------------------------------------------

async function xrpc(url, nsid, { params, body, token, method } = {}) {
	const qs = params ? '?' + new URLSearchParams(params) : '';
	const headers = { 'x-ratelimit-bypass': BYPASS_KEY };
	if (token)
		headers.authorization = `Bearer ${token}`;
	if (body !== undefined)
		headers['content-type'] = 'application/json';
	let res;
	try {
		res = await fetch(`${url}/xrpc/${nsid}${qs}`, {
			method: method ?? (body !== undefined ? 'POST' : 'GET'),
			headers,
			body: body !== undefined ? JSON.stringify(body) :
			    undefined,
			signal: AbortSignal.timeout(60000),
		});
	} catch (e) {
		return { status: 0, json: null, text: e.message };
	}
	const buf = Buffer.from(await res.arrayBuffer());
	let json = null;
	try {
		json = JSON.parse(buf.toString('utf8'));
	} catch {
		// binary or empty
	}
	return { status: res.status, json, bytes: buf.length,
		text: buf.toString('utf8', 0, Math.min(buf.length, 300)) };
}

function why(r) {
	if (r.status === 0)
		return `no answer (${r.text})`;
	if (r.status === 501)
		return 'not implemented (501)';
	const e = r.json?.error ? `${r.json.error}: ${r.json.message ?? ''}` :
	    r.text;
	return `HTTP ${r.status} ${e}`.slice(0, 200);
}

function postRecord(i) {
	return {
		$type: COLL,
		text: `Benchmark post ${i}: the quick brown fox jumps over ` +
		    'the lazy dog, and then some more words to reach a ' +
		    'typical length.',
		createdAt: new Date().toISOString(),
	};
}

async function pool(n, count, fn) {
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const i = next++;
			await fn(i);
		}
	};
	await Promise.all(Array.from({ length: n }, worker));
}

const RUN_ID = randomBytes(3).toString('hex');

async function createAccount(url, domain, name) {
	const handle = `${name}${RUN_ID}${domain}`;
	const password = `pw-${randomBytes(8).toString('hex')}`;
	const r = await xrpc(url, 'com.atproto.server.createAccount', {
		body: { handle, email: `${name}${RUN_ID}@example.com`,
			password } });
	if (r.status !== 200 || !r.json?.accessJwt)
		return { error: why(r) };
	return { handle, password, did: r.json.did, token: r.json.accessJwt };
}

// Write n posts into one account; resolves the record keys (from the
// responses), using applyWrites batches when the server has them.
async function populate(url, acct, n) {
	const rkeys = [];
	let batched = true;
	for (let done = 0; done < n && batched;) {
		const k = Math.min(200, n - done);
		const writes = [];
		for (let i = 0; i < k; i++) {
			writes.push({ $type: 'com.atproto.repo.applyWrites#create',
				collection: COLL, value: postRecord(done + i) });
		}
		const r = await xrpc(url, 'com.atproto.repo.applyWrites', {
			token: acct.token, body: { repo: acct.did, writes } });
		if (r.status !== 200 || !Array.isArray(r.json?.results)) {
			if (done === 0 && (r.status === 501 || r.status === 404 ||
			    r.status === 400)) {
				batched = false;
				break;
			}
			throw new Error(`applyWrites: ${why(r)}`);
		}
		for (const x of r.json.results)
			rkeys.push(x.uri.split('/').pop());
		done += k;
	}
	if (batched)
		return rkeys;
	let fail = null;
	await pool(8, n, async (i) => {
		if (fail)
			return;
		const r = await xrpc(url, 'com.atproto.repo.createRecord', {
			token: acct.token, body: { repo: acct.did,
				collection: COLL, record: postRecord(i) } });
		if (r.status !== 200)
			fail = why(r);
		else
			rkeys.push(r.json.uri.split('/').pop());
	});
	if (fail)
		throw new Error(`createRecord: ${fail}`);
	return rkeys;
}

// ---- results -------------------------------------------------------

const results = {
	started: new Date().toISOString(),
	options: { ...opt, out: path.relative(ROOT, opt.out) },
	env: {},
	targets: {},
	samples: [],	// { scenario, target, conns?, ..., value fields }
	na: {},		// "<scenario>/<target>" -> reason
};

// Each sample notes the machine's 1-minute load average: other work on
// the same cores shows up there.
function sample(scenario, target, fields) {
	results.samples.push({ scenario, target, ...fields,
		load1: +os.loadavg()[0].toFixed(2) });
}

function markNa(scenario, target, reason) {
	const k = `${scenario}/${target}`;
	if (!results.na[k]) {
		results.na[k] = reason;
		say(`  ${target} ${scenario}: n/a (${reason})`);
	}
}

function envInfo() {
	const cpu = /model name\s*:\s*(.*)/.exec(
	    fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?';
	let pdsVersion = null;
	try {
		pdsVersion = JSON.parse(fs.readFileSync(path.join(HERE,
		    'node_modules/@atproto/pds/package.json'), 'utf8')).version;
	} catch {
		// not installed
	}
	return {
		cpu, cores: os.cpus().length,
		mem_gb: +(os.totalmem() / 2 ** 30).toFixed(1),
		kernel: os.release(), node: process.version,
		reference: pdsVersion ? `@atproto/pds ${pdsVersion}` : null,
		tmpdir: os.tmpdir(),
	};
}

// ---- scenarios -----------------------------------------------------

// blobstore: uploadBlob and sync.getBlob throughput (MB/s) at c=8 with
// 1 MiB blobs: pdsd on disk, pdsd on S3 and the reference PDS on S3, the
// last two against one throw-away Ceph RADOS Gateway on loopback
// (tests/s3/start.sh).  Opt-in (--only blobstore): it starts Ceph.
const BLOB_CONNS = 8;
const BLOB_SIZE = 1 << 20;

async function blobPhase(seconds, fn) {
	let bytes = 0, n = 0, errors = 0, lastErr = null;
	const until = performance.now() + seconds * 1000;
	const t0 = performance.now();
	await Promise.all(Array.from({ length: BLOB_CONNS }, async (_, w) => {
		while (performance.now() < until) {
			try {
				bytes += await fn(w, n++);
			} catch (e) {
				errors++;
				lastErr = e.message;
			}
		}
	}));
	const secs = (performance.now() - t0) / 1000;
	return { mbs: bytes / 1e6 / secs, n, errors, lastErr };
}

async function blobTarget(name, kind, extra) {
	const srv = await startServer(kind, null, extra);
	live.add(srv);
	try {
		const h = { 'x-ratelimit-bypass': BYPASS_KEY };
		const post = async (m, body, auth, ct = 'application/json') => {
			const r = await fetch(`${srv.url}/xrpc/${m}`, {
			    method: 'POST', body, headers: { ...h,
			    'content-type': ct, ...(auth ? { authorization:
			    `Bearer ${auth}` } : {}) } });
			const t = await r.text();
			if (!r.ok)
				throw new Error(`${m}: ${r.status} ${t.slice(0, 200)}`);
			return JSON.parse(t);
		};
		const acct = await post('com.atproto.server.createAccount',
		    JSON.stringify({ handle: `blob${name.replace(/\W/g, '')}.test`,
		    email: `${name.replace(/\W/g, '')}@example.com`,
		    password: 'bench-blob-pw' }));
		const tok = acct.accessJwt;
		const base = randomBytes(BLOB_SIZE);
		const kept = [];
		const up = await blobPhase(opt.quick ? 4 : 10, async (w, i) => {
			const b = Buffer.from(base);
			b.writeUInt32BE(i, 0);
			b.writeUInt32BE(w, 4);
			const r = await post('com.atproto.repo.uploadBlob', b, tok,
			    'application/octet-stream');
			if (kept.length < 16)
				kept.push(r.blob);
			return BLOB_SIZE;
		});
		await post('com.atproto.repo.createRecord', JSON.stringify({
		    repo: acct.did, collection: 'com.example.holder',
		    record: { $type: 'com.example.holder', bs: kept } }), tok);
		const get = await blobPhase(opt.quick ? 4 : 10, async (w, i) => {
			const cid = kept[i % kept.length].ref.$link;
			const r = await fetch(`${srv.url}/xrpc/` +
			    'com.atproto.sync.getBlob?' + new URLSearchParams({
			    did: acct.did, cid }), { headers: h });
			const buf = Buffer.from(await r.arrayBuffer());
			if (r.status !== 200 || buf.length !== BLOB_SIZE)
				throw new Error(`getBlob: ${r.status}`);
			return buf.length;
		});
		sample('blobstore', name, { upload_mbs: up.mbs,
		    get_mbs: get.mbs, uploads: up.n, upload_errors: up.errors,
		    gets: get.n, get_errors: get.errors });
		say(`  ${name}: uploadBlob ${fmt(up.mbs)} MB/s (${up.errors} ` +
		    `errors${up.lastErr ? ': ' + up.lastErr : ''}), getBlob ` +
		    `${fmt(get.mbs)} MB/s (${get.errors} errors${get.lastErr ?
		    ': ' + get.lastErr : ''})`);
	} catch (e) {
		markNa('blobstore', name, e.message.slice(0, 120));
	} finally {
		await srv.stop();
		live.delete(srv);
	}
}

async function scenarioBlobstore(kinds) {
	const { startRgw } = await import('../tests/interop/s3.mjs');
	say('blobstore: starting a Ceph RADOS Gateway');
	const rgw = await startRgw();
	try {
		if (kinds.includes('pdsd')) {
			await blobTarget('pdsd disk', 'pdsd', {});
			await blobTarget('pdsd S3', 'pdsd', rgw.env);
		}
		if (kinds.includes('ref'))
			await blobTarget('reference S3', 'ref', rgw.env);
	} finally {
		await rgw.stop();
	}
}

function blobstoreTable() {
	const xs = results.samples.filter((x) => x.scenario === 'blobstore');
	const names = ['pdsd disk', 'pdsd S3', 'reference S3'];
	if (!xs.length && !names.some((n) => results.na[`blobstore/${n}`]))
		return '';
	const cell = (n, k) => {
		const x = xs.find((y) => y.target === n);
		return x ? fmt(x[k]) : results.na[`blobstore/${n}`] ?
		    `n/a (${results.na[`blobstore/${n}`]})` : 'n/a';
	};
	let md = `\n## Blob stores (1 MiB blobs, c=${BLOB_CONNS}, MB/s; S3 is ` +
	    `a one-node Ceph RADOS Gateway on the same machine)\n\n`;
	md += `| | ${names.join(' | ')} |\n|---|---|---|---|\n`;
	md += `| uploadBlob | ${names.map((n) => cell(n, 'upload_mbs'))
	    .join(' | ')} |\n`;
	md += `| getBlob | ${names.map((n) => cell(n, 'get_mbs'))
	    .join(' | ')} |\n`;
	return md;
}

// Target order for round r: alternate who goes first.
function order(names, r) {
	return r % 2 === 0 ? names : names.slice().reverse();
}

async function scenarioMicro() {
	if (!isExecutable(MICRO)) {
		markNa('micro', 'pdsd', `${MICRO} missing`);
		return;
	}
	say('micro: signature, SHA-256, SQLite commit transaction, DPoP proof');
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-bench-micro-'));
	try {
		const r = await run(MICRO, ['-j', '-d', dir, '-t',
		    opt.quick ? '0.3' : '1']);
		if (r.code !== 0)
			throw new Error(r.stderr);
		results.micro = JSON.parse(r.stdout);
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

async function scenarioCold(kinds) {
	say(`cold start: ${opt.coldReps} starts each, fresh data directories`);
	for (let r = 0; r < opt.coldReps; r++) {
		for (const k of order(kinds, r)) {
			let srv;
			try {
				srv = await startServer(k);
			} catch (e) {
				markNa('cold', k, e.message.split('\n')[0]);
				continue;
			}
			live.add(srv);
			sample('cold', k, { ms: srv.coldMs });
			await srv.stop();
			live.delete(srv);
		}
	}
}

async function scenarioDisk(kinds) {
	say(`disk: bytes per ${opt.posts} posts (between two clean stops)`);
	for (const k of kinds) {
		let srv;
		try {
			srv = await startServer(k);
			live.add(srv);
			const dom = await handleDomain(srv.url);
			const acct = await createAccount(srv.url, dom, 'disk');
			if (acct.error) {
				markNa('disk', k, `createAccount: ${acct.error}`);
				continue;
			}
			await srv.stop(false);
			const before = diskUsage(srv.dataDir);
			const again = await startServer(k, srv);
			live.delete(srv);
			srv = again;
			live.add(srv);
			sample('restart', k, { ms: srv.coldMs });
			let fail = null;
			const t0 = performance.now();
			await pool(4, opt.posts, async (i) => {
				if (fail)
					return;
				const r = await xrpc(srv.url,
				    'com.atproto.repo.createRecord', {
					token: acct.token, body: { repo: acct.did,
						collection: COLL,
						record: postRecord(i) } });
				if (r.status !== 200)
					fail = why(r);
			});
			const secs = (performance.now() - t0) / 1000;
			if (fail) {
				markNa('disk', k, `createRecord: ${fail}`);
				continue;
			}
			await srv.stop(false);
			const after = diskUsage(srv.dataDir);
			const f = 1000 / opt.posts;
			sample('disk', k, {
				alloc_per_1000: (after.alloc - before.alloc) * f,
				apparent_per_1000: (after.apparent -
				    before.apparent) * f,
				before, after, posts: opt.posts,
				posts_per_s_seq4: opt.posts / secs,
			});
		} catch (e) {
			markNa('disk', k, e.message.split('\n')[0]);
		} finally {
			if (srv) {
				await srv.stop();
				live.delete(srv);
			}
		}
	}
}

// Sustained writes: createRecord from DISKLOAD_CONNS concurrent clients
// over DISKLOAD_ACCTS accounts for opt.loadDuration seconds, then
// opt.idle seconds with nothing, on a fresh server that keeps running.
// The data directory (WAL files included) is measured before, at the
// end of the load and after the idle time; the WAL files are sampled
// every DISKLOAD_SAMPLE_MS meanwhile.
const DISKLOAD_CONNS = 32;
const DISKLOAD_ACCTS = 20;
const DISKLOAD_SAMPLE_MS = 100;

async function scenarioDiskLoad(kinds) {
	say(`diskload: createRecord at c=${DISKLOAD_CONNS} for ` +
	    `${opt.loadDuration} s over ${DISKLOAD_ACCTS} accounts, then ` +
	    `${opt.idle} s idle`);
	for (const k of kinds) {
		let srv;
		try {
			srv = await startServer(k);
			live.add(srv);
			const dom = await handleDomain(srv.url);
			const accts = [];
			for (let i = 0; i < DISKLOAD_ACCTS; i++) {
				const a = await createAccount(srv.url, dom,
				    `dl${i}`);
				if (a.error)
					throw new Error(`createAccount: ${a.error}`);
				accts.push(a);
			}
			const before = diskUsage(srv.dataDir);
			let walMax = walBytes(srv.dataDir);
			const timer = setInterval(() => {
				walMax = Math.max(walMax, walBytes(srv.dataDir));
			}, DISKLOAD_SAMPLE_MS);
			let ok = 0;
			let failed = 0;
			let fail = null;
			const t0 = performance.now();
			const end = t0 + opt.loadDuration * 1000;
			const worker = async (w) => {
				for (let i = 0; performance.now() < end; i++) {
					const a = accts[(w + i) % accts.length];
					const r = await xrpc(srv.url,
					    'com.atproto.repo.createRecord', {
						token: a.token, body: {
							repo: a.did, collection: COLL,
							record: postRecord(i) } });
					if (r.status === 200) {
						ok++;
					} else {
						failed++;
						fail ??= why(r);
					}
				}
			};
			await Promise.all(Array.from({ length: DISKLOAD_CONNS },
			    (_, w) => worker(w)));
			const secs = (performance.now() - t0) / 1000;
			clearInterval(timer);
			const walEnd = walBytes(srv.dataDir);
			walMax = Math.max(walMax, walEnd);
			const loaded = diskUsage(srv.dataDir);
			if (ok === 0)
				throw new Error(`createRecord: ${fail}`);
			await sleep(opt.idle * 1000);
			const walIdle = walBytes(srv.dataDir);
			const idle = diskUsage(srv.dataDir);
			const f = 1000 / ok;
			sample('diskload', k, {
				writes: ok, failed, first_failure: fail, secs,
				writes_per_s: ok / secs,
				dir_load_per_1000: (loaded.apparent -
				    before.apparent) * f,
				dir_idle_per_1000: (idle.apparent -
				    before.apparent) * f,
				alloc_idle_per_1000: (idle.alloc -
				    before.alloc) * f,
				wal_max: walMax, wal_end: walEnd,
				wal_idle: walIdle,
				wal_max_per_1000: walMax * f,
				wal_end_per_1000: walEnd * f,
				wal_idle_per_1000: walIdle * f,
				before, loaded, idle,
			});
			say(`  ${k}: ${ok} writes (${failed} failed) in ` +
			    `${secs.toFixed(1)} s; data dir +` +
			    `${((loaded.apparent - before.apparent) / 1e6)
			    .toFixed(1)} MB, WAL max ${(walMax / 1e6)
			    .toFixed(1)} MB, end ${(walEnd / 1e6).toFixed(1)} ` +
			    `MB; after ${opt.idle} s idle: data dir +` +
			    `${((idle.apparent - before.apparent) / 1e6)
			    .toFixed(1)} MB, WAL ${(walIdle / 1e6)
			    .toFixed(1)} MB`);
		} catch (e) {
			markNa('diskload', k, e.message.split('\n')[0]);
		} finally {
			if (srv) {
				await srv.stop();
				live.delete(srv);
			}
		}
	}
}

async function handleDomain(url) {
	const r = await xrpc(url, 'com.atproto.server.describeServer');
	return r.json?.availableUserDomains?.[0] ?? '.test';
}

// Accounts and data on a target: a reader with opt.records posts and
// eight writers.  Sets t.ready or t.setupError.
async function setupTarget(t) {
	const dom = await handleDomain(t.url);
	t.reader = await createAccount(t.url, dom, 'rd');
	if (t.reader.error) {
		t.setupError = `createAccount: ${t.reader.error}`;
		return;
	}
	t.writers = [];
	for (let i = 0; i < 8; i++) {
		const a = await createAccount(t.url, dom, `w${i}`);
		if (a.error) {
			t.setupError = `createAccount: ${a.error}`;
			return;
		}
		t.writers.push(a);
	}
	const t0 = performance.now();
	try {
		t.reader.rkeys = await populate(t.url, t.reader, opt.records);
		t.populateSecs = (performance.now() - t0) / 1000;
	} catch (e) {
		t.populateError = e.message;
		return;
	}
	const r = await xrpc(t.url, 'com.atproto.sync.getRepo',
	    { params: { did: t.reader.did } });
	if (r.status === 200)
		sample('repo', t.name, { car_bytes: r.bytes });
}

function httpLines(t, s) {
	const rd = t.reader;
	const g = (p) => `GET\t${p}\t-\t-`;
	const enc = encodeURIComponent;
	switch (s) {
	case 'describeServer':
		return [g('/xrpc/com.atproto.server.describeServer')];
	case 'getRecord':
		return shuffle(rd.rkeys ?? [], 7).map((k) => g(
		    `/xrpc/com.atproto.repo.getRecord?repo=${enc(rd.did)}` +
		    `&collection=${COLL}&rkey=${k}`));
	case 'listRecords': {
		const base = `/xrpc/com.atproto.repo.listRecords?repo=` +
		    `${enc(rd.did)}&collection=${COLL}&limit=50`;
		const ks = shuffle(rd.rkeys ?? [], 11).slice(0, 200);
		return [g(base), ...ks.map((k) => g(`${base}&cursor=${k}`))];
	}
	case 'getLatestCommit':
		return [rd, ...t.writers].map((a) => g(
		    `/xrpc/com.atproto.sync.getLatestCommit?did=${enc(a.did)}`));
	case 'getRepo':
		return [g(`/xrpc/com.atproto.sync.getRepo?did=${enc(rd.did)}`)];
	case 'createSession':
		return t.writers.map((a) => `POST\t` +
		    '/xrpc/com.atproto.server.createSession\t-\t' +
		    JSON.stringify({ identifier: a.handle,
			password: a.password }));
	case 'createRecord':
		return t.writers.map((a) => `POST\t` +
		    `/xrpc/com.atproto.repo.createRecord\t${a.token}\t` +
		    JSON.stringify({ repo: a.did, collection: COLL,
			record: postRecord("@SEQ@") }));
	default:
		throw new Error(s);
	}
}

// One request as the scenario sends it: 2xx or a reason.
async function probe(t, line) {
	const [method, p, token, body] = line.split('\t');
	const headers = { 'x-ratelimit-bypass': BYPASS_KEY };
	if (token !== '-')
		headers.authorization = `Bearer ${token}`;
	if (body !== '-')
		headers['content-type'] = 'application/json';
	let res;
	try {
		res = await fetch(t.url + p, { method, headers,
			body: body !== '-' ? body : undefined,
			signal: AbortSignal.timeout(60000) });
	} catch (e) {
		return `no answer (${e.message})`;
	}
	const buf = Buffer.from(await res.arrayBuffer());
	if (res.status >= 200 && res.status < 300)
		return null;
	let json = null;
	try {
		json = JSON.parse(buf.toString());
	} catch {
		// not JSON
	}
	return why({ status: res.status, json, text: buf.toString('utf8', 0,
	    200) });
}

async function runWrk(t, file, conns, secs) {
	const threads = Math.min(2, conns);
	const [f, a] = pinned('wrk', [`-t${threads}`, `-c${conns}`,
		`-d${secs}s`, '--timeout', '10s', '-s', WRK_LUA, t.url],
	    CLIENT_CPUS);
	const r = await run(f, a,
	    { env: { ...process.env, BENCH_REQUESTS: file,
		BENCH_RUN: randomBytes(6).toString('hex') },
		timeoutMs: (secs + 60) * 1000 });
	const m = /^BENCHJSON (.*)$/m.exec(r.stdout);
	if (!m)
		throw new Error(`wrk: ${r.stderr || r.stdout}`.slice(0, 300));
	const j = JSON.parse(m[1]);
	const d = j.duration_us / 1e6;
	const e = j.errors;
	const bad = e.status + e.timeout + e.connect + e.read + e.write;
	return {
		conns, secs: d, requests: j.requests, errors: e,
		rps: Math.max(0, j.requests - e.status - e.timeout) / d,
		p50_ms: j.latency_us.p50 / 1000,
		p90_ms: j.latency_us.p90 / 1000,
		p99_ms: j.latency_us.p99 / 1000,
		max_ms: j.latency_us.max / 1000,
		mb_per_s: j.bytes / d / 1e6,
		error_share: j.requests ? bad / j.requests : 1,
	};
}

async function scenarioHttp(s, targets, tmp) {
	const ready = [];
	for (const t of targets) {
		if (t.setupError) {
			markNa(s, t.name, t.setupError);
			continue;
		}
		if ((s === 'getRecord' || s === 'listRecords' ||
		    s === 'getRepo') && t.populateError) {
			markNa(s, t.name, `populating ${opt.records} records: ` +
			    t.populateError);
			continue;
		}
		const lines = httpLines(t, s);
		const reason = await probe(t, lines[0]);
		if (reason) {
			markNa(s, t.name, reason);
			continue;
		}
		const file = path.join(tmp, `${t.name}-${s}.txt`);
		fs.writeFileSync(file, lines.join('\n') + '\n');
		ready.push({ t, file });
	}
	if (ready.length === 0)
		return;
	say(`${s}: ${opt.conns.join(', ')} connections, ${opt.reps} x ` +
	    `${opt.duration} s each on ${ready.map((x) => x.t.name)
		.join(', ')}`);
	// A short warm-up each (JIT, caches), not recorded.
	for (const { t, file } of ready)
		await runWrk(t, file, opt.conns[0], 1);
	let round = 0;
	for (const conns of opt.conns) {
		for (let r = 0; r < opt.reps; r++, round++) {
			for (const { t, file } of order(ready, round)) {
				const res = await runWrk(t, file, conns,
				    opt.duration);
				sample(s, t.name, res);
				if (res.error_share > 0.01) {
					say(`  ${t.name} ${s} c=${conns}: ` +
					    `${(res.error_share * 100)
						.toFixed(1)}% errors`);
				}
			}
		}
	}
}

async function scenarioFirehose(targets, tmp) {
	if (!isExecutable(FHSUB)) {
		for (const t of targets)
			markNa('firehose', t.name, `${FHSUB} missing`);
		return;
	}
	const ready = [];
	for (const t of targets) {
		if (t.setupError) {
			markNa('firehose', t.name, t.setupError);
			continue;
		}
		const reason = await probe(t, httpLines(t, 'createRecord')[0]);
		if (reason) {
			markNa('firehose', t.name, `createRecord: ${reason}`);
			continue;
		}
		const file = path.join(tmp, `${t.name}-tokens.txt`);
		fs.writeFileSync(file, t.writers.map((a) =>
		    `${a.did} ${a.token}`).join('\n') + '\n');
		ready.push({ t, file });
	}
	if (ready.length === 0)
		return;
	say(`firehose: subscribers ${opt.fhSubs.join(', ')} x writes/s ` +
	    `${opt.fhRates.join(', ')}, ${opt.fhDuration} s each`);
	let round = 0;
	for (const subs of opt.fhSubs) {
		for (const rate of opt.fhRates) {
			for (const { t, file } of order(ready, round++)) {
				if (results.na[`firehose/${t.name}`])
					continue;
				const [f, a] = pinned(FHSUB, ['-u', t.url, '-n',
					String(subs), '-r', String(rate), '-d',
					String(opt.fhDuration), '-w', '8', '-t',
					file], CLIENT_CPUS);
				const r = await run(f, a, { timeoutMs: 180000 });
				let j;
				try {
					j = JSON.parse(r.stdout);
				} catch {
					markNa('firehose', t.name, `fhsub: ` +
					    `${r.stderr || r.stdout}`.slice(0, 200));
					continue;
				}
				if (j.connected === 0) {
					markNa('firehose', t.name,
					    'subscribeRepos: no WebSocket ' +
					    'connection accepted');
					continue;
				}
				sample('firehose', t.name, j);
				say(`  ${t.name} ${subs} subs @ ${rate}/s: ` +
				    `delivery p50 ${j.delivery_ms.p50} ms p99 ` +
				    `${j.delivery_ms.p99} ms, drops ${j.drops}, ` +
				    `${j.rate_achieved}/s`);
				// Let the server drain its queues.
				await sleep(1000);
			}
		}
	}
}

// ---- OAuth: DPoP-bound requests ------------------------------------

// The reference's authorization page is a JavaScript application; do what
// its script does, through its JSON API: sign in, then consent.  Node's
// fetch would rewrite Sec-Fetch-Mode, so the calls go through the
// FormBrowser of tests/interop/oauth.mjs (node:http, cookies by hand: the
// reference marks its CSRF cookie Secure even over http).
async function approveInRefApi(oa, authorizeUrl, identifier, password) {
	const br = new oa.FormBrowser();
	const page = await br.get(authorizeUrl);
	if (page.status !== 200)
		throw new Error(`authorize page: HTTP ${page.status}`);
	const origin = new URL(authorizeUrl).origin;
	const api = async (endpoint, body) => {
		const json = JSON.stringify(body);
		const r = await br.request(`${origin}/@atproto/oauth-provider/` +
		    `~api/${endpoint}`, {
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				'content-length': Buffer.byteLength(json),
				origin,
				referer: authorizeUrl,
				'sec-fetch-mode': 'same-origin',
				'sec-fetch-site': 'same-origin',
				'sec-fetch-dest': 'empty',
				'x-csrf-token': br.cookies.get('csrf-token') ?? '',
			},
			body: json,
		});
		if (r.status !== 200)
			throw new Error(`~api/${endpoint}: HTTP ${r.status} ` +
			    r.body.slice(0, 200));
		return JSON.parse(r.body);
	};
	const who = await api('sign-in', { locale: 'en', username: identifier,
		password, remember: true });
	const { url } = await api('consent', { did: who.account.did });
	const q = new URL(url).searchParams;
	const out = new URLSearchParams();
	for (const k of ['code', 'state', 'iss', 'error', 'error_description']) {
		if (q.has(k))
			out.set(k, q.get(k));
	}
	return out;
}

// An OAuth session for each of the target's accounts, through the
// official client (a loopback client, scope "atproto transition:generic"):
// t.oauth = { origin, reader, writers }, each { token, jwk } where jwk is
// the session's private DPoP key, or t.oauthError.
async function oauthSetup(t) {
	let oa;
	try {
		oa = await import('../tests/interop/oauth.mjs');
	} catch (e) {
		t.oauthError = `the official OAuth client: ${e.message}`;
		return;
	}
	if (plc === null) {
		t.oauthError = 'needs the local PLC directory (no --*-url)';
		return;
	}
	const c = oa.oauthClient({ url: t.url }, plc);
	const one = async (a) => {
		const url = await c.client.authorize(a.handle,
		    { scope: oa.SCOPE });
		const params = t.name === 'pdsd' ?
		    await oa.approveInForms(url.href ?? String(url), a.handle,
			a.password) :
		    await approveInRefApi(oa, String(url), a.handle,
			a.password);
		const { session } = await c.client.callback(params,
		    { redirect_uri: oa.REDIRECT_URI });
		const stored = c.sessions.map.get(session.did);
		const ts = stored.tokenSet;
		if (ts.token_type !== 'DPoP')
			throw new Error(`token_type ${ts.token_type}`);
		return { token: ts.access_token, jwk: stored.dpopJwk,
			aud: ts.aud };
	};
	try {
		const t0 = performance.now();
		const reader = await one(t.reader);
		const writers = [];
		for (const w of t.writers)
			writers.push(await one(w));
		t.oauth = { origin: new URL(reader.aud).origin, reader,
			writers, secs: (performance.now() - t0) / 1000 };
	} catch (e) {
		t.oauthError = `OAuth sign-in: ${e.message}`.slice(0, 300);
	}
}

// The request file of bench/dpopload.c for scenario s: a session line
// (access token, DPoP key) per account, then the requests.
function oauthLines(t, s) {
	const o = t.oauth;
	const rd = t.reader;
	const enc = encodeURIComponent;
	const sess = (x) => `S\t${x.token}\t${x.jwk.crv}\t${x.jwk.d}`;
	if (s === 'oauthCreateRecord') {
		return [...o.writers.map(sess), ...t.writers.map((a, i) =>
		    `R\t${i}\tPOST\t/xrpc/com.atproto.repo.createRecord\t` +
		    JSON.stringify({ repo: a.did, collection: COLL,
			record: postRecord(0) }))];
	}
	if (s === 'oauthGetSession') {
		return [sess(o.reader),
		    'R\t0\tGET\t/xrpc/com.atproto.server.getSession\t-'];
	}
	const p = s === 'oauthCeiling' ? () => '/xrpc/_health' : (k) =>
	    `/xrpc/com.atproto.repo.getRecord?repo=${enc(rd.did)}` +
	    `&collection=${COLL}&rkey=${k}`;
	return [sess(o.reader), ...shuffle(rd.rkeys ?? [], 7)
	    .map((k) => `R\t0\tGET\t${p(k)}\t-`)];
}

// One run of bench/dpopload.c; the fields of runWrk's result.
async function runDpop(t, s, conns, secs, tmp) {
	// Proofs signed before the clock starts: enough for 1.5 times the
	// best rate seen so far, so that signing stays out of the figure.
	const best = t.oauthBest?.[s] ?? 0;
	const nsess = s === 'oauthCreateRecord' ? t.writers.length : 1;
	const proofs = best === 0 ? 0 :
	    Math.ceil(Math.max(500, best * secs * 1.5 / nsess));
	const file = path.join(tmp, `${t.name}-${s}.txt`);
	fs.writeFileSync(file, oauthLines(t, s).join('\n') + '\n');
	const [f, a] = pinned(DPOPLOAD, ['-u', t.url, '-o', t.oauth.origin,
		'-c', String(conns), '-d', String(secs), '-t', '2', '-n',
		String(proofs), '-f', file], CLIENT_CPUS);
	const r = await run(f, a, { timeoutMs: (secs + 300) * 1000 });
	const m = /^BENCHJSON (.*)$/m.exec(r.stdout);
	if (!m)
		throw new Error(`dpopload: ${r.stderr || r.stdout}`.slice(0, 300));
	const j = JSON.parse(m[1]);
	const d = j.duration_us / 1e6;
	const e = j.errors;
	const bad = e.status + e.timeout + e.connect + e.read + e.write;
	const res = {
		conns, secs: d, requests: j.requests, errors: e,
		statuses: j.statuses,
		rps: Math.max(0, j.requests - e.status - e.timeout) / d,
		p50_ms: j.latency_us.p50 / 1000,
		p90_ms: j.latency_us.p90 / 1000,
		p99_ms: j.latency_us.p99 / 1000,
		max_ms: j.latency_us.max / 1000,
		error_share: j.requests ? bad / j.requests : 1,
		proofs_presigned: proofs * nsess, signed_live: j.signed_live,
		presign_ms: j.presign_ms, nonce_changes: j.nonce_changes,
	};
	t.oauthBest ??= {};
	t.oauthBest[s] = Math.max(best, res.rps);
	return res;
}

async function scenarioOauth(targets, tmp) {
	const ready = [];
	for (const t of targets) {
		if (t.setupError || t.populateError) {
			markNa('oauth', t.name, t.setupError ?? t.populateError);
			continue;
		}
		say(`oauth: ${t.name}: sessions for ${1 + t.writers.length} ` +
		    'accounts through the official client');
		await oauthSetup(t);
		if (t.oauthError) {
			markNa('oauth', t.name, t.oauthError);
			continue;
		}
		say(`  ${t.name}: ${(t.oauth.secs).toFixed(1)} s`);
		ready.push(t);
	}
	if (ready.length === 0)
		return;
	if (!isExecutable(DPOPLOAD)) {
		for (const t of ready)
			markNa('oauth', t.name, `${DPOPLOAD} missing`);
		return;
	}
	// The generator's own ceiling: the same DPoP requests to pdsd's
	// health check, which reads neither the token nor the proof.
	const scen = [...OAUTH_SCENARIOS];
	const pdsd = ready.find((t) => t.name === 'pdsd');
	say(`oauth: ${scen.join(', ')}: ${opt.conns.join(', ')} ` +
	    `connections, ${opt.reps} x ${opt.duration} s each on ` +
	    `${ready.map((t) => t.name).join(', ')}; the generator's ceiling ` +
	    `on ${pdsd ? 'pdsd /xrpc/_health' : 'nothing (no pdsd)'}`);
	for (const s of scen) {
		for (const t of ready) {
			try {
				await runDpop(t, s, opt.conns[0], 1, tmp);
			} catch (e) {
				markNa(s, t.name, e.message);
			}
		}
	}
	if (pdsd)
		await runDpop(pdsd, 'oauthCeiling', opt.conns[0], 1, tmp);
	let round = 0;
	for (const conns of opt.conns) {
		for (let r = 0; r < opt.reps; r++, round++) {
			for (const s of scen) {
				for (const t of order(ready, round)) {
					if (results.na[`${s}/${t.name}`])
						continue;
					const res = await runDpop(t, s, conns,
					    opt.duration, tmp);
					sample(s, t.name, res);
					if (res.error_share > 0.01) {
						say(`  ${t.name} ${s} c=${conns}: ` +
						    `${(res.error_share * 100)
							.toFixed(1)}% errors ` +
						    JSON.stringify(res.statuses));
					}
				}
			}
			if (pdsd) {
				sample('oauthCeiling', 'pdsd', await runDpop(pdsd,
				    'oauthCeiling', conns, opt.duration, tmp));
			}
		}
	}
}

// ---- the table ---------------------------------------------------

function fmt(v, digits = null) {
	if (v === null || v === undefined)
		return 'n/a';
	if (typeof v === 'boolean')
		return v ? 'yes' : 'no';
	if (digits !== null)
		return v.toFixed(digits);
	const a = Math.abs(v);
	if (a >= 1000)
		return Math.round(v).toLocaleString('en-US');
	if (a >= 100)
		return v.toFixed(0);
	if (a >= 10)
		return v.toFixed(1);
	return v.toFixed(2);
}

function rows() {
	const out = [];
	const names = opt.targets;
	const pick = (scen, filter, f) => {
		const m = {};
		for (const n of names) {
			const xs = results.samples.filter((x) => x.scenario ===
			    scen && x.target === n && filter(x)).map(f);
			m[n] = median(xs);
		}
		return m;
	};
	const row = (figure, unit, better, m, note = '') => {
		out.push({ figure, unit, better, values: m, note });
	};
	const all = () => true;

	row('cold start to first healthy response', 'ms', 'lower',
	    pick('cold', all, (x) => x.ms));
	row('restart to healthy (existing data)', 'ms', 'lower',
	    pick('restart', all, (x) => x.ms));
	row(`disk per 1,000 posts (allocated)`, 'KB', 'lower',
	    pick('disk', all, (x) => x.alloc_per_1000 / 1000));
	row(`disk per 1,000 posts (apparent)`, 'KB', 'lower',
	    pick('disk', all, (x) => x.apparent_per_1000 / 1000));
	const dl = `at c=${DISKLOAD_CONNS}`;
	row(`disk ${dl}: writes in ${opt.loadDuration} s`, 'writes',
	    'higher', pick('diskload', all, (x) => x.writes));
	row(`disk ${dl}: data dir per 1,000 writes, end of load`, 'KB',
	    'lower', pick('diskload', all, (x) => x.dir_load_per_1000 / 1000));
	row(`disk ${dl}: data dir per 1,000 writes, after ${opt.idle} s ` +
	    'idle', 'KB', 'lower',
	    pick('diskload', all, (x) => x.dir_idle_per_1000 / 1000));
	row(`disk ${dl}: WAL max per 1,000 writes`, 'KB', 'lower',
	    pick('diskload', all, (x) => x.wal_max_per_1000 / 1000));
	row(`disk ${dl}: WAL per 1,000 writes, end of load`, 'KB', 'lower',
	    pick('diskload', all, (x) => x.wal_end_per_1000 / 1000));
	row(`disk ${dl}: WAL per 1,000 writes, after ${opt.idle} s idle`,
	    'KB', 'lower',
	    pick('diskload', all, (x) => x.wal_idle_per_1000 / 1000));
	row(`disk ${dl}: WAL max`, 'MB', 'lower',
	    pick('diskload', all, (x) => x.wal_max / 1e6));
	row('RSS idle (fresh, no accounts)', 'MB', 'lower',
	    pick('memory', all, (x) => x.idle / 1e6));
	row('RSS after load', 'MB', 'lower',
	    pick('memory', all, (x) => x.after / 1e6));
	row('RSS peak', 'MB', 'lower',
	    pick('memory', all, (x) => x.peak / 1e6));
	for (const s of HTTP_SCENARIOS) {
		for (const c of opt.conns) {
			const f = (x) => x.conns === c;
			if (s === 'getRepo' && c === opt.conns[0]) {
				row(`getRepo: CAR size of ${opt.records} records`,
				    'KB', 'lower', pick('repo', all,
					(x) => x.car_bytes / 1000));
			}
			if (s === 'getRepo') {
				row(`${s} (${opt.records} records) c=${c}`, 'MB/s',
				    'higher', pick(s, f, (x) => x.mb_per_s));
			}
			row(`${s} c=${c}`, 'req/s', 'higher',
			    pick(s, f, (x) => x.rps));
			row(`${s} c=${c} p50`, 'ms', 'lower',
			    pick(s, f, (x) => x.p50_ms));
			row(`${s} c=${c} p99`, 'ms', 'lower',
			    pick(s, f, (x) => x.p99_ms));
		}
	}
	const oauthLabel = {
		oauthCreateRecord: 'OAuth (DPoP) createRecord',
		oauthGetRecord: 'OAuth (DPoP) getRecord (public: token unread)',
		oauthGetSession: 'OAuth (DPoP) getSession (token checked)',
		oauthCeiling: 'DPoP load generator ceiling (pdsd _health)',
	};
	for (const s of [...OAUTH_SCENARIOS, 'oauthCeiling']) {
		for (const c of opt.conns) {
			const f = (x) => x.conns === c;
			row(`${oauthLabel[s]} c=${c}`, 'req/s', 'higher',
			    pick(s, f, (x) => x.rps));
			row(`${oauthLabel[s]} c=${c} p50`, 'ms', 'lower',
			    pick(s, f, (x) => x.p50_ms));
			row(`${oauthLabel[s]} c=${c} p99`, 'ms', 'lower',
			    pick(s, f, (x) => x.p99_ms));
		}
	}
	for (const subs of opt.fhSubs) {
		for (const rate of opt.fhRates) {
			const f = (x) => x.subscribers === subs &&
			    x.rate_target === rate;
			const tag = `firehose ${subs} sub × ${rate} w/s`;
			row(`${tag}: delivery p50`, 'ms', 'lower',
			    pick('firehose', f, (x) => x.delivery_ms.p50));
			row(`${tag}: delivery p99`, 'ms', 'lower',
			    pick('firehose', f, (x) => x.delivery_ms.p99));
			row(`${tag}: drops`, 'frames', 'lower',
			    pick('firehose', f, (x) => x.drops));
			row(`${tag}: frames before the ack`, '%', '',
			    pick('firehose', f, (x) => x.delivered ?
				100 * x.before_ack / x.delivered : null));
			row(`${tag}: writes acked`, 'w/s', 'higher',
			    pick('firehose', f, (x) => x.rate_achieved));
			row(`${tag}: rate holds`, '', 'yes',
			    pick('firehose', f, (x) => x.rate_holds ? 1 : 0));
		}
	}
	return out;
}

function table() {
	const names = opt.targets;
	const label = { pdsd: 'pdsd', ref: 'reference' };
	let md = `| figure | unit | better | ${names.map((n) => label[n])
	    .join(' | ')} |${names.length === 2 ? ' pdsd/ref |' : ''}\n`;
	md += `|---|---|---|${names.map(() => '---:').join('|')}|` +
	    `${names.length === 2 ? '---:|' : ''}\n`;
	for (const r of rows()) {
		if (names.every((n) => r.values[n] === null))
			continue;
		const v = names.map((n) => r.unit === '' ?
		    (r.values[n] === null ? 'n/a' : r.values[n] ? 'yes' : 'no') :
		    fmt(r.values[n]));
		let ratio = '';
		if (names.length === 2) {
			const a = r.values.pdsd;
			const b = r.values.ref;
			ratio = a !== null && b !== null && b !== 0 && r.unit !== '' &&
			    r.better !== '' ?
			    ` ${fmt(a / b, a / b >= 10 ? 1 : 2)} |` : ' – |';
		}
		md += `| ${r.figure} | ${r.unit} | ${r.better} | ${v.join(' | ')}` +
		    ` |${ratio}\n`;
	}
	if (results.micro) {
		const m = results.micro;
		md += '\n**Limits on one core (pdsd\'s code, bench/micro.c):**\n\n' +
		    '| figure | value |\n|---|---:|\n' +
		    `| one secp256k1 signature | ${fmt(m.sign_us)} µs |\n` +
		    `| one SHA-256 of 1 KiB | ${fmt(m.sha256_1k_us)} µs |\n` +
		    `| one commit's rows, own WAL transaction, synchronous=FULL ` +
		    `| ${fmt(m.txn_full_us)} µs |\n` +
		    `| the same, ${m.group} commits per transaction | ` +
		    `${fmt(m.txn_full_grouped_us)} µs per commit |\n` +
		    `| the same, own transaction, synchronous=NORMAL | ` +
		    `${fmt(m.txn_normal_us)} µs |\n` +
		    `| commits/s, one fsync per commit: 1/(sign + ` +
		    `${m.blocks_per_commit}×SHA + txn) | ` +
		    `${fmt(m.commits_per_s_serial)} |\n` +
		    `| commits/s, group commit of ${m.group} | ` +
		    `${fmt(m.commits_per_s_grouped)} |\n` +
		    `| commits/s, signing and hashing only | ` +
		    `${fmt(m.commits_per_s_cpu_only)} |\n`;
		if (m.dpop_verify_us !== undefined) {
			md += `| one DPoP proof checked (dpop_verify: ES256, ` +
			    `claims, ath) | ${fmt(m.dpop_verify_us)} µs |\n`;
		}
	}
	const nas = Object.entries(results.na);
	if (nas.length) {
		md += '\n**Not measured (n/a):**\n\n';
		for (const [k, v] of nas)
			md += `- ${k.replace('/', ' on ')}: ${v}\n`;
	}
	return md;
}

function report() {
	const e = results.env;
	let md = `# Benchmark: pdsd and the reference PDS, side by side\n\n`;
	md += `- date: ${results.started}, run took ${
	    Math.round(results.seconds)} s${opt.quick ? ' (--quick)' : ''}\n`;
	md += `- machine: ${e.cpu}, ${e.cores} cores, ${e.mem_gb} GB, ` +
	    `Linux ${e.kernel}\n`;
	md += `- pdsd: ${e.pdsd ?? 'n/a'}; reference: ${e.reference ??
	    'n/a'} on Node ${e.node} (PDS_DEV_MODE=true, NODE_ENV=production)\n`;
	md += `- rate limits (global budget seen without the bypass key): ` +
	    `pdsd ${e.ratelimit_pdsd ?? 'n/a'}, reference ${
	    e.ratelimit_ref ?? 'n/a'}; the load carries the bypass key\n`;
	const loads = results.samples.map((x) => x.load1);
	if (loads.length) {
		md += `- machine load (1-min average) at the samples: median ` +
		    `${fmt(median(loads))}, max ${fmt(Math.max(...loads))} on ` +
		    `${e.cores} cores (other processes share them; compare ` +
		    `ratios, not absolute figures, when it is high)\n`;
	}
	if (opt.pin) {
		md += `- pinned: servers on CPU ${SERVER_CPUS}, wrk and fhsub ` +
		    `on CPU ${CLIENT_CPUS}\n`;
	}
	md += `- both on 127.0.0.1 with fresh data directories in ${e.tmpdir}, ` +
	    `one local PLC directory, request logs ${opt.logs}; load ` +
	    `generator on the same machine (wrk -t2, bench/fhsub)\n`;
	md += `- HTTP: medians of ${opt.reps} × ${opt.duration} s runs per ` +
	    `figure, targets interleaved; reads on one account with ` +
	    `${opt.records} posts; writes spread over 8 accounts\n`;
	md += `- firehose: ${opt.fhDuration} s of writes per cell from 8 ` +
	    `writer threads; delivery = frame arrival minus the write's ` +
	    `HTTP acknowledgement, over every (subscriber, write) pair ` +
	    `(0 when the frame came first)\n`;
	md += `- disk: data directory growth over ${opt.posts} posts ` +
	    `(scaled to 1,000), measured after clean stops\n`;
	md += `- disk at c=${DISKLOAD_CONNS}: createRecord for ` +
	    `${opt.loadDuration} s over ${DISKLOAD_ACCTS} accounts on a ` +
	    `running server, then ${opt.idle} s idle; apparent sizes, WAL ` +
	    `files (every *-wal) included and sampled every ` +
	    `${DISKLOAD_SAMPLE_MS} ms\n\n`;
	md += table();
	md += blobstoreTable();
	return md;
}

// ---- main ----------------------------------------------------------

async function main() {
	results.env = envInfo();
	try {
		const r = await run('git', ['-C', ROOT, 'describe', '--always',
			'--dirty']);
		results.env.pdsd = `git ${r.stdout.trim()}`;
	} catch {
		// no git
	}
	const kinds = opt.targets.filter((k) => !opt.urls[k]);
	if (kinds.includes('pdsd') && !isExecutable(PDSD)) {
		console.error(`bench: ${PDSD} is missing (make B=...)`);
		process.exit(1);
	}
	if (kinds.length) {
		plc = await startPlc();
		say(`PLC directory at ${plc.url}`);
	}
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-bench-run-'));
	try {
		if (want('micro'))
			await scenarioMicro();
		if (want('cold') && kinds.length)
			await scenarioCold(kinds);
		if (want('disk') && kinds.length)
			await scenarioDisk(kinds);
		if (want('diskload') && kinds.length)
			await scenarioDiskLoad(kinds);

		// The long-running servers for the load scenarios.
		const targets = [];
		for (const name of opt.targets) {
			const t = { name };
			if (opt.urls[name]) {
				t.url = opt.urls[name].replace(/\/+$/, '');
			} else {
				say(`starting ${name}`);
				try {
					t.srv = await startServer(name);
				} catch (e) {
					say(`${name} did not start: ${e.message}`);
					t.setupError = 'did not start';
					targets.push(t);
					continue;
				}
				live.add(t.srv);
				t.url = t.srv.url;
			}
			targets.push(t);
			// Are its limits on?  One request without the key.
			try {
				const r = await fetch(`${t.url}/xrpc/` +
				    'com.atproto.server.describeServer');
				results.env[`ratelimit_${name}`] =
				    r.headers.get('ratelimit-policy') ?? 'off';
			} catch {
				// reported by the scenarios
			}
		}
		const loadWanted = HTTP_SCENARIOS.some(want) ||
		    want('firehose') || want('oauth');
		const sampler = [];
		if (want('memory')) {
			await sleep(2000);
			for (const t of targets) {
				if (!t.srv)
					continue;
				t.mem = { idle: memOf(t.srv.pid).rss, peak: 0 };
				t.mem.peak = t.mem.idle;
			}
			const iv = setInterval(() => {
				for (const t of targets) {
					if (t.mem) {
						t.mem.peak = Math.max(t.mem.peak,
						    memOf(t.srv.pid).rss);
					}
				}
			}, 200);
			sampler.push(iv);
		}
		if (loadWanted || want('memory')) {
			for (const t of targets) {
				if (t.setupError)
					continue;
				say(`${t.name}: accounts and ${opt.records} records`);
				await setupTarget(t);
				if (t.setupError)
					say(`  ${t.name}: ${t.setupError}`);
				else if (t.populateError)
					say(`  ${t.name}: ${t.populateError}`);
				else
					say(`  ${t.name}: ${opt.records} records in ` +
					    `${t.populateSecs.toFixed(1)} s`);
			}
		}
		for (const s of HTTP_SCENARIOS) {
			if (want(s))
				await scenarioHttp(s, targets, tmp);
		}
		if (want('firehose'))
			await scenarioFirehose(targets, tmp);
		if (want('oauth'))
			await scenarioOauth(targets, tmp);
		if (want('blobstore') && kinds.length)
			await scenarioBlobstore(kinds);
		if (want('memory')) {
			await sleep(2000);
			for (const iv of sampler)
				clearInterval(iv);
			for (const t of targets) {
				if (!t.mem)
					continue;
				const m = memOf(t.srv.pid);
				sample('memory', t.name, { idle: t.mem.idle,
					after: m.rss, peak: Math.max(t.mem.peak, m.rss,
					    m.hwm), hwm: m.hwm });
			}
		}
		for (const t of targets) {
			results.targets[t.name] = { url: t.url,
				external: !t.srv, setupError: t.setupError,
				populateError: t.populateError,
				populateSecs: t.populateSecs };
			if (t.srv) {
				await t.srv.stop();
				live.delete(t.srv);
			}
		}
	} finally {
		fs.rmSync(tmp, { recursive: true, force: true });
		if (plc)
			await plc.stop();
	}
	results.seconds = (Date.now() - T0) / 1000;
	const md = report();
	process.stdout.write('\n' + md);
	if (opt.save) {
		fs.mkdirSync(opt.out, { recursive: true });
		const d = new Date();
		const pad = (n) => String(n).padStart(2, '0');
		const stem = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-` +
		    `${pad(d.getDate())}T${pad(d.getHours())}${pad(d.getMinutes())}` +
		    `${opt.quick ? '-quick' : ''}`;
		fs.writeFileSync(path.join(opt.out, `${stem}.json`),
		    JSON.stringify(results, null, 1) + '\n');
		fs.writeFileSync(path.join(opt.out, `${stem}.md`), md);
		say(`wrote ${path.relative(ROOT, path.join(opt.out, stem))}` +
		    '.{json,md}');
	}
}

await main();
