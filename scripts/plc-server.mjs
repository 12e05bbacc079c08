// A local PLC directory for development and tests: the real @did-plc/server
// with its in-memory database, on 127.0.0.1 only.
//
//   "$(scripts/node.sh)" scripts/plc-server.mjs [PORT]
//
// PORT (or the environment variable PLC_PORT) 0 or absent picks a free
// port.  Prints "PLC listening on http://127.0.0.1:<port>" once it accepts
// connections, and exits on SIGTERM or SIGINT.  Everything it stores is lost
// on exit.  Needs Node 22 and the packages of tests/interop (install them
// with tests/interop/setup.sh).

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import http from 'node:http';

const pkg = new URL('../tests/interop/package.json', import.meta.url);
const require = createRequire(pkg);

let plcmod;
try {
	plcmod = await import(pathToFileURL(require.resolve('@did-plc/server')));
} catch (err) {
	console.error(`plc-server: cannot load @did-plc/server (${err.message});` +
	    ' run tests/interop/setup.sh first');
	process.exit(1);
}
const { PlcServer, Database } = plcmod.default ?? plcmod;

const arg = process.argv[2] ?? process.env.PLC_PORT ?? '0';
if (!/^[0-9]{1,5}$/.test(arg) || Number(arg) > 65535) {
	console.error(`plc-server: bad port "${arg}"`);
	process.exit(2);
}

const db = Database.mock();
const plc = PlcServer.create({ db, port: Number(arg) });
// PlcServer.start() would listen on every interface; bind loopback here.
const server = http.createServer(plc.app);
server.keepAliveTimeout = 1000;
server.on('error', (err) => {
	console.error(`plc-server: ${err.message}`);
	process.exit(1);
});
server.listen(Number(arg), '127.0.0.1', () => {
	const { port } = server.address();
	console.log(`PLC listening on http://127.0.0.1:${port}`);
});

let stopping = false;
function stop() {
	if (stopping)
		return;
	stopping = true;
	server.close(() => process.exit(0));
	server.closeAllConnections();
	setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
