// Helpers for the interop tests: paths, free ports, and starting a local
// PLC directory and pdsd on loopback, each stopped by its PID; also an
// SMTP sink, waiting for a condition, and listing a repo's records.
//
//   import { startPlc, startPdsd } from './lib.mjs';
//   const plc = await startPlc();           // { url, port, pid, stop }
//   const pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url } });
//   ...                                      // { url, port, pid, dataDir, ... }
//   await pds.stop(); await plc.stop();
//
// B (environment, default "build") names the build directory, relative to
// the project root or absolute.  Children are killed if the test process
// exits without stopping them.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Secp256k1Keypair } from '@atproto/crypto';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
    '..', '..');
export const BUILD = path.resolve(ROOT, process.env.B || 'build');
export const PDSD = path.join(BUILD, 'bin', 'pdsd');
export const PDSCTL = path.join(BUILD, 'bin', 'pdsctl');
export const REPOTOOL = path.join(BUILD, 'tests', 'repotool');
export const PLC_SERVER = path.join(ROOT, 'scripts', 'plc-server.mjs');

// Every child still running when this process exits gets SIGKILL.
const children = new Set();
process.on('exit', () => {
	for (const child of children) {
		try {
			process.kill(child.pid, 'SIGKILL');
		} catch {
			// already gone
		}
	}
});

export function isExecutable(file) {
	try {
		fs.accessSync(file, fs.constants.X_OK);
		return fs.statSync(file).isFile();
	} catch {
		return false;
	}
}

// A TCP port on 127.0.0.1 that was free a moment ago.
export function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

export function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

export function tmpDir(prefix = 'pds-interop-') {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Send SIGTERM, wait up to graceMs for the exit, then SIGKILL.  Resolves
// with { code, signal } of the exit.
async function stopChild(child, graceMs = 5000) {
	if (child.exitCode !== null || child.signalCode !== null) {
		children.delete(child);
		return { code: child.exitCode, signal: child.signalCode };
	}
	const exited = new Promise((resolve) => child.once('exit',
	    (code, signal) => resolve({ code, signal })));
	try {
		process.kill(child.pid, 'SIGTERM');
	} catch {
		// already gone
	}
	let timer;
	const late = new Promise((resolve) => {
		timer = setTimeout(() => resolve(null), graceMs);
	});
	let res = await Promise.race([exited, late]);
	clearTimeout(timer);
	if (res === null) {
		try {
			process.kill(child.pid, 'SIGKILL');
		} catch {
			// already gone
		}
		res = await exited;
	}
	children.delete(child);
	return res;
}

// Start scripts/plc-server.mjs (a real @did-plc/server, in memory) on a free
// loopback port.  url is http://127.0.0.1:<port>; localhostUrl names the
// same server as http://localhost:<port>.
export async function startPlc({ timeoutMs = 20000 } = {}) {
	const child = spawn(process.execPath, [PLC_SERVER, '0'], {
		cwd: ROOT,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	children.add(child);
	let out = '';
	let err = '';
	child.stderr.setEncoding('utf8');
	child.stderr.on('data', (d) => { err += d; });
	child.stdout.setEncoding('utf8');
	const url = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(
		    `PLC server did not start in ${timeoutMs} ms: ${err}`)),
		    timeoutMs);
		child.stdout.on('data', (d) => {
			out += d;
			const m = /PLC listening on (http:\/\/\S+)/.exec(out);
			if (m) {
				clearTimeout(timer);
				resolve(m[1]);
			}
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			reject(new Error(`PLC server exited (${code ?? signal}): ` +
			    err));
		});
	});
	child.stdout.resume();
	const port = Number(new URL(url).port);
	const plc = {
		url,
		localhostUrl: `http://localhost:${port}`,
		port,
		pid: child.pid,
		stop: () => stopChild(child),
	};
	if (process.env.PDS_INTEROP_SEED) {
		try {
			await seedPlc(url, process.env.PDS_INTEROP_SEED);
		} catch (e) {
			await plc.stop();
			throw e;
		}
	}
	return plc;
}

