// Figure 1: bytes a page downloads to use the module — every file in
// web/dist/ except type declarations — raw, gzip -9 and brotli q11. The
// total is the core's (cleanslate.mjs + cleanslate.wasm): the React binding
// (react.mjs) is its own entry, which a page without React never loads, so
// it is listed but not counted.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { DIST_DIR } from './paths.mjs';

// Measured elsewhere with esbuild --bundle --minify + gzip -9; fixed numbers.
export const SIZE_ANCHORS = [
  { name: 'keycloak-js 26.2.4', gzipKB: 8.2 },
  { name: 'oidc-client-ts 3.5.0', gzipKB: 17.5 },
  { name: '@supabase/auth-js 2.109.0', gzipKB: 22.9 },
  { name: 'axios 1.21.1 + axios-auth-refresh 5.0.2', gzipKB: 22.9 },
  { name: '@auth0/auth0-spa-js 2.28.3', gzipKB: 64.1 },
];

const OPTIONAL_ENTRIES = new Set(['react.mjs']);

export function measureSize() {
  const files = readdirSync(DIST_DIR)
    .filter((f) => !f.endsWith('.d.ts') && statSync(join(DIST_DIR, f)).isFile())
    .sort();
  const rows = files.map((file) => {
    const bytes = readFileSync(join(DIST_DIR, file));
    return {
      file,
      raw: bytes.length,
      gzip: gzipSync(bytes, { level: 9 }).length,
      brotli: brotliCompressSync(bytes, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
      }).length,
    };
  });
  const total = { file: 'total', raw: 0, gzip: 0, brotli: 0 };
  for (const r of rows) {
    if (OPTIONAL_ENTRIES.has(r.file)) continue;
    for (const k of ['raw', 'gzip', 'brotli']) total[k] += r[k];
  }
  return { files: rows, total };
}
