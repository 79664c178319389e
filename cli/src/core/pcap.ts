/**
 * Packet captures, pure: pcap (micro- and nanosecond, either byte order) and pcapng (SHB, IDB,
 * EPB, SPB, any number of sections and interfaces), then the link layer down to the IP header
 * (Ethernet with VLAN tags, Linux cooked SLL and SLL2, raw IP, BSD loopback).
 */

export interface Frame {
	/** 1-based position in the capture */
	index: number;
	/** seconds since the epoch (fraction: the capture's resolution, to microseconds at least) */
	time: number;
	linktype: number;
	data: Uint8Array;
	/** the frame's length on the wire (more than data.length when the capture cut it) */
	origLen: number;
}

export class CaptureError extends Error {}

export const LINKTYPE = { NULL: 0, ETHERNET: 1, RAW: 101, LOOP: 108, SLL: 113, SLL2: 276, IPV4: 228, IPV6: 229 } as const;

function view(b: Uint8Array): DataView {
	return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Every frame of a pcap or pcapng file. */
export function parseCapture(b: Uint8Array): Frame[] {
	if (b.length < 4) throw new CaptureError('not a capture: shorter than 4 bytes');
	const magic = view(b).getUint32(0, false);
	if (magic === 0x0a0d0d0a) return parsePcapng(b);
	return parsePcap(b);
}

function parsePcap(b: Uint8Array): Frame[] {
	if (b.length < 24) throw new CaptureError('pcap: header shorter than 24 bytes');
	const dv = view(b);
	const m = dv.getUint32(0, false);
	let le: boolean;
	let nano: boolean;
	if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) le = false;
	else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) le = true;
	else throw new CaptureError(`not a pcap or pcapng file (magic 0x${m.toString(16).padStart(8, '0')})`);
	nano = m === 0xa1b23c4d || m === 0x4d3cb2a1;
	const linktype = dv.getUint32(20, le) & 0xffff;
	const frames: Frame[] = [];
	let off = 24;
	while (off + 16 <= b.length) {
		const sec = dv.getUint32(off, le);
		const frac = dv.getUint32(off + 4, le);
		const incl = dv.getUint32(off + 8, le);
		const orig = dv.getUint32(off + 12, le);
		off += 16;
		if (off + incl > b.length) throw new CaptureError(`pcap: record ${frames.length + 1} runs past the end of the file`);
		frames.push({ index: frames.length + 1, time: sec + frac / (nano ? 1e9 : 1e6), linktype, data: b.subarray(off, off + incl), origLen: orig });
		off += incl;
	}
	if (off !== b.length) throw new CaptureError('pcap: the file ends inside a record header');
	return frames;
}

interface Iface {
	linktype: number;
	/** timestamp units per second */
	units: bigint;
}

function parsePcapng(b: Uint8Array): Frame[] {
	const dv = view(b);
	const frames: Frame[] = [];
	let le = true;
	let ifaces: Iface[] = [];
	let off = 0;
	while (off < b.length) {
		if (off + 12 > b.length) throw new CaptureError('pcapng: the file ends inside a block header');
		let type = dv.getUint32(off, le);
		if (dv.getUint32(off, false) === 0x0a0d0d0a) {
			// section header: its byte-order magic says how to read the rest of the section
			const bom = dv.getUint32(off + 8, true);
			if (bom === 0x1a2b3c4d) le = true;
			else if (bom === 0x4d3c2b1a) le = false;
			else throw new CaptureError('pcapng: bad byte-order magic');
			type = 0x0a0d0d0a;
			ifaces = [];
		}
		const len = dv.getUint32(off + 4, le);
		if (len < 12 || len % 4 !== 0 || off + len > b.length) throw new CaptureError(`pcapng: bad block length ${len} at offset ${off}`);
		const body = b.subarray(off + 8, off + len - 4);
		const bv = view(body);
		if (type === 1) {
			if (body.length < 8) throw new CaptureError('pcapng: interface block too short');
			ifaces.push({ linktype: bv.getUint16(0, le), units: tsUnits(body.subarray(8), le) });
		} else if (type === 6 || type === 3) {
			let iface: Iface | undefined;
			let sec = 0;
			let data: Uint8Array;
			let orig: number;
			if (type === 6) {
				if (body.length < 20) throw new CaptureError('pcapng: packet block too short');
				iface = ifaces[bv.getUint32(0, le)];
				const ts = (BigInt(bv.getUint32(4, le)) << 32n) | BigInt(bv.getUint32(8, le));
				const units = iface?.units ?? 1000000n;
				sec = Number(ts / units) + Number(ts % units) / Number(units);
				const cap = bv.getUint32(12, le);
				orig = bv.getUint32(16, le);
				if (20 + cap > body.length) throw new CaptureError('pcapng: packet data runs past its block');
				data = body.subarray(20, 20 + cap);
			} else {
				iface = ifaces[0];
				orig = bv.getUint32(0, le);
				data = body.subarray(4, 4 + Math.min(orig, body.length - 4));
			}
			if (iface === undefined) throw new CaptureError('pcapng: packet for an undeclared interface');
			frames.push({ index: frames.length + 1, time: sec, linktype: iface.linktype, data, origLen: orig });
		}
		off += len;
	}
	return frames;
}

