// Email two-factor sign-in (emailAuthFactor) through @atproto/api, with
// a local SMTP sink: turning it on and off with updateEmail, the code
// createSession asks for and mails, accepted once, refused when wrong,
// reused or expired; app passwords skip it; the account page's form
// and the OAuth authorize page with @atproto/oauth-client-node;
// the mail budget with rate limits on; a code mail that fails.  The expiry case runs on a second pdsd whose token
// lifetime (PDS_EMAIL_TOKEN_TTL_SECONDS) is 4 seconds.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';

import { readTail, sleep, startPdsd, startPlc, startSmtpSink, waitFor }
    from './lib.mjs';
import { FormBrowser, REDIRECT_URI, SCOPE, oauthClient } from './oauth.mjs';

const PASSWORD = 'correct horse battery staple';
const TOKEN_RE = /\b([A-Z2-7]{5}-[A-Z2-7]{5})\b/;

function tokenOf(mail) {
	const body = mail.data.split('\r\n\r\n').slice(1).join('\r\n\r\n');
	const m = TOKEN_RE.exec(body);
	assert.ok(m, `a token in the mail: ${mail.data}`);
	return m[1];
}

function subject(mail) {
	return /^Subject: (.*)$/mi.exec(mail.data.split('\r\n\r\n')[0])?.[1];
}

async function rejects(promise, error, status) {
	await assert.rejects(promise, (e) => {
		assert.equal(e.error, error, `${e.error}: ${e.message}`);
		if (status)
			assert.equal(e.status, status);
		return true;
	});
}

let plc, smtp, pds;
let n = 0;

async function newAccount(p) {
	const agent = new AtpAgent({ service: p.url });
	const name = `tfa${process.pid % 1000}x${n++}`;
	const email = `${name}@example.com`;
	await agent.createAccount({ handle: `${name}.test`, email,
	    password: PASSWORD });
	return { agent, email, handle: `${name}.test`, url: p.url };
}

async function confirm(acct, sink = smtp) {
	const mark = sink.mails.length;
	await acct.agent.com.atproto.server.requestEmailConfirmation();
	await acct.agent.com.atproto.server.confirmEmail({ email: acct.email,
	    token: tokenOf(await sink.next(acct.email, mark)) });
}

// updateEmail to the same address with emailAuthFactor, as the app does
async function setFactor(acct, on, sink = smtp) {
	const mark = sink.mails.length;
	const r = await acct.agent.com.atproto.server.requestEmailUpdate();
	assert.equal(r.data.tokenRequired, true);
	const token = tokenOf(await sink.next(acct.email, mark));
	await acct.agent.com.atproto.server.updateEmail({ email: acct.email,
	    token, emailAuthFactor: on });
}

// A fresh login; the code mail's token when one was asked for.
async function login(acct, authFactorToken, password = PASSWORD) {
	const agent = new AtpAgent({ service: acct.url });
	await agent.login({ identifier: acct.handle, password,
	    authFactorToken });
	return agent;
}

async function codeFor(acct) {
	const mark = smtp.mails.length;
	await rejects(login(acct), 'AuthFactorTokenRequired', 401);
	const mail = await smtp.next(acct.email, mark);
	return { mail, code: tokenOf(mail) };
}

before(async () => {
	plc = await startPlc();
	smtp = await startSmtpSink();
	pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
	    PDS_EMAIL_SMTP_URL: smtp.url,
	    PDS_EMAIL_FROM_ADDRESS: 'noreply@pds.example',
	    PDS_SERVICE_NAME: 'Example Coop PDS' } });
});

after(async () => {
	await pds?.stop();
	await smtp?.stop();
	await plc?.stop();
});

