/** Picks the transport from the global options: --host means SSH, otherwise the local device. */
import { parseHostSpec } from '../core/validate.js';
import { LocalTransport } from './local.js';
import { SshTransport } from './ssh.js';
import type { Transport } from './types.js';

export interface TransportOptions {
	readonly host?: string | undefined;
	readonly identity?: readonly string[] | undefined;
	readonly knownHosts?: string | undefined;
	readonly acceptNew?: boolean | undefined;
	readonly jump?: string | undefined;
	readonly timeoutMs: number;
	readonly device?: string | undefined;
	readonly sshConfig?: string | undefined;
	readonly log?: ((msg: string) => void) | undefined;
	readonly verbose?: boolean | undefined;
}

export function openTransport(o: TransportOptions): Transport {
	if (o.host === undefined || o.host === '') return new LocalTransport(o.device);
	return new SshTransport({
		host: parseHostSpec(o.host),
		identityFiles: o.identity,
		knownHostsFile: o.knownHosts,
		acceptNew: o.acceptNew,
		jump: o.jump,
		timeoutMs: o.timeoutMs,
		device: o.device,
		sshConfigFile: o.sshConfig,
		log: o.log,
		verbose: o.verbose,
	});
}

export type { Transport, CallOptions, ProcessResult } from './types.js';
