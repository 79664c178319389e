import { basename } from 'node:path';
import { checkSource, ScriptError, type Finding } from '../core/luacheck.js';
import { UsageError } from '../core/errors.js';
import type { CommandDef } from './context.js';
import { readInputFile } from './input.js';

export const checkCommand: CommandDef = {
	command: 'check <files..>',
	describe: "report, with file:line, what the kernel's integer-only Lua would refuse or run differently, and what the simulator cannot reproduce",
	builder: (y) =>
		y
			.positional('files', { type: 'string', array: true, describe: 'Lua files' })
			.option('strict', { type: 'boolean', describe: 'exit 1 on warnings (simulator differences) too' })
			.example('$0 check policies/*.lua', 'exit 0: nothing the kernel would refuse; 1: errors found')
			.example('$0 check --json my.lua', '{"files": [{"file", "findings": [...]}], "errors", "warnings"}'),
	async *run(_ctx, a) {
		const files = (a.files as string[] | undefined) ?? [];
		if (files.length === 0) throw new UsageError('check takes one or more Lua files');
		const results: { file: string; findings: Finding[] }[] = [];
		for (const file of files) {
			const src = await readInputFile(file);
			results.push({ file, findings: checkSource(src, basename(file)) });
		}
		const count = (sev: string): number => results.reduce((n, r) => n + r.findings.filter((f) => f.severity === sev).length, 0);
		const errors = count('error');
		const warnings = count('warning');
		yield { kind: 'check', files: results, errors, warnings };
		if (errors > 0 || (a.strict === true && warnings > 0)) {
			throw new ScriptError(`${errors} error${errors === 1 ? '' : 's'} and ${warnings} warning${warnings === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'}`);
		}
	},
};
