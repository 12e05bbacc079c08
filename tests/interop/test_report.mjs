// pdsctl report from a seeded server: members with posts and images
// (through @atproto/api), moderation through pdsctl, and twenty days of
// history written into the store with the sqlite3 shell (daily traffic
// and storage, two earlier runs of pdsd, one of which died).  The text,
// the JSON and the HTML are checked against those numbers and against
// counts read back through the XRPC API; no handle, DID or reason may
// appear.  The HTML page is opened in Debian's chromium (puppeteer-core)
// and a screenshot is kept in $B/test-artifacts/report/report.png.
// On a server that already holds accounts (PDS_INTEROP_SEED), every count
// is checked as what it was before this file wrote (base) plus its own.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import puppeteer from 'puppeteer-core';

import { BUILD, PDSD, isExecutable, pdsctlRun, runProgram, startPdsd }
    from './lib.mjs';
import { PDSCTL, seedCoop } from './coop.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.join(BUILD, 'test-artifacts', 'report');
const skip = isExecutable(PDSD) && isExecutable(PDSCTL) ? false :
    'pdsd or pdsctl is not built yet';
const DAY = 86400000;

let pds, members, since, base;

function ctl(...args) {
	return pdsctlRun(pds, args);
}

function day(ago) {
	return new Date(Date.now() - ago * DAY).toISOString().slice(0, 10);
}

function iso(ago) {
	return new Date(Date.now() - ago * DAY).toISOString();
}

async function sql(text) {
	const r = await runProgram('sqlite3', ['-cmd', '.timeout 10000',
	    path.join(pds.dataDir, 'pds.sqlite'), text]);
	assert.equal(r.code, 0, r.stderr);
	return r.stdout.toString().trim();
}

// The count of kind in a report's moderation list (0 when absent).
function modCount(j, kind) {
	return j.moderation.find((x) => x.kind === kind)?.count ?? 0;
}

// A report's starts in the period and runs that ended without a clean
// stop (all but the last, the running one), as pdsctl counts them.
function starts(j) {
	return j.runs.filter((x) => Date.parse(x.startedAt) >=
	    Date.parse(j.since)).length;
}

function unclean(j) {
	return j.runs.filter((x, i) => typeof x.stoppedAt !== 'string' &&
	    i + 1 < j.runs.length).length;
}

