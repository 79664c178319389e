/**
 * The two fixed POSIX-sh bridges run on the router over SSH `exec`, and shell quoting. Nothing a
 * user types is ever put in a command string unquoted: the scripts are constants, and their
 * arguments go through `shQuote`.
 *
 * Device bridge: one request per exec. The request travels on the channel's stdin; the bridge
 * writes it to the device, then relays the reply to stdout. The command starts with `exec` and the
 * script ends in `exec cat <&3`, so the reader is the session's own process: an SSH "signal"
 * request (which dropbear delivers) ends a receive that is waiting. Its exit statuses (besides
 * 0) tell the client what failed.
 */

export const BRIDGE_EXIT = {
	/** the device does not exist */
	NO_DEVICE: 65,
	/** the device exists but cannot be opened; stderr says why */
	OPEN_FAILED: 66,
	/** writing the request failed; stderr says why (a reply may still have been relayed) */
	WRITE_FAILED: 67,
	/** iptables bridge: a command that is not iptables */
	REFUSED: 68,
	/** iptables bridge: the command is not installed */
	NOT_FOUND: 69,
} as const;

export const DEVICE_BRIDGE = [
	'd=$1',
	`[ -e "$d" ] || { echo "$d does not exist" >&2; exit ${BRIDGE_EXIT.NO_DEVICE}; }`,
	`command exec 3<>"$d" || exit ${BRIDGE_EXIT.OPEN_FAILED}`,
	`cat >&3 || { cat <&3; exit ${BRIDGE_EXIT.WRITE_FAILED}; }`,
	'exec cat <&3',
].join('\n');

export const IPTABLES_COMMANDS = [
	'iptables',
	'ip6tables',
	'iptables-legacy',
	'ip6tables-legacy',
	'iptables-nft',
	'ip6tables-nft',
] as const;
export type IptablesCommand = (typeof IPTABLES_COMMANDS)[number];

export const IPTABLES_BRIDGE = [
	'case $1 in',
	`${IPTABLES_COMMANDS.join('|')}) ;;`,
	`*) echo "refused: $1 is not an iptables command" >&2; exit ${BRIDGE_EXIT.REFUSED} ;;`,
	'esac',
	`command -v "$1" >/dev/null 2>&1 || { echo "$1: not found" >&2; exit ${BRIDGE_EXIT.NOT_FOUND}; }`,
	'exec "$@"',
].join('\n');

/** Quotes one word for POSIX sh: 'it'\''s'. */
export function shQuote(s: string): string {
	if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
	return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The exec command string of the device bridge. */
export function deviceBridgeCommand(device: string): string {
	return `exec sh -c ${shQuote(DEVICE_BRIDGE)} nflua-bridge ${shQuote(device)}`;
}

export function isIptablesCommand(s: string): s is IptablesCommand {
	return (IPTABLES_COMMANDS as readonly string[]).includes(s);
}

/** The exec command string of the iptables bridge for one argv (argv[0] must be an iptables). */
export function iptablesBridgeCommand(argv: readonly string[]): string {
	const [cmd] = argv;
	if (cmd === undefined || !isIptablesCommand(cmd)) throw new Error(`not an iptables command: ${String(cmd)}`);
	return `exec sh -c ${shQuote(IPTABLES_BRIDGE)} nflua-ipt ${argv.map(shQuote).join(' ')}`;
}
