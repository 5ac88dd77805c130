#!/usr/bin/env bash
# Runs every suite: lint (cppcheck, clang-format, ESLint), native (ctest +
# doctest), Node (node --test + jsdom
# against the reference backend), browsers (puppeteer-core driving Chromium and
# Firefox ESR), the packed package in bundler, Node and TypeScript consumers,
# fuzzing, and the native suite under ASan + UBSan. Assumes scripts/build.sh
# has run (npm test does both). Ends with one line counting every test.
set -euo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "== lint (cppcheck, clang-format, ESLint)"
bash scripts/lint.sh

echo "== native (ctest)"
ctest --test-dir build/native --output-on-failure -V 2>&1 | tee -a "$log" | grep -E '^[0-9]+: \[doctest\] (test cases|assertions|Status)|tests passed|interleaving:|ERROR|FAIL' || true
grep -q "100% tests passed" "$log"

echo "== node (node --test)"
node --test tests/node/*.test.mjs 2>&1 | tee -a "$log"

echo "== browser (node --test + Chromium and Firefox)"
node --test tests/browser/*.test.mjs 2>&1 | tee -a "$log"

echo "== consumers (npm pack of a fresh copy; Vite, webpack, esbuild, Rollup apps in Chromium; Node; tsc)"
node --test tests/consumers/*.test.mjs 2>&1 | tee -a "$log"

echo "== fuzz (libFuzzer, 30 s per target, then the kept regressions)"
bash scripts/fuzz.sh 30

echo "== native under AddressSanitizer + UndefinedBehaviorSanitizer"
bash scripts/sanitize.sh

passed=$(( $(grep -oE '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}') + $(grep -oE 'test cases: +[0-9]+ \| +[0-9]+ passed' "$log" | awk '{s+=$5} END {print s+0}') ))
failed=$(( $(grep -oE '^# fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}') + $(grep -oE '\| +[0-9]+ failed' "$log" | head -1 | awk '{s+=$2} END {print s+0}') ))
echo "tests: ${passed} passed, ${failed} failed"
