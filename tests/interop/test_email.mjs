// The email token flows against pdsd with a local SMTP sink (a small SMTP
// server started here): confirmEmail, updateEmail, resetPassword,
// deleteAccount and requestPlcOperationSignature through @atproto/api;
// wrong, reused and expired tokens; the message itself; pdsd without SMTP
// (the token goes to the log) and a half-configured SMTP refused at start.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';

import { readTail, sleep, startPdsd, startPlc, startSmtpSink } from './lib.mjs';

const PASSWORD = 'correct horse battery staple';
const TOKEN_RE = /\b([A-Z2-7]{5}-[A-Z2-7]{5})\b/;

function tokenOf(mail) {
	const body = mail.data.split('\r\n\r\n').slice(1).join('\r\n\r\n');
	const m = TOKEN_RE.exec(body);
	assert.ok(m, `a token in the mail: ${mail.data}`);
	return m[1];
}

function header(mail, name) {
	const head = mail.data.split('\r\n\r\n')[0];
	const re = new RegExp(`^${name}: (.*)$`, 'mi');
	return re.exec(head)?.[1];
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

async function newAccount(p = pds) {
	const agent = new AtpAgent({ service: p.url });
	const name = `mail${process.pid % 1000}x${n++}`;
	await agent.createAccount({ handle: `${name}.test`,
	    email: `${name}@example.com`, password: PASSWORD });
	return { agent, email: `${name}@example.com`, handle: `${name}.test` };
}

before(async () => {
	plc = await startPlc();
	smtp = await startSmtpSink();
	pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
	    PDS_EMAIL_SMTP_URL: smtp.url,
	    PDS_EMAIL_FROM_ADDRESS: 'Test PDS <noreply@pds.example>',
	    PDS_SERVICE_NAME: 'Example Coop PDS' } });
});

after(async () => {
	await pds?.stop();
	await smtp?.stop();
	await plc?.stop();
});

