// Permission sets expanded by pdsd (libcommon/oauth_permset.c, through
// $B/tests/permsettool) against the reference's own library,
// @atproto/oauth-scopes (IncludeScope.toScopes, from the reference PDS
// under bench/node_modules): a few thousand generated sets, with entries
// of every resource, collections and lxms inside and outside the set's
// group, wildcards, actions valid and not, fixed, wildcard and inherited
// audiences, unknown fields and values of the wrong kind.  The token
// scopes must be equal, string for string; the count compared is
// printed, and one disagreement fails.  Skipped when the reference is
// not installed (bench/setup.sh).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';

import { BUILD, ROOT, isExecutable, runProgram } from './lib.mjs';

const TOOL = path.join(BUILD, 'tests', 'permsettool');
const BENCH_PKG = path.join(ROOT, 'bench', 'package.json');
const SCOPES_PKG = path.join(ROOT, 'bench', 'node_modules', '@atproto',
    'oauth-scopes', 'package.json');
const skip = !isExecutable(TOOL) ? `${TOOL} is not built (make tests)` :
    !fs.existsSync(SCOPES_PKG) ?
    'the reference PDS is not installed under bench/ (bench/setup.sh)' :
    false;

const N = 3000;

// A small deterministic generator (xorshift), so a failure replays.
let seed = 0x2545f491;
function rnd(n) {
	seed ^= seed << 13;
	seed >>>= 0;
	seed ^= seed >>> 17;
	seed ^= seed << 5;
	seed >>>= 0;
	return seed % n;
}
const pick = (a) => a[rnd(a.length)];

const NSIDS = ['com.example.authFull', 'app.example.sub.authBasic'];
const AUDS = [undefined, 'did:web:api.example.com#svc',
    'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa#atproto_labeler'];

function names(nsid) {
	const group = nsid.slice(0, nsid.lastIndexOf('.'));
	return [`${group}.post`, `${group}.like`, `${group}.sub.thing`,
	    `${group}.getFeed`, 'org.other.thing', '*', group,
	    `${group}x.thing`, `${group}.`, 'not an nsid', `${group}.a-b`];
}

function list(nsid) {
	switch (rnd(8)) {
	case 0: return [];
	case 1: return pick(names(nsid));	// a string, not an array
	case 2: return [pick(names(nsid)), pick(names(nsid))];
	case 3: return [pick(names(nsid)), 7];
	default: return [pick(names(nsid))];
	}
}

function entry(nsid) {
	const e = { type: pick(['permission', 'permission', 'permission',
	    undefined, 'other']) };
	e.resource = pick(['repo', 'repo', 'rpc', 'rpc', 'blob', 'account',
	    'identity', 'include', 'bogus', undefined]);
	if (e.resource === 'repo' || rnd(6) === 0)
		e.collection = list(nsid);
	if (e.resource === 'rpc' || rnd(6) === 0)
		e.lxm = list(nsid);
	if (rnd(3) === 0)
		e.action = pick([['create'], ['delete'], ['create', 'update'],
		    ['create', 'update', 'delete'], ['read'], 'create', [],
		    ['update', 'create']]);
	if (rnd(2) === 0)
		e.aud = pick(['*', 'did:web:x.example.com#svc',
		    'did:web:x.example.com', 42, '']);
	if (rnd(3) === 0)
		e.inheritAud = pick([true, true, false, 'true']);
	if (e.resource === 'blob' && rnd(2) === 0)
		e.accept = pick([['*/*'], ['image/*'], 'image/png']);
	if (rnd(10) === 0)
		e[pick(['color', 'detail', 'attr'])] = 'x';
	for (const k of Object.keys(e))
		if (e[k] === undefined)
			delete e[k];
	return e;
}

// An entry the reference grants, mostly: repo or rpc, names in the group.
function goodEntry(nsid) {
	const group = nsid.slice(0, nsid.lastIndexOf('.'));
	const name = () => `${group}.${pick(['post', 'like', 'getFeed',
	    'sub.thing', 'a.b.c'])}`;
	const many = () => rnd(3) === 0 ? [name(), name()] : [name()];
	if (rnd(2) === 0) {
		const e = { type: 'permission', resource: 'repo',
		    collection: many() };
		if (rnd(2) === 0)
			e.action = pick([['create'], ['delete'],
			    ['update', 'create'], ['create', 'update', 'delete'],
			    ['delete', 'delete']]);
		return e;
	}
	const e = { type: 'permission', resource: 'rpc', lxm: many() };
	if (rnd(2) === 0)
		e.aud = '*';
	else
		e.inheritAud = true;
	return e;
}

function permissionSet(nsid) {
	const permissions = [];
	const n = 1 + rnd(5);
	for (let i = 0; i < n; i++)
		permissions.push(rnd(2) === 0 ? goodEntry(nsid) : entry(nsid));
	return { type: 'permission-set', title: 'x', permissions };
}

test('permission-set expansion: pdsd and @atproto/oauth-scopes', { skip },
    async () => {
	const require = createRequire(BENCH_PKG);
	const { IncludeScope } = await import(pathToFileURL(
	    require.resolve('@atproto/oauth-scopes')));
	const cases = [];
	let thrown = 0;
	for (let i = 0; i < N; i++) {
		const nsid = pick(NSIDS);
		const aud = pick(AUDS);
		const set = permissionSet(nsid);
		let want;
		try {
			want = new IncludeScope(nsid, aud).toScopes(set)
			    .join(' ');
		} catch {
			thrown++;	/* the reference fails: not compared */
			continue;
		}
		cases.push({ nsid, aud, set, want });
	}
	const input = cases.map((c) => JSON.stringify({ nsid: c.nsid,
	    aud: c.aud, set: c.set })).join('\n') + '\n';
	const r = await runProgram(TOOL, [], { input });
	assert.equal(r.code, 0, r.stderr);
	const got = r.stdout.toString().split('\n');
	const bad = [];
	cases.forEach((c, i) => {
		if (got[i] !== c.want)
			bad.push({ set: c.set, aud: c.aud, got: got[i],
			    want: c.want });
	});
	const granting = cases.filter((c) => c.want !== '').length;
	console.log(`# permission sets compared: ${cases.length} ` +
	    `(${granting} granting something; ${thrown} the reference ` +
	    `threw on), ${bad.length} disagree`);
	assert.ok(granting > N / 4, 'too few sets grant anything');
	assert.deepEqual(bad.slice(0, 3), []);
});
