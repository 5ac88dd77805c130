#!/usr/bin/env bash
# Runs every suite: native (ctest + doctest), Node (node --test + jsdom
# against the reference backend), browser (playwright-core + Chromium).
# Assumes scripts/build.sh has run (npm test does both).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lint (cppcheck on the core)"
cppcheck --std=c++17 --enable=warning,performance,portability --inline-suppr --quiet --error-exitcode=1 -I wasm wasm/core/*.cpp

echo "== native (ctest)"
ctest --test-dir build/native --output-on-failure

echo "== node (node --test)"
node --test tests/node/*.test.mjs

if compgen -G "tests/browser/*.test.mjs" >/dev/null; then
  echo "== browser (node --test + Chromium)"
  node --test tests/browser/*.test.mjs
fi

echo "== fuzz (libFuzzer, 30 s per target, then the kept regressions)"
bash scripts/fuzz.sh 30

echo "== native under AddressSanitizer + UndefinedBehaviorSanitizer"
bash scripts/sanitize.sh
