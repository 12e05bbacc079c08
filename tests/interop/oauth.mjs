// OAuth helpers for test_oauth.mjs and test_oauth_browser.mjs: the
// official client (@atproto/oauth-client-node) set up as a loopback
// development client against a local pdsd and PLC directory, a
// cookie-keeping form driver for the sign-in and consent pages (node:http,
// as fetch would rewrite the Sec-Fetch-* headers), and DPoP proofs and
// token requests built with node:crypto for the cases the official client
// never sends.
//
//   const c = oauthClient(pds, plc);        // { client, sessions, states }
//   const url = await c.client.authorize('alice.test');
//   const params = await approveInForms(url, 'alice.test', password);
//   const { session } = await c.client.callback(params);
//
// confidentialClient(pds, plc) is the same client as a confidential one
// (private_key_jwt) whose metadata document a loopback http server
// serves, as pdsd accepts in development mode.

import {
	createHash,
	createPrivateKey,
	generateKeyPairSync,
	randomBytes,
	sign,
} from 'node:crypto';
import http from 'node:http';

import { JoseKey, NodeOAuthClient } from '@atproto/oauth-client-node';
import { buildAtprotoLoopbackClientMetadata } from '@atproto/oauth-types';

export const SCOPE = 'atproto transition:generic';
export const REDIRECT_URI = 'http://127.0.0.1/callback';

const b64u = (b) => Buffer.from(b).toString('base64url');
const sha256 = (b) => createHash('sha256').update(b).digest();

// A Map as the client's state and session stores.
function memoryStore() {
	const m = new Map();
	return {
		map: m,
		async get(k) { return m.get(k); },
		async set(k, v) { m.set(k, v); },
		async del(k) { m.delete(k); },
	};
}

// The official client as a loopback client of pds (handles resolved by
// pds itself, DIDs by plc), declaring `scope` (default SCOPE).  sessions.map holds what it stores per DID:
// { dpopJwk, tokenSet, authMethod }.
export function oauthClient(pds, plc, { redirectUri = REDIRECT_URI,
    scope = SCOPE } = {}) {
	const sessions = memoryStore();
	const states = memoryStore();
	const client = new NodeOAuthClient({
		clientMetadata: buildAtprotoLoopbackClientMetadata({
			scope,
			redirect_uris: [redirectUri],
		}),
		allowHttp: true,
		plcDirectoryUrl: plc.url,
		handleResolver: pds.url,
		stateStore: states,
		sessionStore: sessions,
		requestLock: async (_name, fn) => await fn(),
	});
	return { client, sessions, states };
}

// The body of a fetch request as text (a Request, or url and init).
async function bodyText(input, init) {
	if (input instanceof Request)
		return await input.clone().text();
	const b = init?.body;
	return b === undefined || b === null ? '' : String(b);
}

