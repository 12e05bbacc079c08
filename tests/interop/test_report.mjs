// pdsctl report from a seeded server: members with posts and images
// (through @atproto/api), moderation through pdsctl, and twenty days of
// history written into the store with the sqlite3 shell (daily traffic
// and storage, two earlier runs of pdsd, one of which died).  The text,
// the JSON and the HTML are checked against those numbers and against
// counts read back through the XRPC API; no handle, DID or reason may
// appear.  The HTML page is opened in Debian's chromium (puppeteer-core)
// and a screenshot is kept in $B/test-artifacts/report/report.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import puppeteer from 'puppeteer-core';

import { BUILD, PDSD, isExecutable, runProgram, startPdsd } from './lib.mjs';
import { PDSCTL, seedCoop } from './coop.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.join(BUILD, 'test-artifacts', 'report');
const skip = isExecutable(PDSD) && isExecutable(PDSCTL) ? false :
    'pdsd or pdsctl is not built yet';
const DAY = 86400000;

let pds, members, since;

function ctl(...args) {
	return runProgram(PDSCTL, ['--socket', path.join(pds.dataDir,
	    'pdsd.sock'), ...args]);
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

describe('pdsctl report', { skip }, () => {
	before(async () => {
		pds = await startPdsd();
		members = await seedCoop(pds.url, 3, { prefix: 'rep' });
		since = day(20);
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
		await sql('INSERT INTO daily_stats (day, requests, errors, ' +
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
		assert.match(out, /joined 3, wrote something 3, deactivated 1/);
		assert.match(out, /posts 9 \(records \d+\), blobs 6 /);
		assert.match(out, /record\.takedown +2/);
		assert.match(out, /account\.deactivate +1/);
		assert.match(out, /3 starts, 1 without a clean stop/);
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
		assert.deepEqual([j.members.total, j.members.joined,
		    j.members.deactivated, j.members.migratedIn,
		    j.members.migratedOut], [3, 3, 1, 0, 0]);
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
		assert.equal(j.content.posts, 9);
		assert.equal(j.content.blobs, 6);
		assert.deepEqual(j.moderation, [
		    { kind: 'record.takedown', count: 2 },
		    { kind: 'account.deactivate', count: 1 }]);
		const seeded = Array.from({ length: 20 }, (_, i) =>
		    100 + (i + 1) * 10).reduce((a, b) => a + b, 0);
		assert.ok(j.traffic.requests >= seeded, `${j.traffic.requests}`);
		assert.ok(j.traffic.peakRequestsPerMinute >= 25);
		assert.equal(j.runs.length, 3);
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
			assert.equal(tiles[0], '3');
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
