#!/usr/bin/env bash
# Builds web/dist/ (the wasm module in build/wasm, bundled with the JS entry)
# and, unless told `wasm`, the native core and its tests in build/native.
# Incremental: a second run is quick.
#   scripts/build.sh          everything (npm test)
#   scripts/build.sh wasm     only web/dist (npm start, npm pack)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
case "$what" in all|wasm) ;; *) echo "usage: scripts/build.sh [all|wasm]" >&2; exit 2 ;; esac
# Debian's emscripten finds acorn only through NODE_PATH.
export NODE_PATH="${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs"
jobs=$(nproc 2>/dev/null || echo 2)

if [ ! -d node_modules/esbuild ]; then
  echo "build: node_modules is missing; run 'npm test' or 'npm start' (they install it), or 'npm ci'" >&2
  exit 1
fi

if [ "$what" = all ]; then
  [ -f build/native/CMakeCache.txt ] || cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/native -j"$jobs" -- --no-print-directory
fi

[ -f build/wasm/CMakeCache.txt ] || emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/wasm -j"$jobs" -- --no-print-directory

node scripts/bundle.mjs