// The official client as a confidential web client of pds: an ES256
// key (kid "k1") in its keyset, and its metadata document served by a
// loopback http server at clientId, which pdsd fetches (development
// mode only).  tokenBodies holds the form of every token request the
// client sent, client assertion included.  stop() closes the server.
export async function confidentialClient(pds, plc) {
	const key = await JoseKey.generate(['ES256'], 'k1');
	const server = http.createServer((req, res) => {
		if (req.url !== '/client-metadata.json') {
			res.writeHead(404).end();
			return;
		}
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end(JSON.stringify(metadata));
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const origin = `http://127.0.0.1:${server.address().port}`;
	const clientId = `${origin}/client-metadata.json`;
	const redirectUri = `${origin}/callback`;
	const metadata = {
		client_id: clientId,
		client_name: 'Confidential test client',
		application_type: 'web',
		redirect_uris: [redirectUri],
		grant_types: ['authorization_code', 'refresh_token'],
		response_types: ['code'],
		scope: SCOPE,
		token_endpoint_auth_method: 'private_key_jwt',
		token_endpoint_auth_signing_alg: 'ES256',
		jwks: { keys: [key.publicJwk] },
		dpop_bound_access_tokens: true,
	};
	const tokenBodies = [];
	const recording = async (input, init) => {
		const url = input instanceof Request ? input.url : String(input);
		if (url.endsWith('/oauth/token'))
			tokenBodies.push(new URLSearchParams(
			    await bodyText(input, init)));
		return fetch(input, init);
	};
	const sessions = memoryStore();
	const states = memoryStore();
	// The client accepts only https discoverable client_ids: build it
	// with one, then give it the loopback URL (every request reads
	// client_id from this one metadata object).
	const client = new NodeOAuthClient({
		clientMetadata: { ...metadata,
		    client_id: 'https://client.example.com/client-metadata.json' },
		keyset: [key],
		allowHttp: true,
		fetch: recording,
		plcDirectoryUrl: plc.url,
		handleResolver: pds.url,
		stateStore: states,
		sessionStore: sessions,
		requestLock: async (_name, fn) => await fn(),
	});
	client.clientMetadata.client_id = clientId;
	const stop = () => new Promise((resolve) => server.close(resolve));
	return { client, sessions, states, clientId, redirectUri, key,
	    tokenBodies, stop };
}

// ---- a browser without JavaScript: node:http and a cookie jar ----

function httpRequest(url, { method = 'GET', headers = {}, body } = {}) {
	return new Promise((resolve, reject) => {
		const req = http.request(url, { method, headers }, (res) => {
			const chunks = [];
			res.on('data', (d) => chunks.push(d));
			res.on('end', () => resolve({ status: res.statusCode,
			    headers: res.headers,
			    body: Buffer.concat(chunks).toString('utf8') }));
		});
		req.on('error', reject);
		if (body !== undefined)
			req.write(body);
		req.end();
	});
}

// One browser: its cookies, kept by hand (name=value, every path).
export class FormBrowser {
	constructor() {
		this.cookies = new Map();
	}

	async request(url, opts = {}) {
		const headers = { ...(opts.headers ?? {}) };
		if (this.cookies.size > 0)
			headers.cookie = [...this.cookies].map(([k, v]) =>
			    `${k}=${v}`).join('; ');
		const r = await httpRequest(url, { ...opts, headers });
		for (const c of r.headers['set-cookie'] ?? []) {
			const [nv] = c.split(';');
			const i = nv.indexOf('=');
			const name = nv.slice(0, i).trim();
			const value = nv.slice(i + 1).trim();
			if (/;\s*Max-Age=0(;|$)/i.test(c))
				this.cookies.delete(name);
			else
				this.cookies.set(name, value);
		}
		return r;
	}

	get(url) {
		return this.request(url, { headers: {
		    'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document',
		    'sec-fetch-site': 'cross-site' } });
	}

	// POST the form of page (HTML) whose action is action, with its
	// hidden fields and the fields given; relative to base.
	post(base, page, action, fields) {
		const form = formOf(page, action);
		if (form === null)
			throw new Error(`no form for ${action} in:\n${page}`);
		const body = new URLSearchParams({ ...form.hidden, ...fields })
		    .toString();
		return this.request(new URL(form.action, base), {
			method: 'POST',
			headers: {
				'content-type':
				    'application/x-www-form-urlencoded',
				'content-length': Buffer.byteLength(body),
				origin: new URL(base).origin,
				'sec-fetch-mode': 'navigate',
				'sec-fetch-site': 'same-origin',
			},
			body,
		});
	}
}

const unescapeHtml = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

// The form of page posting to a path ending in action: its action and
// hidden fields, or null.
export function formOf(page, action) {
	for (const m of page.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)) {
		const a = /\baction="([^"]*)"/.exec(m[0]);
		if (a === null || !unescapeHtml(a[1]).endsWith(action))
			continue;
		const hidden = {};
		for (const h of m[0].matchAll(/<input\b[^>]*>/g)) {
			if (!/\btype="hidden"/.test(h[0]))
				continue;
			const n = /\bname="([^"]*)"/.exec(h[0]);
			const v = /\bvalue="([^"]*)"/.exec(h[0]);
			if (n !== null)
				hidden[unescapeHtml(n[1])] =
				    v !== null ? unescapeHtml(v[1]) : '';
		}
		return { action: unescapeHtml(a[1]), hidden };
	}
	return null;
}

// Open authorizeUrl in a fresh FormBrowser, sign in as identifier, press
// Allow and return the redirect's query (code, state, iss) as
// URLSearchParams; throws with the page when a step goes wrong.
export async function approveInForms(authorizeUrl, identifier, password) {
	const br = new FormBrowser();
	const page = await br.get(authorizeUrl);
	if (page.status !== 200)
		throw new Error(`authorize page: ${page.status} ${page.body}`);
	const signin = await br.post(authorizeUrl, page.body,
	    '/oauth/authorize/sign-in', { identifier, password });
	if (signin.status !== 200)
		throw new Error(`sign-in: ${signin.status} ${signin.body}`);
	const consent = await br.post(authorizeUrl, signin.body,
	    '/oauth/authorize/consent', { decision: 'allow' });
	if (consent.status !== 303)
		throw new Error(`consent: ${consent.status} ${consent.body}`);
	return new URL(consent.headers.location).searchParams;
}

// ---- DPoP and the token endpoint by hand ----

