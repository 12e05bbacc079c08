// com.atproto.admin.sendEmail against pdsd with local SMTP sinks: the mail
// through the moderation mailer when PDS_MODERATION_EMAIL_* is set, else
// through the main one, and honestly not sent without SMTP; its errors and
// its auth.  Also com.atproto.temp.checkSignupQueue (no signup queue here).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { AtpAgent } from '@atproto/api';

import { startPdsd, startPlc, startSmtpSink } from './lib.mjs';

const PASSWORD = 'correct horse battery staple';

let plc, smtp, modSmtp, pds;
let n = 0;

function header(mail, name) {
	const head = mail.data.split('\r\n\r\n')[0];
	const re = new RegExp(`^${name}: (.*)$`, 'mi');
	return re.exec(head)?.[1];
}

function body(mail) {
	return mail.data.split('\r\n\r\n').slice(1).join('\r\n\r\n');
}

async function newAccount(p = pds) {
	const agent = new AtpAgent({ service: p.url });
	const name = `adm${process.pid % 1000}x${n++}`;
	await agent.createAccount({ handle: `${name}.test`,
	    email: `${name}@example.com`, password: PASSWORD });
	return { agent, did: agent.session.did, email: `${name}@example.com` };
}

// POST an XRPC procedure; { status, json }.
async function post(p, nsid, input, authorization) {
	const headers = { 'content-type': 'application/json' };
	if (authorization)
		headers.authorization = authorization;
	const res = await fetch(`${p.url}/xrpc/${nsid}`, { method: 'POST',
	    headers, body: JSON.stringify(input) });
	return { status: res.status, json: await res.json() };
}

function admin(p) {
	return 'Basic ' + Buffer.from(`admin:${p.adminPassword}`)
	    .toString('base64');
}

function sendEmail(p, input, authorization = admin(p)) {
	return post(p, 'com.atproto.admin.sendEmail', input, authorization);
}

before(async () => {
	plc = await startPlc();
	smtp = await startSmtpSink();
	modSmtp = await startSmtpSink();
	pds = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
	    PDS_EMAIL_SMTP_URL: smtp.url,
	    PDS_EMAIL_FROM_ADDRESS: 'Test PDS <noreply@pds.example>',
	    PDS_MODERATION_EMAIL_SMTP_URL: modSmtp.url,
	    PDS_MODERATION_EMAIL_ADDRESS: 'Moderators <mod@pds.example>' } });
});

after(async () => {
	await pds?.stop();
	await modSmtp?.stop();
	await smtp?.stop();
	await plc?.stop();
});

describe('admin.sendEmail', () => {
	test('mails the account through the moderation mailer', async () => {
		const { did, email } = await newAccount();
		const mark = modSmtp.mails.length, main = smtp.mails.length;
		const r = await sendEmail(pds, { recipientDid: did,
		    senderDid: 'did:example:moderator',
		    subject: 'About your posts',
		    content: 'Hello,\nplease read the rules.\n' });
		assert.equal(r.status, 200, JSON.stringify(r.json));
		assert.deepEqual(r.json, { sent: true });
		const mail = await modSmtp.next(email, mark);
		assert.equal(mail.from, '<mod@pds.example>');
		assert.deepEqual(mail.to, [`<${email}>`]);
		assert.equal(header(mail, 'Subject'), 'About your posts');
		assert.match(body(mail), /^Hello,\r\nplease read the rules\./);
		assert.ok(!smtp.mails.slice(main).some((m) =>
		    m.to.some((t) => t.includes(email))),
		    'nothing through the main mailer');
	});

	test('a default subject', async () => {
		const { did, email } = await newAccount();
		const mark = modSmtp.mails.length;
		const r = await sendEmail(pds, { recipientDid: did,
		    senderDid: 'did:example:moderator', content: 'Hi.' });
		assert.equal(r.status, 200, JSON.stringify(r.json));
		const mail = await modSmtp.next(email, mark);
		assert.equal(header(mail, 'Subject'), 'Message via your PDS');
	});

	test('errors: unknown recipient, missing input', async () => {
		let r = await sendEmail(pds, { recipientDid: 'did:plc:nobody',
		    senderDid: 'did:example:moderator', content: 'Hi.' });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'InvalidRequest');
		assert.match(r.json.message, /Recipient not found/);
		const { did } = await newAccount();
		r = await sendEmail(pds, { recipientDid: did,
		    senderDid: 'did:example:moderator' });
		assert.equal(r.status, 400);
		assert.equal(r.json.error, 'InvalidRequest');
		r = await sendEmail(pds, { recipientDid: did, content: 'x',
		    senderDid: 'did:example:moderator', subject: 'a\r\nBcc: x' });
		assert.equal(r.status, 400);
	});

	test('needs admin or moderator credentials', async () => {
		const { agent, did } = await newAccount();
		const input = { recipientDid: did,
		    senderDid: 'did:example:moderator', content: 'Hi.' };
		let r = await sendEmail(pds, input, null);
		assert.equal(r.status, 401);
		// A member's own token is not a moderator's (the MOD routes'
		// service-JWT check refuses it).
		r = await sendEmail(pds, input,
		    `Bearer ${agent.session.accessJwt}`);
		assert.ok(r.status === 400 || r.status === 401,
		    JSON.stringify(r));
		r = await sendEmail(pds, input, 'Basic ' +
		    Buffer.from('admin:wrong').toString('base64'));
		assert.equal(r.status, 401);
	});

	test('without a moderation mailer: the main one', async () => {
		const p = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url,
		    PDS_EMAIL_SMTP_URL: smtp.url,
		    PDS_EMAIL_FROM_ADDRESS: 'Test PDS <noreply@pds.example>' } });
		try {
			const { did, email } = await newAccount(p);
			const mark = smtp.mails.length;
			const r = await sendEmail(p, { recipientDid: did,
			    senderDid: 'did:example:moderator',
			    content: 'Hi.' });
			assert.deepEqual(r.json, { sent: true });
			const mail = await smtp.next(email, mark);
			assert.equal(mail.from, '<noreply@pds.example>');
		} finally {
			await p.stop();
		}
	});

	test('without any SMTP: not sent', async () => {
		const p = await startPdsd({ env: { PDS_DID_PLC_URL: plc.url } });
		try {
			const { did } = await newAccount(p);
			const r = await sendEmail(p, { recipientDid: did,
			    senderDid: 'did:example:moderator',
			    content: 'Hi.' });
			assert.equal(r.status, 200, JSON.stringify(r.json));
			assert.deepEqual(r.json, { sent: false });
		} finally {
			await p.stop();
		}
	});
});

describe('temp.checkSignupQueue', () => {
	test('an access token is activated', async () => {
		const { agent } = await newAccount();
		const r = await agent.com.atproto.temp.checkSignupQueue();
		assert.deepEqual(r.data, { activated: true });
	});

	test('needs credentials', async () => {
		const res = await fetch(
		    `${pds.url}/xrpc/com.atproto.temp.checkSignupQueue`);
		assert.equal(res.status, 401);
	});
});
