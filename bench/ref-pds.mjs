// Run the reference PDS (@atproto/pds from bench/node_modules) for the
// benchmarks: settings from the PDS_* environment as the distribution reads
// them, but listening on 127.0.0.1 only (the package itself listens on
// every interface).
//
//   PDS_PORT=... PDS_DATA_DIRECTORY=... "$(scripts/node.sh)" bench/ref-pds.mjs
//
// Prints "reference PDS listening on http://127.0.0.1:<port>" once it
// accepts connections; SIGTERM or SIGINT shut it down the way the
// distribution does (pds.destroy(): connections drained, databases closed).

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(new URL('./package.json', import.meta.url));
let mod;
try {
	mod = await import(pathToFileURL(require.resolve('@atproto/pds')));
} catch (err) {
	console.error(`ref-pds: cannot load @atproto/pds (${err.message}); ` +
	    'run bench/setup.sh first');
	process.exit(1);
}
const { PDS, envToCfg, envToSecrets, readEnv } = mod;

const env = readEnv();
const cfg = envToCfg(env);
const secrets = envToSecrets(env);
const pds = await PDS.create(cfg, secrets);

// app.listen(port) is already wrapped by the XRPC server (WebSocket
// upgrades); wrap it once more to add the loopback host.
const listen = pds.app.listen;
pds.app.listen = (port, ...rest) => listen.call(pds.app, port, '127.0.0.1',
    ...rest);
const server = await pds.start();
console.log(`reference PDS listening on http://127.0.0.1:${
    server.address().port}`);

let stopping = false;
async function stop() {
	if (stopping)
		return;
	stopping = true;
	setTimeout(() => process.exit(0), 10000).unref();
	try {
		await pds.destroy();
	} catch (err) {
		console.error(`ref-pds: ${err.message}`);
	}
	process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
