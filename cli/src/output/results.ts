/** The data commands return. Each kind has one human and one JSON rendering (output/render.ts). */
import type { ModuleStats, StateInfo, StateStats } from '../core/results.js';
import type { LuaRule } from '../core/rules.js';
import type { Finding } from '../core/luacheck.js';
import type { Simulation } from '../core/simulate.js';
import type { FleetSummary, HostResult } from '../core/fleet.js';

export interface AppliedRule {
	family: 'ipv4' | 'ipv6';
	command: string;
	backend: string;
	argv: string[];
	/** false when `rule add` found the rule already there */
	changed: boolean;
}

/** A host of an inventory as `nfluactl inventory` shows it. */
export interface InventoryHost {
	name: string;
	groups: string[];
	vars: Record<string, unknown>;
	connection: { host: string; port: number; user: string; identity: string | null; jump: string | null };
	/** inventory settings nfluactl does not act on (passwords, become, other ssh options) */
	ignored: string[];
}

export type Result =
	| { kind: 'version'; cli: string; module: string; where: string }
	| { kind: 'done'; action: 'create' | 'destroy' | 'rename' | 'set'; state: string; to?: string }
	| { kind: 'list'; states: StateInfo[] }
	| { kind: 'stats'; stats: StateStats | ModuleStats }
	| { kind: 'values'; state: string; values: Uint8Array[] }
	/** execute/send --by-cpu: each replica's results (cpu 'all' for a state not per CPU) */
	| { kind: 'cpu-values'; state: string; cpus: { cpu: number | 'all'; values: Uint8Array[] }[] }
	| { kind: 'message'; state: string; message: Uint8Array }
	| { kind: 'rules-applied'; action: 'add' | 'del'; rules: AppliedRule[] }
	| { kind: 'rule-list'; rules: LuaRule[] }
	| { kind: 'text'; text: string }
	| { kind: 'check'; files: { file: string; findings: Finding[] }[]; errors: number; warnings: number }
	| { kind: 'simulation'; sim: Simulation }
	| { kind: 'inventory'; hosts: InventoryHost[]; total: number }
	/** a fleet command's host as it ends: --json=stream prints it at once (one JSON line) */
	| { kind: 'fleet-host'; result: HostResult }
	/** a fleet command's end: the recap (hosts: every host's result; absent when streamed) */
	| { kind: 'fleet'; command: string; summary: FleetSummary; hosts?: HostResult[]; retryFile?: string };