export function dpopKey() {
	const { privateKey, publicKey } = generateKeyPairSync('ec',
	    { namedCurve: 'P-256' });
	return { privateKey, jwk: publicKey.export({ format: 'jwk' }) };
}

// The key of a stored client session (its private JWK, P-256 or
// secp256k1).
export function dpopKeyOf(privateJwk) {
	const privateKey = createPrivateKey({ key: privateJwk, format: 'jwk' });
	const { kty, crv, x, y } = privateJwk;
	return { privateKey, jwk: { kty, crv, x, y } };
}

// A DPoP proof by key for htm htu; claims override or add (nonce, iat,
// jti, ath).
export function dpopProof(key, htm, htu, claims = {}) {
	const alg = key.jwk.crv === 'secp256k1' ? 'ES256K' : 'ES256';
	const h = b64u(JSON.stringify({ typ: 'dpop+jwt', alg, jwk: key.jwk }));
	const p = b64u(JSON.stringify({ jti: b64u(randomBytes(12)), htm, htu,
	    iat: Math.floor(Date.now() / 1000), ...claims }));
	const sig = sign('sha256', Buffer.from(`${h}.${p}`),
	    { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
	return `${h}.${p}.${b64u(sig)}`;
}

export function pkcePair() {
	const verifier = b64u(randomBytes(32));
	return { verifier, challenge: b64u(sha256(verifier)) };
}

// The authorization server of pds as a small hand-driven client: its
// metadata, its current DPoP nonce, PAR and token requests.
export class HandClient {
	constructor(clientId, meta) {
		this.clientId = clientId;
		this.meta = meta;
		this.nonce = undefined;
	}

	static async open(pds, clientId) {
		const r = await fetch(`${pds.url}/.well-known/` +
		    'oauth-authorization-server');
		return new HandClient(clientId, await r.json());
	}

	// POST form to the token endpoint with DPoP header proof (none when
	// null); the nonce of the answer is kept.  { status, body }.
	async tokenRaw(form, proof) {
		const headers = { 'content-type':
		    'application/x-www-form-urlencoded' };
		if (proof !== null)
			headers.dpop = proof;
		const r = await fetch(this.meta.token_endpoint, { method: 'POST',
		    headers, body: new URLSearchParams({ client_id: this.clientId,
		    ...form }) });
		if (r.headers.get('dpop-nonce'))
			this.nonce = r.headers.get('dpop-nonce');
		return { status: r.status, body: await r.json() };
	}

	// A token request with a good proof by key, fetching a nonce first
	// when there is none yet.
	async token(form, key) {
		const htu = this.meta.token_endpoint;
		let r = await this.tokenRaw(form, dpopProof(key, 'POST', htu,
		    this.nonce ? { nonce: this.nonce } : {}));
		if (r.status === 400 && r.body.error === 'use_dpop_nonce')
			r = await this.tokenRaw(form, dpopProof(key, 'POST', htu,
			    { nonce: this.nonce }));
		return r;
	}

	// PAR without a DPoP proof, then the pages: { code, verifier }.
	async authorize(identifier, password, { state = 'st' } = {}) {
		const { verifier, challenge } = pkcePair();
		const par = await fetch(
		    this.meta.pushed_authorization_request_endpoint, {
			method: 'POST',
			headers: { 'content-type':
			    'application/x-www-form-urlencoded' },
			body: new URLSearchParams({ client_id: this.clientId,
			    response_type: 'code', redirect_uri: REDIRECT_URI,
			    scope: SCOPE, state, code_challenge: challenge,
			    code_challenge_method: 'S256' }),
		});
		const pj = await par.json();
		if (par.status !== 201)
			throw new Error(`PAR: ${par.status} ${JSON.stringify(pj)}`);
		const url = new URL(this.meta.authorization_endpoint);
		url.searchParams.set('client_id', this.clientId);
		url.searchParams.set('request_uri', pj.request_uri);
		const q = await approveInForms(url.href, identifier, password);
		return { code: q.get('code'), verifier, state: q.get('state') };
	}

	// authorize() then the code exchange with key: the token response.
	async session(identifier, password, key) {
		const a = await this.authorize(identifier, password);
		const r = await this.token({ grant_type: 'authorization_code',
		    code: a.code, code_verifier: a.verifier,
		    redirect_uri: REDIRECT_URI }, key);
		if (r.status !== 200)
			throw new Error(`code exchange: ${r.status} ` +
			    JSON.stringify(r.body));
		return r.body;
	}

	refresh(refreshToken, key) {
		return this.token({ grant_type: 'refresh_token',
		    refresh_token: refreshToken }, key);
	}
}