/** if_tsresol (option 9) of an interface block's options; default microseconds */
function tsUnits(opts: Uint8Array, le: boolean): bigint {
	const dv = view(opts);
	let o = 0;
	while (o + 4 <= opts.length) {
		const code = dv.getUint16(o, le);
		const len = dv.getUint16(o + 2, le);
		if (code === 0) break;
		if (code === 9 && len >= 1 && o + 4 < opts.length) {
			const r = opts[o + 4] ?? 6;
			return r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
		}
		o += 4 + ((len + 3) & ~3);
	}
	return 1000000n;
}

export type NetPacket = { ok: true; family: 4 | 6; ip: Uint8Array } | { ok: false; why: string };

/**
 * The network-layer packet of a frame: from the IP header, cut to the IP length (the kernel
 * trims Ethernet padding before netfilter sees a packet).
 */
export function networkPacket(linktype: number, d: Uint8Array): NetPacket {
	const u16 = (o: number): number => ((d[o] ?? 0) << 8) | (d[o + 1] ?? 0);
	let off: number;
	let ethertype: number | undefined;
	switch (linktype) {
		case LINKTYPE.ETHERNET: {
			if (d.length < 14) return { ok: false, why: 'short Ethernet frame' };
			off = 14;
			ethertype = u16(12);
			while ((ethertype === 0x8100 || ethertype === 0x88a8 || ethertype === 0x9100) && off + 4 <= d.length) {
				ethertype = u16(off + 2);
				off += 4;
			}
			break;
		}
		case LINKTYPE.SLL:
			if (d.length < 16) return { ok: false, why: 'short Linux cooked header' };
			off = 16;
			ethertype = u16(14);
			break;
		case LINKTYPE.SLL2:
			if (d.length < 20) return { ok: false, why: 'short Linux cooked v2 header' };
			off = 20;
			ethertype = u16(0);
			break;
		case LINKTYPE.NULL:
		case LINKTYPE.LOOP: {
			if (d.length < 4) return { ok: false, why: 'short loopback header' };
			off = 4;
			const dv = view(d);
			const af = linktype === LINKTYPE.LOOP ? dv.getUint32(0, false) : (dv.getUint32(0, true) < 256 ? dv.getUint32(0, true) : dv.getUint32(0, false));
			ethertype = af === 2 ? 0x0800 : af === 10 || af === 24 || af === 28 || af === 30 ? 0x86dd : -1;
			break;
		}
		case LINKTYPE.RAW:
		case 12:
		case 14:
		case LINKTYPE.IPV4:
		case LINKTYPE.IPV6:
			off = 0;
			break;
		default:
			return { ok: false, why: `link type ${linktype} is not supported` };
	}
	const ip = d.subarray(off);
	const version = (ip[0] ?? 0) >> 4;
	if (ethertype !== undefined && ethertype !== 0x0800 && ethertype !== 0x86dd) return { ok: false, why: `not IP (ethertype 0x${ethertype.toString(16).padStart(4, '0')})` };
	if (ethertype === 0x0800 || (ethertype === undefined && version === 4)) {
		if (ip.length < 20 || version !== 4) return { ok: false, why: 'short or bad IPv4 header' };
		const tot = u16(off + 2);
		return { ok: true, family: 4, ip: tot >= 20 && tot < ip.length ? ip.subarray(0, tot) : ip };
	}
	if (ethertype === 0x86dd || (ethertype === undefined && version === 6)) {
		if (ip.length < 40 || version !== 6) return { ok: false, why: 'short or bad IPv6 header' };
		const plen = u16(off + 4);
		return { ok: true, family: 6, ip: plen > 0 && 40 + plen < ip.length ? ip.subarray(0, 40 + plen) : ip };
	}
	return { ok: false, why: `not IP (version ${version})` };
}