describe('email over SMTP', () => {
	test('confirmEmail: the mail, wrong email, wrong and reused tokens',
	    async () => {
		const { agent, email, handle } = await newAccount();
		const mark = smtp.mails.length;
		await agent.com.atproto.server.requestEmailConfirmation();
		const mail = await smtp.next(email, mark);
		assert.equal(mail.from, '<noreply@pds.example>');
		assert.deepEqual(mail.to, [`<${email}>`]);
		assert.match(header(mail, 'Subject'), /^Example Coop PDS: /);
		assert.match(header(mail, 'Content-Type'), /^text\/plain/);
		assert.equal(header(mail, 'To'), email);
		assert.match(mail.data, new RegExp(handle.replace('.', '\\.')));
		const token = tokenOf(mail);

		await rejects(agent.com.atproto.server.confirmEmail({
		    email: 'other@example.com', token }), 'InvalidEmail');
		await rejects(agent.com.atproto.server.confirmEmail({ email,
		    token: 'AAAAA-AAAAA' }), 'InvalidToken');
		// Lower case is the same token, as in the reference.
		await agent.com.atproto.server.confirmEmail({ email,
		    token: token.toLowerCase() });
		const s = await agent.com.atproto.server.getSession();
		assert.equal(s.data.emailConfirmed, true);
		await rejects(agent.com.atproto.server.confirmEmail({ email,
		    token }), 'InvalidToken');
	});

	test('updateEmail: no token needed until confirmed, then one is',
	    async () => {
		const { agent, email } = await newAccount();
		let r = await agent.com.atproto.server.requestEmailUpdate();
		assert.equal(r.data.tokenRequired, false);
		const email2 = `b.${email}`;
		await agent.com.atproto.server.updateEmail({ email: email2 });
		let s = await agent.com.atproto.server.getSession();
		assert.equal(s.data.email, email2);

		let mark = smtp.mails.length;
		await agent.com.atproto.server.requestEmailConfirmation();
		await agent.com.atproto.server.confirmEmail({ email: email2,
		    token: tokenOf(await smtp.next(email2, mark)) });

		mark = smtp.mails.length;
		r = await agent.com.atproto.server.requestEmailUpdate();
		assert.equal(r.data.tokenRequired, true);
		// The token goes to the current (confirmed) address.
		const token = tokenOf(await smtp.next(email2, mark));
		const email3 = `c.${email}`;
		await rejects(agent.com.atproto.server.updateEmail({
		    email: email3 }), 'TokenRequired');
		await rejects(agent.com.atproto.server.updateEmail({
		    email: email3, token: 'ZZZZZ-ZZZZZ' }), 'InvalidToken');
		await agent.com.atproto.server.updateEmail({ email: email3,
		    token });
		s = await agent.com.atproto.server.getSession();
		assert.equal(s.data.email, email3);
		assert.equal(s.data.emailConfirmed, false);
	});

	test('updateEmail refuses an address another account has',
	    async () => {
		const a = await newAccount();
		const b = await newAccount();
		await rejects(a.agent.com.atproto.server.updateEmail({
		    email: b.email }), 'InvalidRequest');
	});

	test('resetPassword: unknown address is silent; token works once',
	    async () => {
		const { agent, email, handle } = await newAccount();
		const anon = new AtpAgent({ service: pds.url });
		let mark = smtp.mails.length;
		await anon.com.atproto.server.requestPasswordReset({
		    email: 'nobody-here@example.com' });
		await anon.com.atproto.server.requestPasswordReset({ email });
		const token = tokenOf(await smtp.next(email, mark));
		assert.equal(smtp.mails.slice(mark).filter((m) =>
		    m.to.some((t) => t.includes('nobody-here'))).length, 0);

		await rejects(anon.com.atproto.server.resetPassword({
		    token: 'AAAAA-BBBBB', password: 'x' }), 'InvalidToken');
		await anon.com.atproto.server.resetPassword({ token,
		    password: 'new password 2' });
		await rejects(anon.com.atproto.server.resetPassword({ token,
		    password: 'new password 3' }), 'InvalidToken');
		// The old session is gone; the new password logs in.
		const fresh = new AtpAgent({ service: pds.url });
		await assert.rejects(fresh.login({ identifier: handle,
		    password: PASSWORD }));
		await fresh.login({ identifier: handle,
		    password: 'new password 2' });
		await assert.rejects(agent.com.atproto.server.refreshSession());
		// A second request replaces the first token.
		mark = smtp.mails.length;
		await anon.com.atproto.server.requestPasswordReset({ email });
		const t1 = tokenOf(await smtp.next(email, mark));
		mark = smtp.mails.length;
		await anon.com.atproto.server.requestPasswordReset({ email });
		const t2 = tokenOf(await smtp.next(email, mark));
		if (t1 !== t2) {
			await rejects(anon.com.atproto.server.resetPassword({
			    token: t1, password: 'p4' }), 'InvalidToken');
		}
		await anon.com.atproto.server.resetPassword({ token: t2,
		    password: 'p5' });
	});

	test('deleteAccount: password and token, then the account is gone',
	    async () => {
		const { agent, email, handle } = await newAccount();
		const did = agent.session.did;
		const anon = new AtpAgent({ service: pds.url });
		const mark = smtp.mails.length;
		await agent.com.atproto.server.requestAccountDelete();
		const mail = await smtp.next(email, mark);
		assert.match(header(mail, 'Subject'), /deletion/i);
		const token = tokenOf(mail);
		await rejects(anon.com.atproto.server.deleteAccount({ did,
		    password: 'wrong', token }), 'AuthenticationRequired', 401);
		await rejects(anon.com.atproto.server.deleteAccount({ did,
		    password: PASSWORD, token: 'AAAAA-CCCCC' }),
		    'InvalidToken');
		await anon.com.atproto.server.deleteAccount({ did,
		    password: PASSWORD, token });
		await assert.rejects(anon.login({ identifier: handle,
		    password: PASSWORD }));
		await rejects(anon.com.atproto.sync.getLatestCommit({ did }),
		    'RepoNotFound');
	});

	test('requestPlcOperationSignature mails a plc_operation token',
	    async () => {
		const { agent, email } = await newAccount();
		const mark = smtp.mails.length;
		await agent.com.atproto.identity.requestPlcOperationSignature();
		const mail = await smtp.next(email, mark);
		assert.match(header(mail, 'Subject'), /identity/i);
		assert.ok(tokenOf(mail));
		await rejects(agent.com.atproto.identity.signPlcOperation({
		    token: 'AAAAA-DDDDD' }), 'InvalidToken');
	});

	test('an unreachable SMTP server is an error the member sees',
	    async () => {
		const dead = await startPdsd({ env: {
		    PDS_DID_PLC_URL: plc.url,
		    PDS_EMAIL_SMTP_URL: 'smtp://127.0.0.1:1',
		    PDS_EMAIL_FROM_ADDRESS: 'noreply@pds.example' } });
		try {
			const { agent } = await newAccount(dead);
			await rejects(agent.com.atproto.server
			    .requestEmailConfirmation(), 'UpstreamFailure', 502);
			assert.match(readTail(dead.logFile),
			    /mailer: could not send/);
		} finally {
			await dead.stop();
		}
	});
});

