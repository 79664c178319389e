/** Reading a command's input (FILE, -, -e CODE): the only file I/O commands do. */
import { promises as fsp } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { MAX_REQUEST } from '../core/protocol.js';

export async function readInputFile(path: string): Promise<Uint8Array> {
	let st;
	try {
		st = await fsp.stat(path);
	} catch (e) {
		throw new UsageError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
	}
	if (!st.isFile()) throw new UsageError(`cannot read '${path}': not a regular file`);
	if (st.size > MAX_REQUEST) throw new UsageError(`'${path}' is larger than a request may be (64 MiB)`);
	try {
		return await fsp.readFile(path);
	} catch (e) {
		throw new UsageError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
	}
}

/**
 * A lone '-' on the command line (standard input). yargs-parser reads '-' as an empty flag, so
 * cli.ts replaces it with this before parsing (NUL cannot occur in a real argument).
 */
export const STDIN_ARG = '\0-';
