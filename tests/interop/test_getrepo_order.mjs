// getRepo of a 20,000-record repo, byte for byte: pdsd gathers a repo's
// blocks in one scan and then writes the CAR in the tree's order, as it
// did with one lookup per block.  The CAR must be exactly the commit,
// then the Merkle Search Tree in pre-order with each record right where
// its key is (node, left subtree, then each entry's record and right
// subtree), every block once per place, nothing else.  This test builds
// that expected CAR itself, from the blocks @atproto/repo reads out of
// pdsd's answer, and compares the bytes; @atproto/repo also verifies the
// repo against the account's key and its records against what was
// written.  Two collections whose names share a prefix
// (com.example.scan and com.example.scan.more) check the key order, in
// which '.' sorts before '/'.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';
import { cborDecode } from '@atproto/common';
import { IdResolver } from '@atproto/identity';
import { readCarWithRoot, verifyRepoCar } from '@atproto/repo';

import { PDSD, isExecutable, startPdsd } from './lib.mjs';

const skip = isExecutable(PDSD) ? false : `${PDSD} is not built yet`;
const RECORDS = 20000;
const DELETES = 500;
const COLLS = ['app.bsky.feed.post', 'com.example.scan',
	'com.example.scan.more'];

let pds, agent, did;
const live = new Map();		// "collection/rkey" -> cid

function varint(n) {
	const out = [];
	while (n >= 0x80) {
		out.push((n & 0x7f) | 0x80);
		n = Math.floor(n / 128);
	}
	out.push(n);
	return Buffer.from(out);
}

// The length of the CAR header (its varint and bytes).
function headerLength(car) {
	let n = 0, shift = 0, i = 0;
	for (;;) {
		const b = car[i++];
		n += (b & 0x7f) * 2 ** shift;
		if ((b & 0x80) === 0)
			break;
		shift += 7;
	}
	return i + n;
}

// The CIDs of the repo in the order of the walk described above.
function walkOrder(blocks, commitCid) {
	const order = [commitCid];
	const commit = cborDecode(blocks.get(commitCid));
	const node = (cid) => {
		order.push(cid);
		const n = cborDecode(blocks.get(cid));
		if (n.l)
			node(n.l);
		for (const e of n.e) {
			order.push(e.v);
			if (e.t)
				node(e.t);
		}
	};
	node(commit.data);
	return order;
}

describe('getRepo of a 20,000-record repo', { skip }, () => {
	before(async () => {
		pds = await startPdsd();
		agent = new AtpAgent({ service: pds.url });
		await agent.createAccount({ handle: 'scan.test',
		    email: 'scan@example.com', password: 'scan-password-1' });
		did = agent.session.did;
	});
	after(async () => {
		if (pds)
			await pds.stop();
	});

	test('20,000 records written, some deleted', async () => {
		for (let done = 0; done < RECORDS; done += 200) {
			const writes = [];
			for (let i = done; i < done + 200; i++) {
				const collection = COLLS[i % 3];
				writes.push({
				    $type: 'com.atproto.repo.applyWrites#create',
				    collection, value: { $type: collection,
				    text: `record ${i}`,
				    createdAt: new Date().toISOString() } });
			}
			const r = await agent.com.atproto.repo.applyWrites({
			    repo: did, validate: false, writes });
			for (const x of r.data.results) {
				const p = x.uri.split('/');
				live.set(`${p[3]}/${p[4]}`, x.cid);
			}
		}
		const keys = [...live.keys()];
		for (let k = 0; k < DELETES; k += 100) {
			const writes = keys.slice(k * 7, k * 7 + 700)
			    .filter((_, j) => j % 7 === 0).map((key) => {
				const [collection, rkey] = key.split('/');
				live.delete(key);
				return { $type:
				    'com.atproto.repo.applyWrites#delete',
				    collection, rkey };
			});
			await agent.com.atproto.repo.applyWrites({ repo: did,
			    writes });
		}
		assert.equal(live.size, RECORDS - DELETES);
	});

	test('the CAR is the tree walk, byte for byte', async () => {
		const res = await fetch(`${pds.url}/xrpc/com.atproto.sync.` +
		    `getRepo?did=${encodeURIComponent(did)}`);
		assert.equal(res.status, 200);
		const car = Buffer.from(await res.arrayBuffer());
		const { root, blocks } = await readCarWithRoot(car);
		const order = walkOrder(blocks, root);
		const parts = [car.subarray(0, headerLength(car))];
		for (const cid of order) {
			const data = blocks.get(cid);
			assert.ok(data, `block ${cid} is in the CAR`);
			parts.push(varint(cid.bytes.length + data.length),
			    Buffer.from(cid.bytes), Buffer.from(data));
		}
		const want = Buffer.concat(parts);
		assert.equal(car.length, want.length, 'the CAR\'s length');
		assert.ok(car.equals(want), 'the CAR\'s bytes');

		// the same bytes again (the scan is not a one-off)
		const again = Buffer.from(await (await fetch(`${pds.url}/xrpc/` +
		    `com.atproto.sync.getRepo?did=${encodeURIComponent(did)}`))
		    .arrayBuffer());
		assert.ok(again.equals(car), 'a second getRepo is identical');

		// and @atproto/repo verifies it, with exactly the live records
		const idr = new IdResolver({ plcUrl: pds.plc.url,
		    fetch: globalThis.fetch });
		const key = await idr.did.resolveAtprotoKey(did, true);
		const v = await verifyRepoCar(new Uint8Array(car), did, key);
		const got = new Map();
		for (const w of v.creates)
			got.set(`${w.collection}/${w.rkey}`, w.cid.toString());
		assert.equal(got.size, live.size);
		for (const [k, cid] of live)
			assert.equal(got.get(k), cid, k);
	});
});