describe('expired tokens', () => {
	let short;

	before(async () => {
		short = await startPdsd({ env: {
		    PDS_DID_PLC_URL: plc.url,
		    PDS_EMAIL_SMTP_URL: smtp.url,
		    PDS_EMAIL_FROM_ADDRESS: 'noreply@pds.example',
		    PDS_EMAIL_TOKEN_TTL_SECONDS: '1' } });
	});
	after(async () => { await short?.stop(); });

	test('every flow answers ExpiredToken after the lifetime',
	    async () => {
		const { agent, email } = await newAccount(short);
		const anon = new AtpAgent({ service: short.url });
		let mark = smtp.mails.length;
		await agent.com.atproto.server.requestEmailConfirmation();
		const confirm = tokenOf(await smtp.next(email, mark));
		mark = smtp.mails.length;
		await anon.com.atproto.server.requestPasswordReset({ email });
		const reset = tokenOf(await smtp.next(email, mark));
		mark = smtp.mails.length;
		await agent.com.atproto.server.requestAccountDelete();
		const del = tokenOf(await smtp.next(email, mark));
		mark = smtp.mails.length;
		await agent.com.atproto.identity.requestPlcOperationSignature();
		const plcTok = tokenOf(await smtp.next(email, mark));
		await sleep(2100);
		await rejects(agent.com.atproto.server.confirmEmail({ email,
		    token: confirm }), 'ExpiredToken', 400);
		await rejects(anon.com.atproto.server.resetPassword({
		    token: reset, password: 'x y z' }), 'ExpiredToken', 400);
		await rejects(anon.com.atproto.server.deleteAccount({
		    did: agent.session.did, password: PASSWORD, token: del }),
		    'ExpiredToken', 400);
		await rejects(agent.com.atproto.identity.signPlcOperation({
		    token: plcTok }), 'ExpiredToken', 400);
		// Nothing changed.
		const s = await agent.com.atproto.server.getSession();
		assert.equal(s.data.emailConfirmed, false);
	});
});

describe('without SMTP', () => {
	test('the token is in the log at warning level and works',
	    async () => {
		const quiet = await startPdsd({ env: {
		    PDS_DID_PLC_URL: plc.url } });
		try {
			const { agent, email } = await newAccount(quiet);
			await agent.com.atproto.server
			    .requestEmailConfirmation();
			const log = readTail(quiet.logFile, 100000);
			const m = /email not sent \(no SMTP\): confirm_email token for \S+ \(\S+\): ([A-Z2-7]{5}-[A-Z2-7]{5})/
			    .exec(log);
			assert.ok(m, log);
			await agent.com.atproto.server.confirmEmail({ email,
			    token: m[1] });
			const s = await agent.com.atproto.server.getSession();
			assert.equal(s.data.emailConfirmed, true);
		} finally {
			await quiet.stop();
		}
	});

	test('SMTP URL without a from address is a start-up error',
	    async () => {
		await assert.rejects(startPdsd({ env: {
		    PDS_DID_PLC_URL: plc.url,
		    PDS_EMAIL_SMTP_URL: smtp.url } }),
		    /PDS_EMAIL_(SMTP_URL|FROM_ADDRESS)/);
	});
});