describe('emailAuthFactor', () => {
	test('off by default; on only for a confirmed address, with the token',
	    async () => {
		const acct = await newAccount(pds);
		let s = await acct.agent.com.atproto.server.getSession();
		assert.equal(s.data.emailAuthFactor, false);
		await rejects(acct.agent.com.atproto.server.updateEmail({
		    email: acct.email, emailAuthFactor: true }),
		    'InvalidRequest', 400);
		s = await acct.agent.com.atproto.server.getSession();
		assert.equal(s.data.emailAuthFactor, false);

		await confirm(acct);
		await rejects(acct.agent.com.atproto.server.updateEmail({
		    email: acct.email, emailAuthFactor: true }),
		    'TokenRequired');
		await rejects(acct.agent.com.atproto.server.updateEmail({
		    email: acct.email, token: 'ZZZZZ-ZZZZZ',
		    emailAuthFactor: true }), 'InvalidToken');
		await setFactor(acct, true);
		s = await acct.agent.com.atproto.server.getSession();
		assert.equal(s.data.emailAuthFactor, true);
		// the same address again stays confirmed
		assert.equal(s.data.emailConfirmed, true);
	});

	test('sign-in: required and mailed, wrong, accepted once, reused',
	    async () => {
		const acct = await newAccount(pds);
		await confirm(acct);
		await setFactor(acct, true);

		const first = await codeFor(acct);
		assert.match(subject(first.mail), /^Example Coop PDS: Sign-in code/);
		assert.equal(first.mail.to[0], `<${acct.email}>`);
		// asking again mails a new code, which replaces the old one
		const { code } = await codeFor(acct);
		assert.notEqual(code, first.code);
		await rejects(login(acct, first.code), 'InvalidToken', 400);

		// a wrong code: the message the Bluesky app looks for
		await assert.rejects(login(acct, 'AAAAA-AAAAA'), (e) => {
			assert.equal(e.error, 'InvalidToken');
			assert.equal(e.status, 400);
			assert.match(e.message, /Token is invalid/);
			return true;
		});
		// the wrong password with the right code is still refused
		await rejects(login(acct, code, 'not the password'),
		    'AuthenticationRequired', 401);

		const agent = await login(acct, code.toLowerCase());
		assert.equal(agent.session.emailAuthFactor, true);
		assert.equal(agent.session.did, acct.agent.session.did);
		const s = await agent.com.atproto.server.getSession();
		assert.equal(s.data.emailAuthFactor, true);
		const r = await fetch(`${acct.url}/xrpc/com.atproto.server.` +
		    'refreshSession', { method: 'POST', headers: {
		    authorization: `Bearer ${agent.session.refreshJwt}` } });
		assert.equal(r.status, 200);
		assert.equal((await r.json()).emailAuthFactor, true);

		// once only
		await rejects(login(acct, code), 'InvalidToken', 400);
	});

	test('app passwords skip the second factor', async () => {
		const acct = await newAccount(pds);
		await confirm(acct);
		await setFactor(acct, true);
		const r = await acct.agent.com.atproto.server.createAppPassword({
		    name: 'phone' });
		const mark = smtp.mails.length;
		const agent = await login(acct, undefined, r.data.password);
		assert.equal(agent.session.did, acct.agent.session.did);
		await sleep(200);
		assert.equal(smtp.mails.slice(mark).filter((m) =>
		    m.to.includes(`<${acct.email}>`)).length, 0,
		    'no code was mailed');
	});

	test('turned off: no code asked for', async () => {
		const acct = await newAccount(pds);
		await confirm(acct);
		await setFactor(acct, true);
		await codeFor(acct);
		await setFactor(acct, false);
		const s = await acct.agent.com.atproto.server.getSession();
		assert.equal(s.data.emailAuthFactor, false);
		const agent = await login(acct);
		assert.equal(agent.session.emailAuthFactor, false);
	});
});

// The account page's sign-in form (the same second factor as the OAuth
// sign-in page), driven as a browser would: cookies and the CSRF field.
class Browser {
	constructor(url) { this.url = url; this.jar = new Map(); }
	cookies() {
		return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
	}
	async request(path, form) {
		const init = { redirect: 'manual', headers: {
		    cookie: this.cookies() } };
		if (form) {
			init.method = 'POST';
			init.headers['content-type'] =
			    'application/x-www-form-urlencoded';
			init.body = new URLSearchParams({
			    csrf_token: this.jar.get('csrf-token'), ...form });
		}
		const r = await fetch(this.url + path, init);
		for (const c of r.headers.getSetCookie()) {
			const [kv] = c.split(';');
			const i = kv.indexOf('=');
			this.jar.set(kv.slice(0, i), kv.slice(i + 1));
		}
		return { status: r.status, text: await r.text(),
		    location: r.headers.get('location') };
	}
}

describe('the sign-in page', () => {
	test('asks for the mailed code with the password, once', async () => {
		const acct = await newAccount(pds);
		await confirm(acct);
		await setFactor(acct, true);
		const br = new Browser(pds.url);
		let r = await br.request('/account');
		assert.equal(r.status, 200);
		assert.doesNotMatch(r.text, /name="code"/);

		let mark = smtp.mails.length;
		r = await br.request('/account/sign-in', {
		    identifier: acct.handle, password: PASSWORD });
		assert.equal(r.status, 401);
		assert.match(r.text, /name="code"/);
		assert.match(r.text, /we sent one/);
		const code = tokenOf(await smtp.next(acct.email, mark));

		r = await br.request('/account/sign-in', {
		    identifier: acct.handle, password: PASSWORD,
		    code: 'AAAAA-AAAAA' });
		assert.equal(r.status, 401);
		assert.match(r.text, /Wrong sign-in code/);
		r = await br.request('/account/sign-in', {
		    identifier: acct.handle, password: 'wrong', code });
		assert.equal(r.status, 401);
		assert.doesNotMatch(r.text, /name="code"/);

		r = await br.request('/account/sign-in', {
		    identifier: acct.handle, password: PASSWORD, code });
		assert.equal(r.status, 303, r.text);
		assert.equal(r.location, '/account');
		r = await br.request('/account');
		assert.match(r.text, new RegExp(acct.handle.replace('.',
		    '\\.')));

		// the code worked once
		const other = new Browser(pds.url);
		await other.request('/account');
		r = await other.request('/account/sign-in', {
		    identifier: acct.handle, password: PASSWORD, code });
		assert.equal(r.status, 401);
		assert.match(r.text, /Wrong sign-in code/);
	});
});

