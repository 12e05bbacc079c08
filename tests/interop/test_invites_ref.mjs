// The invite codes a member earns (PDS_INVITE_INTERVAL, PDS_INVITE_EPOCH):
// pdsd's invites_due (through $B/tests/invitecalc) against the reference
// PDS's own computation, calculateCodesToCreate in @atproto/pds's
// getAccountInviteCodes, run as shipped (its source read from
// bench/node_modules, or REF_PDS_DIR, and evaluated with a clock we set),
// on thousands of random accounts and code sets: intervals, epochs before
// and after the account, earned and admin-given codes, used, open and
// disabled.  Skipped when the reference is not installed (bench/setup.sh).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { BUILD, ROOT, runProgram } from './lib.mjs';

const REF_DIR = process.env.REF_PDS_DIR ||
    path.join(ROOT, 'bench', 'node_modules', '@atproto', 'pds');
const REF_FILE = path.join(REF_DIR, 'dist', 'api', 'com', 'atproto',
    'server', 'getAccountInviteCodes.js');
const CALC = path.join(BUILD, 'tests', 'invitecalc');
const skip = fs.existsSync(REF_FILE) ? false :
    'the reference PDS is not installed under bench/ (bench/setup.sh)';

// The reference's function, evaluated with Date.now() under our control.
function referenceCalc() {
	const src = fs.readFileSync(REF_FILE, 'utf8');
	const m = /const calculateCodesToCreate = \(opts\) => \{[\s\S]*?\n\};/
	    .exec(src);
	assert.ok(m, `calculateCodesToCreate in ${REF_FILE}`);
	const clock = { now: 0 };
	class RefDate extends Date {
		static now() { return clock.now; }
	}
	// eslint-disable-next-line no-new-func
	const fn = new Function('Date', `${m[0]}\nreturn calculateCodesToCreate;`)(
	    RefDate);
	return (now, opts) => {
		clock.now = now;
		return fn(opts);
	};
}

// A small deterministic generator, so a failure can be replayed.
function rng(seed) {
	let s = seed >>> 0;
	return (n) => {
		s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
		return s % n;
	};
}

function randomCase(r) {
	const DAY = 86400000;
	const base = 1.7e12 + r(1000) * DAY;
	const interval = [1000, 60000, 3600000, 7 * DAY, 1 + r(10 * DAY)][r(5)];
	const created = base + r(400) * DAY + r(DAY);
	const epoch = [0, created - r(100) * DAY, created + r(50) * DAY,
	    created, created + r(5) * interval][r(5)];
	const now = created + [r(3) * interval, r(40) * interval + r(interval),
	    r(400) * DAY, -r(5000)][r(4)];
	const codes = [];
	const n = r(13);
	for (let i = 0; i < n; i++) {
		const available = 1 + r(3);
		const at = [created + r(Math.max(1, now - created)), epoch,
		    epoch + 1, epoch - 1, created - r(DAY)][r(5)];
		codes.push({
			createdBy: r(3) === 0 ? 'admin' : 'did:plc:member',
			createdAt: new Date(Math.max(0, at)).toISOString(),
			disabled: r(5) === 0,
			available,
			uses: new Array(r(available + 2)).fill({}),
		});
	}
	return { now, created, epoch, interval, codes };
}

test('earned invite codes: pdsd and the reference PDS agree', { skip },
    async () => {
	const ref = referenceCalc();
	const r = rng(Number(process.env.SEED || 20261207));
	const cases = [];
	for (let i = 0; i < 5000; i++)
		cases.push(randomCase(r));
	const lines = cases.map((c) => [c.now, c.created, c.epoch, c.interval,
	    c.codes.length, ...c.codes.flatMap((k) => [
		Date.parse(k.createdAt), k.createdBy !== 'admin' ? 1 : 0,
		!k.disabled && k.available > k.uses.length ? 1 : 0])].join(' '));
	const out = await runProgram(CALC, [], { input: lines.join('\n') + '\n' });
	assert.equal(out.code, 0, out.stderr);
	const ours = out.stdout.toString().trim().split('\n').map(Number);
	assert.equal(ours.length, cases.length);
	let positive = 0;
	cases.forEach((c, i) => {
		const want = ref(c.now, { did: 'did:plc:member',
		    userCreatedAt: c.created, codes: c.codes, epoch: c.epoch,
		    interval: c.interval }).toCreate;
		// the reference makes max(0, toCreate) codes
		assert.equal(Math.max(0, ours[i]), Math.max(0, want),
		    `case ${i}: ${JSON.stringify(c)}: pdsd ${ours[i]}, ` +
		    `reference ${want}`);
		if (want > 0)
			positive++;
	});
	// the cases must exercise both outcomes
	assert.ok(positive > 500 && positive < cases.length - 500,
	    `${positive} of ${cases.length} cases made codes`);
});
