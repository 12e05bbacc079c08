// A real S3 server for the interop tests: a throw-away Ceph RADOS Gateway
// (tests/s3/start.sh) on free loopback ports, stopped by tests/s3/stop.sh
// (which kills only the PIDs it started).
//
//   import { startRgw } from './s3.mjs';
//   const rgw = await startRgw();   // { env, endpoint, bucket, keys(), stop }
//   const pds = await startPdsd({ env: { ...rgw.env } });

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { ROOT, freePort, tmpDir } from './lib.mjs';

const run = promisify(execFile);
const START = path.join(ROOT, 'tests', 's3', 'start.sh');
const STOP = path.join(ROOT, 'tests', 's3', 'stop.sh');
const running = new Set();

process.on('exit', () => {
	for (const dir of running) {
		try {
			execFileSync(STOP, [dir]);	/* the process is ending */
		} catch {
			// best effort
		}
	}
});

function parseEnv(text) {
	const out = {};
	for (const line of text.split('\n')) {
		const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
		if (m)
			out[m[1]] = m[2];
	}
	return out;
}

export async function startRgw() {
	let lastErr;
	for (let attempt = 0; attempt < 3; attempt++) {
		const dir = path.join(tmpDir('pds-rgw-'), 'c');
		const env = { ...process.env,
		    RGW_PORT: String(await freePort()),
		    MON_PORT: String(await freePort()) };
		try {
			await run(START, [dir], { env, timeout: 120000 });
		} catch (e) {
			lastErr = e;
			fs.rmSync(path.dirname(dir), { recursive: true,
			    force: true });
			continue;
		}
		running.add(dir);
		const s3 = parseEnv(fs.readFileSync(path.join(dir, 'env'),
		    'utf8'));
		const curlAuth = ['-sS', '--aws-sigv4',
		    `aws:amz:${s3.S3_REGION}:s3`, '--user',
		    `${s3.S3_ACCESS_KEY}:${s3.S3_SECRET_KEY}`, '-H',
		    'x-amz-content-sha256: UNSIGNED-PAYLOAD'];
		return {
			dir,
			endpoint: s3.S3_ENDPOINT,
			bucket: s3.S3_BUCKET,
			env: {
				PDS_BLOBSTORE_S3_BUCKET: s3.S3_BUCKET,
				PDS_BLOBSTORE_S3_REGION: s3.S3_REGION,
				PDS_BLOBSTORE_S3_ENDPOINT: s3.S3_ENDPOINT,
				PDS_BLOBSTORE_S3_FORCE_PATH_STYLE: 'true',
				PDS_BLOBSTORE_S3_ACCESS_KEY_ID: s3.S3_ACCESS_KEY,
				PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY:
				    s3.S3_SECRET_KEY,
			},
			// The keys under prefix, read with curl's own signer.
			async keys(prefix) {
				const q = new URLSearchParams({ 'list-type': '2',
				    prefix }).toString().replace(/\+/g, '%20');
				const { stdout } = await run('curl', [...curlAuth,
				    `${s3.S3_ENDPOINT}/${s3.S3_BUCKET}?` +
				    q.split('&').sort().join('&')]);
				return [...stdout.matchAll(/<Key>([^<]*)<\/Key>/g)]
				    .map((m) => m[1]);
			},
			async stop() {
				running.delete(dir);
				await run(STOP, [dir]);
				fs.rmSync(path.dirname(dir), { recursive: true,
				    force: true });
			},
		};
	}
	throw new Error(`the RADOS Gateway did not start: ${lastErr?.stderr ??
	    lastErr}`);
}
