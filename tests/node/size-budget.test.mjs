// Size is deterministic, so it has a budget: the gzip -9 total of what a
// page downloads (the ES module and the wasm) may not grow past it unnoticed.
// The figures and the comparison with other clients are in `npm run bench`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

// 35,500: the build measures 34.8 KB (wasm 25.5 KB, mjs 9.3 KB) after the
// toolchain steps of Core v2 (normal inlining under -Oz, libc++ templates in
// the LTO units, the core's own JSON lexer, terser on the bundle), down from
// 39.7 KB; the margin leaves room for small changes. The target is
// 28 KB: lower this again as the session and glue rewrites land.
const BUDGET_GZIP_BYTES = 35_500;

test(`web/dist download stays within ${BUDGET_GZIP_BYTES} bytes gzip -9`, () => {
  let total = 0;
  for (const file of ['cleanslate.mjs', 'cleanslate.wasm']) {
    const bytes = readFileSync(new URL(`../../web/dist/${file}`, import.meta.url));
    const gz = gzipSync(bytes, { level: 9 }).length;
    console.log(`${file}: ${bytes.length} B raw, ${gz} B gzip`);
    total += gz;
  }
  console.log(`total: ${total} B gzip (budget ${BUDGET_GZIP_BYTES})`);
  assert.ok(total <= BUDGET_GZIP_BYTES, `${total} B gzip is over the ${BUDGET_GZIP_BYTES} B budget`);
});
