// Locations the bench needs, resolved from this file so the bench runs from
// any working directory.
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));
export const DIST_ENTRY_URL = new URL('../../web/dist/cleanslate.mjs', import.meta.url).href;
export const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));
export const childScript = (name) => fileURLToPath(new URL(`../children/${name}`, import.meta.url));
