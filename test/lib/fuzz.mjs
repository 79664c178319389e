// The seeded packet mutator shared by the simulator's fuzz (test/cli/policies.test.mjs) and the
// kernel's (test/vm/policies/prepare.mjs): the same seed gives the same packets in both.

/** xorshift32: a deterministic generator of numbers in [0, 1) */
export function rng(seed) {
	let x = seed >>> 0 || 1;
	return () => {
		x ^= x << 13;
		x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5;
		x >>>= 0;
		return x / 4294967296;
	};
}

/**
 * Endless mutated and truncated versions of SEEDS ({ n: networkPacket() result, v: analyse()
 * view }, packets with a transport payload), drawn with RAND: yields { family, out } where out
 * is the network-layer packet (from the IP header on).
 */
export function* mutations(seeds, rand) {
	for (;;) {
		const { n, v } = seeds[Math.floor(rand() * seeds.length)];
		const b = Uint8Array.from(n.ip);
		const kind = rand();
		let out = b;
		const inPayload = () => v.payoff + Math.floor(rand() * (b.length - v.payoff));
		if (kind < 0.3) out = b.subarray(0, v.payoff + Math.floor(rand() * (b.length - v.payoff))); // truncated payload
		else if (kind < 0.6) for (let m = 1 + Math.floor(rand() * 8); m > 0; m--) b[inPayload()] = Math.floor(rand() * 256); // bytes changed
		else if (kind < 0.75) for (let m = 1 + Math.floor(rand() * 4); m > 0; m--) b[inPayload()] = [0, 1, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff][Math.floor(rand() * 8)]; // edge values (lengths)
		else if (kind < 0.85) out = Uint8Array.from([...b.subarray(0, v.payoff), ...Array.from({ length: Math.floor(rand() * 600) }, () => Math.floor(rand() * 256))]); // random payload
		else if (kind < 0.95) out = b.subarray(0, Math.floor(rand() * b.length)); // truncated anywhere, headers too
		else for (let m = 1 + Math.floor(rand() * 4); m > 0; m--) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256); // headers changed
		yield { family: n.family, out };
	}
}
