#!/usr/bin/env node
/** Entry point: the real process I/O for main(). */
import { main } from './index.js';

async function readStdin(): Promise<Uint8Array> {
	const chunks: Buffer[] = [];
	for await (const c of process.stdin) chunks.push(c as Buffer);
	return Buffer.concat(chunks);
}

const ac = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
	interrupts += 1;
	if (interrupts > 1) process.exit(130);
	ac.abort();
});
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
	if (e.code === 'EPIPE') process.exit(0);
});

// no top-level await: the SEA build bundles this file as CommonJS
void main({
	argv: process.argv.slice(2),
	env: process.env,
	stdout: (b) => process.stdout.write(b),
	stderr: (s) => process.stderr.write(s),
	readStdin,
	signal: ac.signal,
	stderrIsTTY: process.stderr.isTTY === true,
}).then((code) => {
	process.exitCode = code;
	// a receive blocked in a device read() keeps a libuv thread busy: do not wait for it
	if (ac.signal.aborted) process.exit(code);
});
