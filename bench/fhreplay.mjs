// fhreplay: consumers replaying the firehose from cursor 0, for the
// scale run (bench/scale.mjs), which starts this in a process of its own
// on the load's CPU.
//
//   node bench/fhreplay.mjs URL N DEADLINE_MS
//
// Prints a JSON array, one object per consumer: frames and bytes until
// no frame came for 2 s (end "caught up"), or the deadline.

function replay(url, deadlineMs) {
	return new Promise((resolve) => {
		const ws = new WebSocket(url.replace(/^http/, 'ws') +
		    '/xrpc/com.atproto.sync.subscribeRepos?cursor=0');
		ws.binaryType = 'arraybuffer';
		const t0 = performance.now();
		let frames = 0, bytes = 0, last = t0, done = false;
		const finish = (why) => {
			if (done)
				return;
			done = true;
			clearInterval(timer);
			try {
				ws.close();
			} catch {
				// closed
			}
			const secs = (last - t0) / 1000;
			resolve({ frames, bytes, secs: +secs.toFixed(2),
				frames_per_s: secs > 0 ? frames / secs : 0,
				end: why });
		};
		const timer = setInterval(() => {
			const now = performance.now();
			if (frames > 0 && now - last > 2000)
				finish('caught up');
			else if (now - t0 > deadlineMs)
				finish('deadline');
		}, 200);
		ws.onmessage = (ev) => {
			frames++;
			bytes += ev.data.byteLength;
			last = performance.now();
		};
		ws.onerror = () => finish('error');
		ws.onclose = () => finish('closed');
	});
}

const [url, n, deadline] = process.argv.slice(2);
if (!url || !(Number(n) > 0) || !(Number(deadline) > 0)) {
	process.stderr.write('usage: fhreplay.mjs URL N DEADLINE_MS\n');
	process.exit(2);
}
const rs = await Promise.all(Array.from({ length: Number(n) },
    () => replay(url, Number(deadline))));
process.stdout.write(JSON.stringify(rs) + '\n');
process.exit(0);
