// DPoP, JWK and PKCE cross-check between our C code ($B/tests/dpoptool)
// and an independent implementation, Node's built-in crypto:
//  (a) proofs that Node signs (P-256 / ES256 and secp256k1 / ES256K,
//      ieee-p1363 signatures, so about half are high-S) verify in C, and
//      C reports the jkt, jti, iat and nonce Node put in;
//  (b) proofs Node alters after signing, or signs for another method,
//      URL, time or token, are refused;
//  (c) JWKs that C writes import into Node and verify C's signatures,
//      and C's thumbprints equal the RFC 7638 ones computed here;
//  (d) PKCE S256 challenges Node computes are accepted.
// Skipped, with a message, only while $B/tests/dpoptool is not built.

import assert from 'node:assert/strict';
import {
	createHash,
	createPublicKey,
	generateKeyPairSync,
	randomBytes,
	sign,
	verify,
} from 'node:crypto';
import path from 'node:path';
import { describe, test } from 'node:test';

import { BUILD, isExecutable, runProgram } from './lib.mjs';

const DPOPTOOL = path.join(BUILD, 'tests', 'dpoptool');
const skip = isExecutable(DPOPTOOL) ? false :
    `${DPOPTOOL} is not built yet (make B=... tests)`;

const NOW = 1767225600;
const HTU = 'https://pds.example.com/xrpc/com.atproto.repo.createRecord';
const P256_N = BigInt('0xffffffff00000000ffffffffffffffff' +
    'bce6faada7179e84f3b9cac2fc632551');
const K256_N = BigInt('0xfffffffffffffffffffffffffffffffe' +
    'baaedce6af48a03bbfd25e8cd0364141');

const b64u = (b) => Buffer.from(b).toString('base64url');
const sha256 = (b) => createHash('sha256').update(b).digest();

// RFC 7638: the required members in lexicographic order, no spaces.
function thumbprint(jwk) {
	return b64u(sha256(JSON.stringify({ crv: jwk.crv, kty: jwk.kty,
	    x: jwk.x, y: jwk.y })));
}

function keyPair(curve) {
	const { privateKey, publicKey } = generateKeyPairSync('ec',
	    { namedCurve: curve });
	return { privateKey, jwk: publicKey.export({ format: 'jwk' }) };
}

function isHighS(sig, curve) {
	const s = BigInt('0x' + sig.subarray(32).toString('hex'));
	return s > (curve === 'P-256' ? P256_N : K256_N) / 2n;
}

function makeProof(kp, curve, claims, header = {}) {
	const alg = curve === 'P-256' ? 'ES256' : 'ES256K';
	const h = b64u(JSON.stringify({ typ: 'dpop+jwt', alg, jwk: kp.jwk,
	    ...header }));
	const p = b64u(JSON.stringify(claims));
	const sig = sign('sha256', Buffer.from(`${h}.${p}`),
	    { key: kp.privateKey, dsaEncoding: 'ieee-p1363' });
	return { proof: `${h}.${p}.${b64u(sig)}`, highS: isHighS(sig, curve) };
}

function claims(extra = {}) {
	return { jti: randomBytes(8).toString('hex'), htm: 'POST', htu: HTU,
	    iat: NOW, ...extra };
}

// Run one batch of requests through dpoptool; one result per request.
async function tool(requests) {
	const input = requests.map((r) => JSON.stringify(r)).join('\n') + '\n';
	const r = await runProgram(DPOPTOOL, [], { input });
	assert.equal(r.code, 0, `dpoptool failed: ${r.stderr}`);
	const lines = r.stdout.toString('utf8').trim().split('\n');
	assert.equal(lines.length, requests.length);
	return lines.map((l) => JSON.parse(l));
}

const verifyReq = (proof, extra = {}) => ({ op: 'verify', htm: 'POST',
    htu: HTU, now: NOW, proof, ...extra });