describe('pdsctl report', { skip }, () => {
	before(async () => {
		pds = await startPdsd();
		since = day(20);
		// what the server held before (nothing on an empty one)
		const r0 = await ctl('--json', 'report', '--since', since);
		assert.equal(r0.code, 0, r0.stderr);
		base = JSON.parse(r0.stdout);
		members = await seedCoop(pds.url, 3, { prefix: 'rep' });
		// moderation, with reasons that must not show in the report
		let r = await ctl('takedown', 'record', members[1].posts[1].uri,
		    '--reason', 'secret-reason-spam');
		assert.equal(r.code, 0, r.stderr);
		r = await ctl('account', 'deactivate', members[2].handle,
		    '--reason', 'secret-reason-left');
		assert.equal(r.code, 0, r.stderr);
		r = await ctl('takedown', 'record', members[0].posts[0].uri,
		    '--reason', 'secret-reason-spam');
		assert.equal(r.code, 0, r.stderr);
		// twenty days of history
		const rows = [];
		for (let d = 20; d >= 1; d--)
			rows.push(`('${day(d)}', ${100 + d * 10}, ${d % 3}, ` +
			    `${5 + d}, 3, ${100000 + (20 - d) * 10000}, ` +
			    `${(20 - d) * 200000})`);
		await sql('INSERT OR REPLACE INTO daily_stats (day, requests, errors, ' +
		    'peak_rpm, accounts, db_bytes, blob_bytes) VALUES ' +
		    rows.join(',') + ';' +
		    'INSERT INTO server_runs (started_at, last_seen_at, ' +
		    `stopped_at, version) VALUES ('${iso(15)}', '${iso(10)}', ` +
		    `NULL, 'old'), ('${iso(10)}', '${iso(2)}', '${iso(2)}', ` +
		    "'old');" +
		    `UPDATE accounts SET created_at = '${iso(12)}' WHERE ` +
		    `handle = '${members[0].handle}';` +
		    `UPDATE accounts SET created_at = '${iso(6)}' WHERE ` +
		    `handle = '${members[1].handle}';`);
	});
	after(async () => {
		await pds?.stop();
	});

	test('text', async () => {
		const r = await ctl('report', '--since', since);
		assert.equal(r.code, 0, r.stderr);
		const out = r.stdout.toString();
		assert.match(out, /^Report for localhost, /);
		const bm = base.members;
		assert.ok(out.includes(`joined ${bm.joined + 3}, wrote ` +
		    `something ${bm.active + 3}, deactivated ` +
		    `${bm.deactivated + 1}\n`), out);
		assert.match(out, new RegExp(`posts ${base.content.posts + 9} ` +
		    `\\(records \\d+\\), blobs ${base.content.blobs + 6} `));
		assert.match(out, new RegExp('record\\.takedown +' +
		    `${modCount(base, 'record.takedown') + 2}\n`));
		assert.match(out, new RegExp('account\\.deactivate +' +
		    `${modCount(base, 'account.deactivate') + 1}\n`));
		// two runs written into the store, one of which died
		assert.ok(out.includes(`${starts(base) + 2} starts, ` +
		    `${unclean(base) + 1} without a clean stop`), out);
		for (const m of members)
			assert.ok(!out.includes(m.handle) && !out.includes(m.did));
		assert.ok(!out.includes('secret-reason'));
		const bad = await ctl('report', '--since', 'last week');
		assert.equal(bad.code, 65, bad.stderr);	// the daemon refused a value
		assert.match(bad.stderr, /since: a day/);
		const both = await ctl('--json', 'report', '--html');
		assert.equal(both.code, 64, both.stderr);
	});

	test('JSON, checked against the API and the seeded history',
	    async () => {
		const r = await ctl('--json', 'report', '--since', since);
		assert.equal(r.code, 0, r.stderr);
		const text = r.stdout.toString();
		const j = JSON.parse(text);
		assert.equal(j.since, `${since}T00:00:00.000Z`);
		const bm = base.members;
		assert.deepEqual([j.members.total, j.members.joined,
		    j.members.deactivated, j.members.migratedIn,
		    j.members.migratedOut], [bm.total + 3, bm.joined + 3,
		    bm.deactivated + 1, bm.migratedIn, bm.migratedOut]);
		// posts as the API lists them
		let posts = 0;
		for (const m of members) {
			const l = await m.agent.com.atproto.repo.listRecords({
			    repo: m.did, collection: 'app.bsky.feed.post' })
			    .catch(() => null);
			posts += l ? l.data.records.length : 0;
		}
		// the API hides the two taken-down posts and the deactivated
		// member's three; the report counts what was written
		assert.equal(posts, 9 - 2 - 3);
		assert.equal(j.content.posts, base.content.posts + 9);
		assert.equal(j.content.blobs, base.content.blobs + 6);
		const kinds = new Map(base.moderation.map((x) => [x.kind,
		    x.count]));
		kinds.set('record.takedown', modCount(base,
		    'record.takedown') + 2);
		kinds.set('account.deactivate', modCount(base,
		    'account.deactivate') + 1);
		assert.deepEqual(new Map(j.moderation.map((x) => [x.kind,
		    x.count])), kinds);
		if (base.moderation.length === 0)
			assert.deepEqual(j.moderation, [
			    { kind: 'record.takedown', count: 2 },
			    { kind: 'account.deactivate', count: 1 }]);
		const seeded = Array.from({ length: 20 }, (_, i) =>
		    100 + (i + 1) * 10).reduce((a, b) => a + b, 0);
		assert.ok(j.traffic.requests >= seeded, `${j.traffic.requests}`);
		assert.ok(j.traffic.peakRequestsPerMinute >= 25);
		assert.equal(j.runs.length, base.runs.length + 2);
		assert.equal(starts(j), starts(base) + 2);
		assert.equal(unclean(j), unclean(base) + 1);
		assert.ok(j.storage.databaseBytes > 0 && j.storage.blobBytes > 0);
		assert.equal(j.storage.startBytes, 100000);
		assert.ok(j.daily.length >= 20);
		for (const m of members)
			assert.ok(!text.includes(m.handle) && !text.includes(m.did));
		assert.ok(!text.includes('secret-reason'));
		assert.ok(!text.includes('unix:'), 'no actors');
	});

	test('HTML, opened in chromium', async () => {
		const r = await ctl('report', '--since', since, '--html');
		assert.equal(r.code, 0, r.stderr);
		const html = r.stdout.toString();
		assert.match(html, /^<!DOCTYPE html>/);
		assert.equal((html.match(/<svg /g) || []).length, 4);
		assert.ok(!/(src|href)=/.test(html), 'self-contained');
		for (const m of members)
			assert.ok(!html.includes(m.handle));
		fs.mkdirSync(ARTIFACTS, { recursive: true });
		const file = path.join(ARTIFACTS, 'report.html');
		fs.writeFileSync(file, html);
		assert.ok(isExecutable(CHROMIUM), `${CHROMIUM} is missing: ` +
		    'install the chromium package (scripts/deps.sh)');
		const browser = await puppeteer.launch({ executablePath: CHROMIUM,
		    headless: true, args: ['--no-sandbox',
		    '--disable-dev-shm-usage'] });
		try {
			const page = await browser.newPage();
			await page.setViewport({ width: 1100, height: 900 });
			await page.goto(`file://${file}`);
			const bars = await page.$$eval('svg rect', (e) => e.length);
			assert.ok(bars >= 80, `${bars} bars`);
			const h1 = await page.$eval('h1', (e) => e.textContent);
			assert.equal(h1, 'localhost');
			const tiles = await page.$$eval('.tile b', (e) =>
			    e.map((x) => x.textContent));
			assert.equal(tiles[0], String(base.members.total + 3));
			const box = await page.$eval('svg', (e) => {
				const b = e.getBoundingClientRect();
				return [b.width, b.height];
			});
			assert.ok(box[0] > 200 && box[1] > 50, `${box}`);
			await page.screenshot({ path: path.join(ARTIFACTS,
			    'report.png'), fullPage: true });
		} finally {
			await browser.close();
		}
		assert.ok(fs.statSync(path.join(ARTIFACTS, 'report.png')).size >
		    10000);
	});
});