// With PDS_INTEROP_SEED, every PLC directory learns the seeded accounts'
// DIDs: bench/run.sh --scale keeps their signed operations in
// plc-ops.jsonl beside the data directory.
async function seedPlc(url, dataDir) {
	const file = path.join(path.dirname(dataDir), 'plc-ops.jsonl');
	if (!fs.existsSync(file))
		throw new Error(`PDS_INTEROP_SEED: no ${file}`);
	await postPlcOps(url, file);
}

// Post every signed operation of a plc-ops.jsonl file (lines of
// { did, ops }, as bench/scale.mjs writes them) to the PLC directory at
// url, conc DIDs at a time, each DID's operations in order.
export async function postPlcOps(url, file, conc = 8) {
	const all = fs.readFileSync(file, 'utf8').split('\n')
	    .filter((l) => l !== '').map((l) => JSON.parse(l));
	let next = 0;
	await Promise.all(Array.from({ length: conc }, async () => {
		while (next < all.length) {
			const { did, ops } = all[next++];
			for (const op of ops) {
				const r = await fetch(`${url}/${did}`, {
					method: 'POST', body: JSON.stringify(op),
					headers: { 'content-type': 'application/json' },
				});
				if (!r.ok)
					throw new Error(`PLC ${url}: ${did}: ` +
					    `${r.status} ${await r.text()}`);
			}
		}
	}));
}

// A random secp256k1 private key as 64 hex digits.
export async function randomK256Hex() {
	const kp = await Secp256k1Keypair.create({ exportable: true });
	return Buffer.from(await kp.export()).toString('hex');
}