describe('DPoP cross-check with node:crypto', { skip }, () => {
	test('Node-signed proofs verify, with the right jkt', async () => {
		const cases = [];
		for (let i = 0; i < 64; i++) {
			const curve = i % 4 === 3 ? 'secp256k1' : 'P-256';
			const kp = keyPair(curve);
			const extra = {};
			const req = {};
			if (i % 2 === 0)
				extra.nonce = b64u(randomBytes(16));
			if (i % 3 === 0) {
				req.token = b64u(randomBytes(40));
				extra.ath = b64u(sha256(req.token));
			}
			if (i % 5 === 0)
				extra.htu = HTU.replace('https://pds.example.com',
				    'HTTPS://PDS.example.com:443') + '?a=1#f';
			extra.iat = NOW - 150 + i;
			const c = claims(extra);
			const { proof, highS } = makeProof(kp, curve, c);
			cases.push({ kp, c, highS, req: verifyReq(proof, req) });
		}
		const res = await tool(cases.map((x) => x.req));
		let highS = 0;
		cases.forEach((x, i) => {
			assert.equal(res[i].ok, true,
			    `case ${i}: ${JSON.stringify(res[i])}`);
			assert.equal(res[i].jkt, thumbprint(x.kp.jwk));
			assert.equal(res[i].jti, x.c.jti);
			assert.equal(res[i].iat, x.c.iat);
			assert.equal(res[i].nonce, x.c.nonce);
			if (x.highS)
				highS++;
		});
		// Node does not normalise S: both halves must have been seen.
		assert.ok(highS > 0 && highS < cases.length,
		    `high-S proofs: ${highS}`);
	});

	test('altered or mismatched proofs are refused', async () => {
		const kp = keyPair('P-256');
		const other = keyPair('P-256');
		const token = 'an-access-token';
		const good = makeProof(kp, 'P-256', claims()).proof;
		const [h, p, s] = good.split('.');
		const tamperedClaims = b64u(JSON.stringify(claims(
		    { htm: 'GET' })));
		const cases = [
			[verifyReq(good), true],
			[verifyReq(good, { htm: 'GET' }), false],
			[verifyReq(good, { htu: HTU + '2' }), false],
			[verifyReq(good, { now: NOW + 191 }), false],
			[verifyReq(good, { now: NOW - 181 }), false],
			[verifyReq(good, { token }), false],
			[verifyReq(`${h}.${tamperedClaims}.${s}`), false],
			[verifyReq(`${h}.${p}.${s.slice(0, -2)}AA`), false],
			[verifyReq(makeProof(kp, 'P-256', claims(),
			    { jwk: other.jwk }).proof), false],
			[verifyReq(makeProof(kp, 'P-256', claims(),
			    { typ: 'JWT' }).proof), false],
			[verifyReq(makeProof(kp, 'P-256', claims(),
			    { alg: 'ES384' }).proof), false],
			[verifyReq(makeProof(kp, 'P-256', claims(),
			    { jwk: kp.privateKey.export({ format: 'jwk' }) })
			    .proof), false],
			[verifyReq(makeProof(kp, 'P-256', claims(
			    { ath: b64u(sha256('other')) })).proof, { token }),
			    false],
			[verifyReq(makeProof(kp, 'P-256', claims(
			    { ath: b64u(sha256(token)) })).proof), false],
			[verifyReq(makeProof(kp, 'P-256', claims(
			    { ath: b64u(sha256(token)) })).proof, { token }),
			    true],
		];
		const res = await tool(cases.map((x) => x[0]));
		cases.forEach((x, i) => assert.equal(res[i].ok, x[1],
		    `case ${i}: ${JSON.stringify(res[i])}`));
	});

	test('our JWKs and signatures import into Node', async () => {
		const reqs = [];
		for (let i = 0; i < 16; i++)
			reqs.push({ op: 'sign', crv: i % 2 ? 'secp256k1' : 'P-256',
			    msg: `message ${i}` });
		const res = await tool(reqs);
		res.forEach((r, i) => {
			assert.equal(r.ok, true);
			assert.deepEqual(Object.keys(r.jwk).sort(),
			    ['crv', 'kty', 'x', 'y']);
			assert.equal(r.jwk.crv, reqs[i].crv);
			assert.equal(r.jkt, thumbprint(r.jwk));
			const pub = createPublicKey({ key: r.jwk, format: 'jwk' });
			assert.ok(verify('sha256', Buffer.from(reqs[i].msg),
			    { key: pub, dsaEncoding: 'ieee-p1363' },
			    Buffer.from(r.sig, 'base64url')), `signature ${i}`);
		});
	});

	test('thumbprints of Node JWKs and the RFC 9449 example', async () => {
		const rfc = { kty: 'EC', x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQU' +
		    'fWVAWBFs', y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA',
		    crv: 'P-256' };
		const jwks = [rfc];
		for (let i = 0; i < 8; i++)
			jwks.push(keyPair(i % 2 ? 'secp256k1' : 'P-256').jwk);
		const res = await tool(jwks.map((jwk) => ({ op: 'jkt', jwk })));
		assert.equal(thumbprint(rfc),
		    '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
		res.forEach((r, i) => assert.equal(r.jkt, thumbprint(jwks[i])));
	});

	test('PKCE S256 challenges from Node are accepted', async () => {
		const reqs = [];
		const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv' +
		    'wxyz0123456789-._~';
		for (let n = 43; n <= 128; n += 5) {
			const v = [...randomBytes(n)]
			    .map((b) => alphabet[b % alphabet.length]).join('');
			reqs.push({ op: 'pkce', verifier: v,
			    challenge: b64u(sha256(v)) });
		}
		const bad = { ...reqs[0], challenge: b64u(sha256('x')) };
		const res = await tool([...reqs, bad]);
		res.slice(0, -1).forEach((r) => assert.equal(r.ok, true));
		assert.equal(res.at(-1).ok, false);
	});
});
