// pdsd started the way every interop test starts it (lib.mjs startPdsd:
// env file, free loopback port, temporary data directory, local PLC), read
// with the official client @atproto/api, whose responses are checked
// against the lexicons.  Then stopped by PID.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { after, before, test } from 'node:test';

import { AtpAgent } from '@atproto/api';

import { connects, isExecutable, PDSD, startPdsd } from './lib.mjs';

const skip = isExecutable(PDSD) ? false : `${PDSD} is not built yet`;

let pds;
before(async () => {
	if (!skip)
		pds = await startPdsd();
});
after(async () => {
	if (pds)
		await pds.stop();
});

test('health, and bound to loopback only', { skip }, async () => {
	const res = await fetch(`${pds.url}/xrpc/_health`);
	assert.equal(res.status, 200);
	const body = await res.json();
	assert.equal(typeof body.version, 'string');
	for (const addrs of Object.values(os.networkInterfaces())) {
		for (const a of addrs) {
			if (a.internal || a.family !== 'IPv4')
				continue;
			assert.equal(await connects(a.address, pds.port), false,
			    `pdsd reachable on ${a.address}`);
		}
	}
	assert.ok(fs.statSync(pds.dataDir).isDirectory());
});

test('describeServer through @atproto/api', { skip }, async () => {
	const agent = new AtpAgent({ service: pds.url });
	const { data } = await agent.com.atproto.server.describeServer();
	assert.deepEqual(data.availableUserDomains, ['.test']);
	assert.equal(data.inviteCodeRequired, false);
	assert.match(data.did, /^did:(web|plc):/);
});

test('an unknown method is XRPC 501 MethodNotImplemented', { skip },
    async () => {
	// No lexicon names this method, so the client library cannot call it.
	const res = await fetch(
	    `${pds.url}/xrpc/com.example.interop.noSuchMethod`);
	assert.equal(res.status, 501);
	assert.match(res.headers.get('content-type'), /^application\/json/);
	const body = await res.json();
	assert.equal(body.error, 'MethodNotImplemented');
	assert.equal(typeof body.message, 'string');
});

test('a second pdsd runs side by side and stops cleanly', { skip },
    async () => {
	const other = await startPdsd({
	    env: { PDS_DID_PLC_URL: pds.plc.url } });
	assert.notEqual(other.port, pds.port);
	const res = await fetch(`${other.url}/xrpc/_health`);
	assert.equal(res.status, 200);
	await res.arrayBuffer();
	const { code, signal } = await other.stop();
	assert.equal(signal, null, 'pdsd needed SIGKILL or crashed');
	assert.equal(code, 0);
	assert.equal(await connects('127.0.0.1', other.port), false);
	assert.equal(fs.existsSync(other.dir), false);
});