function envFileText(env) {
	let text = '';
	for (const [k, v] of Object.entries(env)) {
		if (v === undefined || v === null)
			continue;
		const s = String(v);
		if (/[\n\r"]/.test(s))
			throw new Error(`env value of ${k} cannot go in an env file`);
		text += `${k}="${s}"\n`;
	}
	return text;
}

// Wait until GET url answers 200, the child exits, or the time runs out.
async function waitHealthy(url, child, timeoutMs, logFile) {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	while (Date.now() < deadline) {
		if (child.exitCode !== null || child.signalCode !== null) {
			throw new Error(`pdsd exited (${child.exitCode ??
			    child.signalCode}) before answering ${url}:\n` +
			    readTail(logFile));
		}
		try {
			const res = await fetch(url,
			    { signal: AbortSignal.timeout(2000) });
			await res.arrayBuffer();
			if (res.status === 200)
				return;
			last = `status ${res.status}`;
		} catch (e) {
			last = e.cause?.code ?? e.message;
		}
		await sleep(50);
	}
	throw new Error(`pdsd did not answer ${url} in ${timeoutMs} ms ` +
	    `(${last}):\n` + readTail(logFile));
}

export function readTail(file, max = 4000) {
	try {
		const s = fs.readFileSync(file, 'utf8');
		return s.length > max ? '...' + s.slice(-max) : s;
	} catch {
		return '';
	}
}

// PDS_INTEROP_SEED=DIR runs every pdsd on a copy of a seeded data
// directory (one that bench/run.sh --scale --keep left in
// DIR/<target>-<accounts>-<records>/data), so the suite also passes on a
// server that already holds thousands of accounts and their events.
function seedDataDir(from, to) {
	const db = path.join(from, 'pds.sqlite');
	if (!fs.existsSync(db))
		throw new Error(`PDS_INTEROP_SEED: no pds.sqlite in ${from}`);
	for (const f of ['pds.sqlite', 'pds.sqlite-wal']) {
		if (fs.existsSync(path.join(from, f)))
			fs.copyFileSync(path.join(from, f), path.join(to, f));
	}
	if (fs.existsSync(path.join(from, 'blocks')))
		fs.cpSync(path.join(from, 'blocks'), path.join(to, 'blocks'),
		    { recursive: true });
}

// Start $B/bin/pdsd on a free loopback port with a temporary data
// directory and an env file for development (dev mode, handle domain .test,
// no invites, random secrets).  env adds or overrides variables; a value of
// null removes one.  port: listen there (a server that takes over a stopped
// one's address) rather than on a free port.  Without PDS_DID_PLC_URL in env, a PLC directory is
// started too and stopped with pdsd.  args are extra pdsd arguments.
// Returns { url, port, pid, dataDir, dir, envFile, logFile, env,
// adminPassword, plc, stop }; stop() kills pdsd by its PID, waits, and
// removes the temporary directory unless PDS_INTEROP_KEEP is set.
export async function startPdsd({ env = {}, args = [], timeoutMs = 20000,
    procEnv = {}, port: wantPort } = {}) {
	if (!isExecutable(PDSD))
		throw new Error(`${PDSD} is missing: build it with make B=...`);
	let plc = null;
	if (env.PDS_DID_PLC_URL === undefined)
		plc = await startPlc();
	const dir = tmpDir();
	const dataDir = path.join(dir, 'data');
	fs.mkdirSync(dataDir, { mode: 0o700 });
	if (process.env.PDS_INTEROP_SEED && env.PDS_DATA_DIRECTORY === undefined)
		seedDataDir(process.env.PDS_INTEROP_SEED, dataDir);
	const port = wantPort ?? await freePort();
	const settings = {
		PDS_HOSTNAME: 'localhost',
		PDS_PORT: port,
		PDS_BIND_ADDRESS: '127.0.0.1',
		PDS_DATA_DIRECTORY: dataDir,
		PDS_DID_PLC_URL: plc ? plc.url : undefined,
		PDS_DEV_MODE: 'true',
		PDS_JWT_SECRET: randomBytes(32).toString('hex'),
		PDS_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
		PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: await randomK256Hex(),
		PDS_SERVICE_HANDLE_DOMAINS: '.test',
		PDS_INVITE_REQUIRED: 'false',
		...env,
	};
	const envFile = path.join(dir, 'pds.env');
	fs.writeFileSync(envFile, envFileText(settings), { mode: 0o600 });
	const logFile = path.join(dir, 'pdsd.log');
	const log = fs.openSync(logFile, 'a');
	// The file alone configures pdsd: drop PDS_* from our environment.
	const childEnv = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (!k.startsWith('PDS_'))
			childEnv[k] = v;
	}
	// Process settings that are not configuration (sanitizer options).
	Object.assign(childEnv, procEnv);
	const child = spawn(PDSD, ['-c', envFile, ...args], {
		cwd: dir,
		env: childEnv,
		stdio: ['ignore', log, log],
	});
	fs.closeSync(log);
	children.add(child);
	const url = `http://127.0.0.1:${port}`;
	const stop = async () => {
		const res = await stopChild(child);
		if (plc)
			await plc.stop();
		if (!process.env.PDS_INTEROP_KEEP)
			fs.rmSync(dir, { recursive: true, force: true });
		return res;
	};
	try {
		await waitHealthy(`${url}/xrpc/_health`, child, timeoutMs,
		    logFile);
	} catch (e) {
		await stop();
		throw e;
	}
	for (const k of Object.keys(settings)) {
		if (settings[k] === undefined || settings[k] === null)
			delete settings[k];
	}
	return {
		url,
		port,
		pid: child.pid,
		dataDir,
		dir,
		envFile,
		logFile,
		env: settings,
		adminPassword: settings.PDS_ADMIN_PASSWORD,
		plc,
		stop,
	};
}

// What `pdsctl --json stats` says of a pdsd that startPdsd started
// (accounts, records, firehose.events and firehose.lastSeq...): the
// tests that may run on a seeded server take their baseline from it.
export async function pdsStats(pds) {
	const r = await pdsctlRun(pds, ['--json', 'stats']);
	if (r.code !== 0)
		throw new Error(`pdsctl stats: ${r.code}: ${r.stderr}`);
	return JSON.parse(r.stdout);
}

// Run pdsctl on the admin socket of a pdsd that startPdsd started;
// resolves as runProgram() does.
export function pdsctlRun(pds, args, opts) {
	const sock = pds.env.PDS_ADMIN_SOCKET ??
	    path.join(pds.dataDir, 'pdsd.sock');
	return runProgram(PDSCTL, ['--socket', sock, ...args], opts);
}

// Run a program to completion: resolves { code, signal, stdout, stderr }
// (stdout as a Buffer, stderr as a string); input goes to its stdin.
export function runProgram(file, args, { input, timeoutMs = 60000 } = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(file, args, { cwd: ROOT,
		    stdio: ['pipe', 'pipe', 'pipe'] });
		children.add(child);
		const out = [];
		let err = '';
		child.stdout.on('data', (d) => out.push(d));
		child.stderr.setEncoding('utf8');
		child.stderr.on('data', (d) => { err += d; });
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`${file} ${args.join(' ')} took over ` +
			    `${timeoutMs} ms`));
		}, timeoutMs);
		child.on('error', (e) => {
			clearTimeout(timer);
			children.delete(child);
			reject(e);
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			children.delete(child);
			resolve({ code, signal, stdout: Buffer.concat(out),
			    stderr: err });
		});
		child.stdin.on('error', () => {});
		if (input === undefined)
			child.stdin.end();
		else
			child.stdin.end(input);
	});
}

