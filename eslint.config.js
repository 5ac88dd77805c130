// ESLint (flat config, eslint 9) for every JS/MJS file of the repo: the
// package entry, the demo page, the reference backend, the tests, the bench,
// the build scripts and the Emscripten --js-library files of wasm/platform/.
// `npx eslint .` (scripts/lint.sh). Each block says where its files run, so
// `no-undef` knows their globals.
import js from '@eslint/js';
import globals from 'globals';

// What an Emscripten --js-library file may use without declaring it: the
// library API, the Module object and the runtime helpers the glue defines
// around the library functions (3.1.x and newer releases). A file's own
// cross-references ($helper names, _exported C functions) go in a
// `/* global ... */` comment at its top.
const emscriptenLibraryGlobals = {
  LibraryManager: 'readonly',
  mergeInto: 'readonly',
  addToLibrary: 'readonly',
  autoAddDeps: 'readonly',
  Module: 'readonly',
  HEAP8: 'readonly',
  HEAP16: 'readonly',
  HEAP32: 'readonly',
  HEAPU8: 'readonly',
  HEAPU16: 'readonly',
  HEAPU32: 'readonly',
  HEAPF32: 'readonly',
  HEAPF64: 'readonly',
  UTF8ToString: 'readonly',
  stringToUTF8: 'readonly',
  lengthBytesUTF8: 'readonly',
  stringToNewUTF8: 'readonly',
  stackSave: 'readonly',
  stackRestore: 'readonly',
  stackAlloc: 'readonly',
  getWasmTableEntry: 'readonly',
  wasmTable: 'readonly',
  callUserCallback: 'readonly',
  runtimeKeepalivePush: 'readonly',
  runtimeKeepalivePop: 'readonly',
  _malloc: 'readonly',
  _free: 'readonly',
};

export default [
  {
    // Build output, installed packages and what the tests and bench leave behind.
    ignores: ['build/', 'web/dist/', 'node_modules/', 'test-results/', 'data/', '.cache/'],
  },
  js.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      ecmaVersion: 2024, // Node 20 and the browsers the package supports
      sourceType: 'module',
      globals: { ...globals.node },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error', // an eslint-disable that no longer disables anything goes
    },
    rules: {
      // An unused catch binding or a `_`-prefixed argument is deliberate;
      // any other unused name is an error.
      'no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }], // `x == null` is the one loose comparison allowed
      'no-var': 'error', // block scope everywhere but the Emscripten library (below)
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  {
    // Runs in the browser only: the package entry (also run by Node under
    // jsdom globals), the demo page, the bundler consumer app.
    files: ['web/src/**/*.{js,mjs}', 'web/demo/**/*.js', 'tests/consumers/apps/browser-app.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Node code with browser globals: the Node tests run the module under
    // jsdom's globals; the browser tests and the bench hand functions to a
    // page (page.evaluate, page.waitForFunction), which run there.
    files: ['tests/node/**/*.mjs', 'tests/browser/**/*.mjs', 'tests/consumers/*.mjs', 'bench/**/*.mjs', 'scripts/screenshot.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    // Emscripten --js-library files: evaluated by Emscripten's JS compiler,
    // not loaded as modules, and their functions are stringified into the
    // glue. The file's own header says what it must avoid.
    files: ['wasm/platform/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'script',
      globals: { ...globals.browser, ...emscriptenLibraryGlobals },
    },
    rules: {
      'no-var': 'off', // library function bodies stay ES5: `var` is the house style there
      'prefer-const': 'off',
      // A `/* global Module, HEAPU8 */` comment that repeats a configured
      // global is fine; real redeclarations in the code are still errors.
      'no-redeclare': ['error', { builtinGlobals: false }],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ChainExpression',
          message: "No optional chaining: Emscripten 3.1.6's optimizer cannot print it and the link fails.",
        },
        {
          selector: 'CallExpression[callee.name=/^(mergeInto|addToLibrary)$/] > ObjectExpression > Property[method=true]',
          message: "A library entry is a plain `function (...) {}`: Emscripten's jsifier rewrites its `function(`.",
        },
        {
          selector:
            'CallExpression[callee.name=/^(mergeInto|addToLibrary)$/] > ObjectExpression > Property > ArrowFunctionExpression.value',
          message: "A library entry is a plain `function (...) {}`: Emscripten's jsifier rewrites its `function(`.",
        },
      ],
    },
  },
];
