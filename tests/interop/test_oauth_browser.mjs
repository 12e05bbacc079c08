// The sign-in and consent pages in a real browser: Debian's chromium,
// driven by puppeteer-core.  The official OAuth client starts the flow
// with a redirect_uri on a small loopback server of this test, from the
// server's URL rather than a handle so that no login_hint fills the
// identifier in; the browser opens the authorization URL, the
// identifier and password are typed, Sign in and Allow are clicked, the browser lands on that server
// and client.callback() makes the session.  Once with JavaScript, once
// without.  Screenshots of both pages at phone (390x844) and desktop
// (1280x800) width go to $B/test-artifacts/oauth/.
//
// chromium comes from scripts/deps.sh; without it the test fails (set
// CHROMIUM to use another binary).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';
import puppeteer from 'puppeteer-core';

import { BUILD, PDSD, isExecutable, startPdsd, startPlc } from './lib.mjs';
import { SCOPE, oauthClient } from './oauth.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.join(BUILD, 'test-artifacts', 'oauth');
const VIEWPORTS = [['phone', 390, 844], ['desktop', 1280, 800]];

const skip = isExecutable(PDSD) ? false : `${PDSD} is not built yet`;

let plc, pds, issuer, browser, target, alice;

// A loopback server standing in for the app: the first request to
// /callback resolves next() with its query.
async function startRedirectTarget() {
	let waiting = null;
	const srv = http.createServer((req, res) => {
		const u = new URL(req.url, 'http://127.0.0.1');
		res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
		res.end('<!doctype html><title>app</title><p>Back in the app.');
		if (u.pathname === '/callback' && waiting !== null) {
			waiting(u.searchParams);
			waiting = null;
		}
	});
	await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${srv.address().port}/callback`,
		next: () => new Promise((resolve) => { waiting = resolve; }),
		stop: () => new Promise((resolve) => {
			srv.closeAllConnections();
			srv.close(resolve);
		}),
	};
}

before(async () => {
	if (skip)
		return;
	// Not a skip: CI installs chromium, so its absence is a failure.
	assert.ok(isExecutable(CHROMIUM), `${CHROMIUM} is missing: install ` +
	    'the chromium package (scripts/deps.sh) or set CHROMIUM');
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	plc = await startPlc();
	pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url } });
	target = await startRedirectTarget();
	issuer = (await (await fetch(`${pds.url}/.well-known/` +
	    'oauth-authorization-server')).json()).issuer;
	const agent = new AtpAgent({ service: pds.url });
	alice = { handle: 'alice.test', password: 'alice-pw-123' };
	await agent.createAccount({ handle: alice.handle,
	    email: 'alice@example.com', password: alice.password });
	alice.did = agent.session.did;
	browser = await puppeteer.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--disable-dev-shm-usage'],
	});
});
after(async () => {
	if (browser)
		await browser.close();
	if (target)
		await target.stop();
	if (pds)
		await pds.stop();
	if (plc)
		await plc.stop();
});

// Screenshots of the page as it is, at each width.
async function shoot(page, name) {
	for (const [label, width, height] of VIEWPORTS) {
		await page.setViewport({ width, height });
		await page.screenshot({ fullPage: true,
		    path: path.join(ARTIFACTS, `${name}-${label}.png`) });
	}
}

// Click selector and wait for the navigation it starts.
async function submit(page, selector) {
	await Promise.all([
		page.waitForNavigation({ waitUntil: 'load' }),
		page.click(selector),
	]);
}

async function signInWithBrowser(js) {
	const mode = js ? 'js' : 'nojs';
	const c = oauthClient(pds, plc, { redirectUri: target.url });
	const url = await c.client.authorize(issuer, { scope: SCOPE,
	    state: `browser-${mode}` });
	const context = await browser.createBrowserContext();
	try {
		const page = await context.newPage();
		await page.setJavaScriptEnabled(js);
		await page.setViewport({ width: 1280, height: 800 });
		const res = await page.goto(url, { waitUntil: 'load' });
		assert.equal(res.status(), 200);
		await page.waitForSelector('#identifier');
		assert.equal(await page.$eval('#identifier',
		    (e) => e.readOnly), false, 'no login_hint, a free identifier');
		await shoot(page, `signin-${mode}`);
		await page.type('#identifier', alice.handle);
		await page.type('#password', alice.password);
		await submit(page, 'form[action$="/oauth/authorize/sign-in"] ' +
		    'button[type="submit"]');
		await page.waitForSelector('button[name="decision"]' +
		    '[value="allow"]');
		assert.ok((await page.content()).includes(alice.did),
		    'the consent page names the account');
		await shoot(page, `consent-${mode}`);
		const back = target.next();
		await submit(page, 'button[name="decision"][value="allow"]');
		const params = await back;
		assert.equal(page.url().split('?')[0], target.url);
		assert.ok(params.get('code').startsWith('cod-'));
		const { session, state } = await c.client.callback(params,
		    { redirect_uri: target.url });
		assert.equal(state, `browser-${mode}`);
		assert.equal(session.did, alice.did);
		const info = await session.getTokenInfo(false);
		assert.equal(info.sub, alice.did);
		await session.signOut();
	} finally {
		await context.close();
	}
}

describe('the OAuth pages in chromium', { skip }, () => {
	test('sign in and allow, with JavaScript', async () => {
		await signInWithBrowser(true);
	});

	test('sign in and allow, without JavaScript', async () => {
		await signInWithBrowser(false);
	});
});