export function connects(host, port) {
	return new Promise((resolve) => {
		const s = net.connect({ host, port });
		s.on('connect', () => { s.destroy(); resolve(true); });
		s.on('error', () => resolve(false));
	});
}

export async function waitFor(cond, ms = 10000, what = 'condition') {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (await cond())
			return;
		await sleep(25);
	}
	throw new Error(`timed out waiting for ${what}`);
}

// A minimal SMTP server: accepts every message and keeps it.
export async function startSmtpSink() {
	const mails = [];
	const waiters = [];
	const server = net.createServer((sock) => {
		let buf = '';
		let inData = false;
		let mail = null;
		sock.setEncoding('utf8');
		sock.write('220 sink ESMTP\r\n');
		sock.on('data', (d) => {
			buf += d;
			for (;;) {
				if (inData) {
					const end = buf.indexOf('\r\n.\r\n');
					if (end < 0)
						return;
					mail.data = buf.slice(0, end)
					    .replace(/^\.\./gm, '.');
					buf = buf.slice(end + 5);
					inData = false;
					mails.push(mail);
					for (const w of waiters.splice(0))
						w();
					sock.write('250 OK queued\r\n');
					continue;
				}
				const nl = buf.indexOf('\r\n');
				if (nl < 0)
					return;
				const line = buf.slice(0, nl);
				buf = buf.slice(nl + 2);
				const cmd = line.slice(0, 4).toUpperCase();
				if (cmd === 'EHLO' || cmd === 'HELO')
					sock.write('250-sink\r\n250 8BITMIME\r\n');
				else if (cmd === 'MAIL') {
					mail = { from: line.slice(10), to: [] };
					sock.write('250 OK\r\n');
				} else if (cmd === 'RCPT') {
					mail.to.push(line.slice(8));
					sock.write('250 OK\r\n');
				} else if (cmd === 'DATA') {
					inData = true;
					sock.write('354 go ahead\r\n');
				} else if (cmd === 'QUIT') {
					sock.end('221 bye\r\n');
				} else
					sock.write('250 OK\r\n');
			}
		});
		sock.on('error', () => {});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	return {
		url: `smtp://127.0.0.1:${server.address().port}`,
		port: server.address().port,
		mails,
		// The next mail to `to' after index `from'.
		async next(to, from, timeoutMs = 10000) {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const m = mails.slice(from).find((x) =>
				    x.to.some((t) => t.includes(to)));
				if (m)
					return m;
				if (Date.now() > deadline)
					throw new Error(`no mail to ${to}`);
				await new Promise((r) => {
					waiters.push(r);
					setTimeout(r, 200);
				});
			}
		},
		stop: () => new Promise((r) => server.close(() => r())),
	};
}

// Every record of a repo as "collection/rkey" -> cid.
export async function allRecords(agent, did) {
	const out = new Map();
	const d = await agent.com.atproto.repo.describeRepo({ repo: did });
	for (const collection of d.data.collections) {
		let cursor;
		do {
			const r = await agent.com.atproto.repo.listRecords({
			    repo: did, collection, limit: 100, cursor });
			for (const rec of r.data.records)
				out.set(rec.uri.split('/').slice(3).join('/'),
				    rec.cid);
			cursor = r.data.cursor;
		} while (cursor);
	}
	return out;
}

// The reference PDS (@atproto/pds from bench/node_modules, which
// bench/setup.sh installs) through bench/ref-pds.mjs, in development
// mode on loopback, with the PLC directory plc, mail to the SMTP sink
// smtp (may be null) and extra settings in env.  With dataDir, it runs
// on that existing directory, which outlives it (its log goes beside
// it); else on a temporary one that stop() removes.  Returns { url,
// port, publicUrl, logFile, stop }.
export const REF_PDS = path.join(ROOT, 'bench', 'ref-pds.mjs');
export async function startRef(plc, smtp, env = {}, { dataDir } = {}) {
	const own = dataDir === undefined;
	const dir = own ? tmpDir('pds-ref-') : path.dirname(dataDir);
	if (own) {
		dataDir = path.join(dir, 'data');
		fs.mkdirSync(dataDir, { mode: 0o700 });
	}
	const port = await freePort();
	const penv = {};
	for (const [k, v] of Object.entries(process.env))
		if (!k.startsWith('PDS_') && !k.startsWith('LOG_'))
			penv[k] = v;
	Object.assign(penv, {
		PDS_HOSTNAME: 'localhost',
		PDS_PORT: String(port),
		PDS_DEV_MODE: 'true',
		PDS_INVITE_REQUIRED: 'false',
		PDS_JWT_SECRET: randomBytes(32).toString('hex'),
		PDS_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
		PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: await randomK256Hex(),
		PDS_SERVICE_HANDLE_DOMAINS: '.test',
		PDS_DATA_DIRECTORY: dataDir,
		PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blocks'),
		// The reference refuses IP literals for what it resolves.
		PDS_DID_PLC_URL: plc.localhostUrl,
		...(smtp ? { PDS_EMAIL_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
		    PDS_EMAIL_FROM_ADDRESS: 'ref@pds.example' } : {}),
		// Preferences need an AppView configured (never called here).
		PDS_BSKY_APP_VIEW_URL: 'http://localhost:9',
		PDS_BSKY_APP_VIEW_DID: 'did:web:appview.test',
		NODE_ENV: 'production',
		...env,
	});
	const logFile = path.join(dir, 'ref.log');
	const log = fs.openSync(logFile, 'a');
	const child = spawn(process.execPath, [REF_PDS], { cwd: dir,
	    env: penv,
	    stdio: ['ignore', log, log] });
	fs.closeSync(log);
	const url = `http://127.0.0.1:${port}`;
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			const exited = new Promise((r) => child.once('exit', r));
			process.kill(child.pid, 'SIGTERM');
			if (await Promise.race([exited, sleep(15000)
			    .then(() => 'late')]) === 'late') {
				process.kill(child.pid, 'SIGKILL');
				await exited;
			}
		}
		if (own && !process.env.PDS_INTEROP_KEEP)
			fs.rmSync(dir, { recursive: true, force: true });
	};
	process.on('exit', () => {
		try {
			process.kill(child.pid, 'SIGKILL');
		} catch {
			// gone
		}
	});
	const deadline = Date.now() + 60000;
	for (;;) {
		if (child.exitCode !== null)
			throw new Error(`reference PDS exited: ${readTail(logFile)}`);
		try {
			const r = await fetch(`${url}/xrpc/_health`);
			if (r.status === 200)
				break;
		} catch {
			// not yet
		}
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`reference PDS did not start: ${
			    readTail(logFile)}`);
		}
		await sleep(100);
	}
	return { url, port, publicUrl: `http://localhost:${port}`, logFile,
	    stop };
}
