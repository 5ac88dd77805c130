// Turns the emscripten output (build/wasm/cleanslate_core.{js,wasm}) and the
// JS entry (web/src/) into web/dist/: cleanslate.mjs (one ES module: glue +
// API), cleanslate.wasm and cleanslate.d.ts; and the React binding,
// react.mjs and react.d.ts, copied as written (it imports only 'react').
import { build } from 'esbuild';
import { minify } from 'terser';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wasmDir = join(root, 'build', 'wasm');
const dist = join(root, 'web', 'dist');
mkdirSync(dist, { recursive: true });

// The glue is a classic MODULARIZE script: `var CleanslateCore = function
// (CleanslateCore) {...}`. The minimal runtime's (-sMINIMAL_RUNTIME, see
// CMakeLists.txt) has no CommonJS/AMD export block after it, so the ES module
// export is appended here; a layout that is not that one fails the build.
let glue = readFileSync(join(wasmDir, 'cleanslate_core.js'), 'utf8');
if (!/^var CleanslateCore\s*=/.test(glue) || /\btypeof exports\b|\bdefine\.amd\b/.test(glue)) {
  throw new Error('bundle: unexpected glue layout (want the minimal runtime\'s MODULARIZE factory, no export block)');
}
glue += '\nexport default CleanslateCore;\n';
const glueModule = join(wasmDir, 'cleanslate_core.mjs');
writeFileSync(glueModule, glue);

const bundled = await build({
  entryPoints: [join(root, 'web', 'src', 'cleanslate.js')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  // ES2022 keeps the Session's #private fields native (every browser the
  // module targets has them: it needs BroadcastChannel-era engines anyway);
  // at es2020 esbuild lowers each to a WeakMap and a helper call per use,
  // 287 B gzip more.
  target: 'es2022',
  // Syntax only: the names are left to terser below, which picks the short
  // ones for the whole module by use count (−7 B gzip against keeping
  // esbuild's).
  minifySyntax: true,
  legalComments: 'none',
  alias: { 'cleanslate-core-glue': glueModule },
  write: false,
  logLevel: 'warning',
});
// A second pass with terser over esbuild's output: its compressor folds and
// inlines more than esbuild's minifier does, and as an ES module
// (`module: true`) it may rename top-level names too. About 1.0 KB gzip off
// cleanslate.mjs. Four passes rather than two: by the fourth it inlines the
// glue's factory into its one caller, loadCore (−28 B gzip); more change
// nothing. Safe options only: properties are never renamed (the glue
// and the entry reach browser APIs such as navigator.locks and
// BroadcastChannel, and embind's exports, by name), and nothing that assumes
// getters or arrow conversions are free of side effects.
const minified = await minify(bundled.outputFiles[0].text, {
  module: true,
  ecma: 2020,
  compress: { passes: 4 },
  mangle: true,
  format: { comments: false },
});
writeFileSync(join(dist, 'cleanslate.mjs'), minified.code);
copyFileSync(join(wasmDir, 'cleanslate_core.wasm'), join(dist, 'cleanslate.wasm'));
copyFileSync(join(root, 'web', 'src', 'cleanslate.d.ts'), join(dist, 'cleanslate.d.ts'));
copyFileSync(join(root, 'web', 'src', 'react.js'), join(dist, 'react.mjs'));
copyFileSync(join(root, 'web', 'src', 'react.d.ts'), join(dist, 'react.d.ts'));

const size = (f) => {
  const bytes = readFileSync(join(dist, f));
  return `${f} ${statSync(join(dist, f)).size} B (${gzipSync(bytes, { level: 9 }).length} B gzip)`;
};
// Bundlers refuse a `node:` import reachable from a browser build, even a
// dynamic one behind an `if`; the entry must not name one.
if (/\bnode:[a-z]/.test(readFileSync(join(dist, 'cleanslate.mjs'), 'utf8'))) {
  throw new Error('bundle: web/dist/cleanslate.mjs names a node: module');
}
// React is an optional peer dependency: the core entry must load without it,
// and the binding may import nothing but React (it takes the session it
// works on as a prop, so it never needs the core module).
const importsOf = (code) => [...code.matchAll(/\b(?:import|export)\s*(?:[^'"]*?\bfrom\s*)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g)]
  .map((m) => m[1] ?? m[2]);
const coreImports = importsOf(readFileSync(join(dist, 'cleanslate.mjs'), 'utf8'));
if (coreImports.length) throw new Error(`bundle: web/dist/cleanslate.mjs imports ${coreImports.join(', ')}`);
const reactImports = importsOf(readFileSync(join(dist, 'react.mjs'), 'utf8'));
if (reactImports.some((name) => name !== 'react')) {
  throw new Error(`bundle: web/dist/react.mjs may import only 'react', not ${reactImports.join(', ')}`);
}
console.log(`bundle: ${size('cleanslate.mjs')}, ${size('cleanslate.wasm')}, ${size('react.mjs')}`);
