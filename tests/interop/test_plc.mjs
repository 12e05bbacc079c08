// The local PLC directory (scripts/plc-server.mjs) that the other interop
// tests and "make run" rely on: it binds loopback only, accepts a signed
// genesis operation from @did-plc/lib, serves the DID document and the
// operation log, refuses a badly signed update, and stops on SIGTERM.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Secp256k1Keypair } from '@atproto/crypto';
import * as plcLib from '@did-plc/lib';

import { connects, startPlc } from './lib.mjs';

let plc;
before(async () => {
	plc = await startPlc();
});
after(async () => {
	if (plc)
		await plc.stop();
});

test('listens on 127.0.0.1 and not on other addresses', async () => {
	assert.match(plc.url, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
	assert.equal(await connects('127.0.0.1', plc.port), true);
	// Any non-loopback address of this machine must be refused.
	const os = await import('node:os');
	for (const addrs of Object.values(os.networkInterfaces())) {
		for (const a of addrs) {
			if (a.internal || a.family !== 'IPv4')
				continue;
			assert.equal(await connects(a.address, plc.port), false,
			    `reachable on ${a.address}`);
		}
	}
});

test('genesis operation, DID document, log, and a key rotation', async () => {
	const rotation = await Secp256k1Keypair.create();
	const signing = await Secp256k1Keypair.create();
	const { op, did } = await plcLib.createOp({
		signingKey: signing.did(),
		handle: 'alice.test',
		pds: 'http://localhost:2583',
		rotationKeys: [rotation.did()],
		signer: rotation,
	});
	assert.match(did, /^did:plc:[a-z2-7]{24}$/);

	let res = await fetch(`${plc.url}/${did}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(op),
	});
	assert.equal(res.status, 200, await res.text());

	res = await fetch(`${plc.url}/${did}`);
	assert.equal(res.status, 200);
	const doc = await res.json();
	assert.equal(doc.id, did);
	assert.deepEqual(doc.alsoKnownAs, ['at://alice.test']);
	assert.equal(doc.service[0].id, '#atproto_pds');
	assert.equal(doc.service[0].serviceEndpoint, 'http://localhost:2583');
	assert.equal(doc.verificationMethod[0].id, '#atproto');

	const client = new plcLib.Client(plc.url);
	const data = await client.getDocumentData(did);
	assert.equal(data.verificationMethods.atproto, signing.did());
	assert.deepEqual(data.rotationKeys, [rotation.did()]);

	// An update signed by a key that is not a rotation key is refused.
	const stranger = await Secp256k1Keypair.create();
	const bad = await plcLib.updateHandleOp(op, stranger, 'mallory.test');
	res = await fetch(`${plc.url}/${did}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(bad),
	});
	assert.equal(res.status, 400);

	// A proper update by the rotation key is applied and logged.
	await client.updateHandle(did, rotation, 'alice2.test');
	const log = await client.getOperationLog(did);
	assert.equal(log.length, 2);
	const data2 = await client.getDocumentData(did);
	assert.deepEqual(data2.alsoKnownAs, ['at://alice2.test']);
});

test('unknown DID is 404', async () => {
	const res = await fetch(`${plc.url}/did:plc:aaaaaaaaaaaaaaaaaaaaaaaa`);
	assert.equal(res.status, 404);
	await res.arrayBuffer();
});

test('stops on SIGTERM', async () => {
	const other = await startPlc();
	const res = await other.stop();
	assert.equal(res.code, 0);
	assert.equal(await connects('127.0.0.1', other.port), false);
});
