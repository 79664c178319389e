/**
 * The packet as nflua.ko sees it (nflua-kmod/src/packet.c, nflua_packet_init), computed from
 * the bytes of a network-layer packet: family, transport protocol (0 for a later fragment),
 * transport offset (IPv6: after extension headers, as ipv6_find_hdr walks them), payload
 * offset, and whether the transport header is complete. Pure; offsets are 0-based from the IP
 * header, as in the kernel.
 */

export interface PacketView {
	readonly bytes: Uint8Array;
	readonly family: 4 | 6;
	readonly len: number;
	readonly proto: number;
	readonly l4off: number;
	readonly payoff: number;
	/** the TCP/UDP header is complete: ports and payload exist */
	readonly l4ok: boolean;
}

// ipv6_ext_hdr(): hop-by-hop, routing, fragment, AH, no next header, destination options
const IPV6_EXT = new Set([0, 43, 44, 51, 59, 60]);

/** nflua_packet_init: the view, or undefined where the kernel gives up (the rule does not match). */
export function analyse(b: Uint8Array, family: 4 | 6): PacketView | undefined {
	const len = b.length;
	let l4off: number;
	let proto: number;
	if (family === 4) {
		if (len < 20) return undefined;
		const v = b[0] ?? 0;
		if (v >> 4 !== 4 || (v & 15) < 5) return undefined;
		l4off = (v & 15) * 4;
		const fragOff = (((b[6] ?? 0) << 8) | (b[7] ?? 0)) & 0x1fff;
		proto = fragOff !== 0 ? 0 : (b[9] ?? 0);
	} else {
		if (len < 40) return undefined;
		const r = findHdr(b);
		if (r === undefined) return undefined;
		l4off = r.off;
		proto = r.fragoff !== 0 ? 0 : r.proto;
	}
	if (l4off > len) return undefined;
	let payoff = l4off;
	let l4ok = false;
	if (proto === 6) {
		if (l4off + 20 <= len) {
			const doff = (b[l4off + 12] ?? 0) >> 4;
			if (doff >= 5 && l4off + doff * 4 <= len) {
				payoff = l4off + doff * 4;
				l4ok = true;
			}
		}
	} else if (proto === 17) {
		if (l4off + 8 <= len) {
			payoff = l4off + 8;
			l4ok = true;
		}
	}
	return { bytes: b, family, len, proto, l4off, payoff, l4ok };
}

/** ipv6_find_hdr(skb, &off, -1, &fragoff, NULL) with the network header at 0 */
function findHdr(b: Uint8Array): { proto: number; off: number; fragoff: number } | undefined {
	let start = 40;
	let next = b[6] ?? 0;
	for (;;) {
		if (!IPV6_EXT.has(next) || next === 59) return { proto: next, off: start, fragoff: 0 };
		if (start + 2 > b.length) return undefined; // -EBADMSG
		const hpNext = b[start] ?? 0;
		const hpLen = b[start + 1] ?? 0;
		let hdrlen: number;
		if (next === 44) {
			if (start + 4 > b.length) return undefined;
			const fragoff = (((b[start + 2] ?? 0) << 8) | (b[start + 3] ?? 0)) & ~7;
			if (fragoff !== 0) {
				// a later fragment: the kernel returns before setting the offset (it stays 0)
				if (!IPV6_EXT.has(hpNext) || hpNext === 59) return { proto: hpNext, off: 0, fragoff };
				return undefined; // -ENOENT
			}
			hdrlen = 8;
		} else if (next === 51) {
			hdrlen = (hpLen + 2) << 2;
		} else {
			hdrlen = (hpLen + 1) << 3;
		}
		next = hpNext;
		start += hdrlen;
	}
}

const u16 = (b: Uint8Array, o: number): number => ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);

/** pkt.sport / pkt.dport: undefined (nil) unless TCP or UDP with a complete header */
export function port(p: PacketView, src: boolean): number | undefined {
	if (!p.l4ok || (p.proto !== 6 && p.proto !== 17)) return undefined;
	return u16(p.bytes, p.l4off + (src ? 0 : 2));
}

/** pkt.src / pkt.dst as the kernel prints them (%pI4, %pI6c) */
export function address(p: PacketView, src: boolean): string {
	if (p.family === 4) {
		const o = src ? 12 : 16;
		return Array.from(p.bytes.subarray(o, o + 4)).join('.');
	}
	return ipv6Text(p.bytes.subarray(src ? 8 : 24, src ? 24 : 40));
}

/**
 * The kernel's %pI6c (lib/vsprintf.c, ip6_compressed_string): the longest run of two or more
 * zero groups (the first of equal runs) becomes "::"; IPv4-mapped and ISATAP addresses end in
 * dotted IPv4.
 */
export function ipv6Text(a: Uint8Array): string {
	const g: number[] = [];
	for (let i = 0; i < 16; i += 2) g.push(u16(a, i));
	const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
	const isatap = ((g[4] ?? 0) | 0x0200) === 0x0200 && g[5] === 0x5efe;
	const useIPv4 = mapped || isatap;
	const range = useIPv4 ? 6 : 8;
	let colonpos = -1;
	let longest = 1;
	for (let i = 0; i < range; i++) {
		let j = i;
		while (j < range && g[j] === 0) j++;
		if (j - i > longest) {
			longest = j - i;
			colonpos = i;
		}
	}
	let out = '';
	let needcolon = false;
	for (let i = 0; i < range; i++) {
		if (i === colonpos) {
			if (needcolon || i === 0) out += ':';
			out += ':';
			needcolon = false;
			i += longest - 1;
			continue;
		}
		if (needcolon) out += ':';
		out += (g[i] ?? 0).toString(16);
		needcolon = true;
	}
	if (useIPv4) {
		if (needcolon) out += ':';
		out += Array.from(a.subarray(12, 16)).join('.');
	}
	return out;
}