describe('OAuth with the official client', () => {
	test('the authorize page asks for the code; the app gets a session',
	    async () => {
		const acct = await newAccount(pds);
		await confirm(acct);
		await setFactor(acct, true);
		const c = oauthClient(pds, plc);
		const url = (await c.client.authorize(acct.handle,
		    { scope: SCOPE })).href;
		const br = new FormBrowser();
		const page = await br.get(url);
		assert.equal(page.status, 200);

		let mark = smtp.mails.length;
		const ask = await br.post(url, page.body,
		    '/oauth/authorize/sign-in', { identifier: acct.handle,
		    password: PASSWORD });
		assert.equal(ask.status, 401);
		assert.match(ask.body, /name="code"/);
		const code = tokenOf(await smtp.next(acct.email, mark));

		const wrong = await br.post(url, ask.body,
		    '/oauth/authorize/sign-in', { identifier: acct.handle,
		    password: PASSWORD, code: 'AAAAA-AAAAA' });
		assert.equal(wrong.status, 401);
		assert.match(wrong.body, /Wrong sign-in code/);

		const signin = await br.post(url, wrong.body,
		    '/oauth/authorize/sign-in', { identifier: acct.handle,
		    password: PASSWORD, code });
		assert.equal(signin.status, 200, signin.body);
		const consent = await br.post(url, signin.body,
		    '/oauth/authorize/consent', { decision: 'allow' });
		assert.equal(consent.status, 303, consent.body);
		const res = await c.client.callback(
		    new URL(consent.headers.location).searchParams,
		    { redirect_uri: REDIRECT_URI });
		assert.equal(res.session.did, acct.agent.session.did);
	});
});

describe('short lifetime, rate limits on', () => {
	let short;

	before(async () => {
		short = await startPdsd({ env: {
		    PDS_DID_PLC_URL: plc.url,
		    PDS_EMAIL_SMTP_URL: smtp.url,
		    PDS_EMAIL_FROM_ADDRESS: 'noreply@pds.example',
		    PDS_RATE_LIMITS_ENABLED: 'true',
		    PDS_EMAIL_TOKEN_TTL_SECONDS: '4' } });
	});
	after(async () => { await short?.stop(); });

	test('an expired code is refused; codes mailed are budgeted',
	    async () => {
		const acct = await newAccount(short);
		await confirm(acct);
		await setFactor(acct, true);
		const { code } = await codeFor(acct);
		await sleep(4200);
		await rejects(login(acct, code), 'ExpiredToken', 400);

		// the sign-in page, given the expired code, mails a new one
		const br = new Browser(short.url);
		await br.request('/account');
		const mark = smtp.mails.length;
		const r = await br.request('/account/sign-in', {
		    identifier: acct.handle, password: PASSWORD, code });
		assert.equal(r.status, 401);
		assert.match(r.text, /had expired: we sent a new one/);
		assert.match(r.text, /name="code"/);
		const fresh = tokenOf(await smtp.next(acct.email, mark));
		assert.notEqual(fresh, code);

		// 5 code mails an hour per account: 3 more, then 429
		for (let i = 0; i < 3; i++)
			await codeFor(acct);
		await rejects(login(acct), 'RateLimitExceeded', 429);
	});
});

describe('a code mail that fails', () => {
	test('is logged and its code dropped', async () => {
		const sink = await startSmtpSink();
		let sinkUp = true;
		const p = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
		    PDS_EMAIL_SMTP_URL: sink.url,
		    PDS_EMAIL_FROM_ADDRESS: 'noreply@pds.example' } });
		try {
			const acct = await newAccount(p);
			await confirm(acct, sink);
			await setFactor(acct, true, sink);
			await sink.stop();
			sinkUp = false;
			// the answer does not wait for the mail
			await rejects(login(acct), 'AuthFactorTokenRequired', 401);
			await waitFor(() => /sign-in code for did:\S+ could not be mailed; dropped/
			    .test(readTail(p.logFile)), 15000, 'the dropped code');
		} finally {
			await p.stop();
			if (sinkUp)
				await sink.stop();
		}
	});
});
