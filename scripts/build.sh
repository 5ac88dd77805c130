#!/usr/bin/env bash
# Builds the native core and its tests (build/native), the wasm module
# (build/wasm), and bundles web/dist/. Incremental: a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's emscripten finds acorn only through NODE_PATH.
export NODE_PATH="${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs"
jobs=$(nproc 2>/dev/null || echo 2)

if [ ! -d node_modules/esbuild ]; then
  echo "build: node_modules is missing; run 'npm test' or 'npm start' (they install it), or 'npm ci'" >&2
  exit 1
fi

[ -f build/native/CMakeCache.txt ] || cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/native -j"$jobs" -- --no-print-directory

[ -f build/wasm/CMakeCache.txt ] || emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/wasm -j"$jobs" -- --no-print-directory

node scripts/bundle.mjs
