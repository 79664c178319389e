/** The one list of commands; cli.ts registers them in this order. */
import type { CommandDef } from './context.js';
import { completionCommand } from './completion.js';
import { createCommand } from './create.js';
import { destroyCommand } from './destroy.js';
import { renameCommand } from './rename.js';
import { executeCommand } from './execute.js';
import { listCommand } from './list.js';
import { receiveCommand } from './receive.js';
import { sendCommand } from './send.js';
import { setCommand } from './set.js';
import { statsCommand } from './stats.js';
import { versionCommand } from './version.js';
import { checkCommand } from './check.js';
import { simulateCommand } from './simulate.js';
import { inventoryCommand } from './inventory.js';
import { pingCommand } from './ping.js';
import { reportCommand } from './report.js';
import { applyCommand } from './apply.js';

export const commands: readonly CommandDef[] = [
	createCommand,
	destroyCommand,
	renameCommand,
	listCommand,
	executeCommand,
	sendCommand,
	receiveCommand,
	statsCommand,
	setCommand,
	versionCommand,
	completionCommand,
	checkCommand,
	simulateCommand,
	inventoryCommand,
	pingCommand,
	reportCommand,
	applyCommand,
];

export { ruleCommand, ruleSubcommands } from './rule.js';
