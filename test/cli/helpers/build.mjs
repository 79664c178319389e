// Paths of the built CLI (make cli / npm run build puts it in build/cli).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BUILD = join(ROOT, 'build', 'cli');
export const BIN = join(BUILD, 'bin.js');
export const mod = (p) => import(join(BUILD, p));
