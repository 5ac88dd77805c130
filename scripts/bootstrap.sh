#!/usr/bin/env bash
# Installs what is missing for `npm start` / `npm test` / `npm run bench`:
# Debian packages when run as root with apt-get, npm packages with `npm ci`.
# Anyone else gets one message naming what to install.
# Usage: scripts/bootstrap.sh [start|test]
#   start: what building web/dist and running the reference backend need
#   test:  also the native test toolchain, the linters, Chromium and Firefox
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-test}"

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
case "$purpose" in start|test) ;; *) echo "usage: scripts/bootstrap.sh [start|test]" >&2; exit 2 ;; esac
have cmake || missing+=(cmake)
have make || missing+=(make)
have emcc || missing+=(emscripten)
[ -f /usr/include/nlohmann/json.hpp ] || missing+=(nlohmann-json3-dev)
have python3 || missing+=(python3)
if [ "$purpose" = test ]; then
  have g++ || missing+=(g++)
  [ -f /usr/include/doctest/doctest.h ] || missing+=(doctest-dev)
  have chromium || [ -x /usr/bin/chromium ] || missing+=(chromium)
  have firefox-esr || [ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
  have clang++ || missing+=(clang)
  have cppcheck || missing+=(cppcheck)
  have clang-format || missing+=(clang-format)
  [ -n "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] || missing+=(libclang-rt-dev)
  # The scale-out tests and `npm run bench:backend` run a throwaway PostgreSQL cluster.
  [ -n "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ] || missing+=(postgresql)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have apt-get; then
    echo "bootstrap: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "cleanslate needs these system packages: ${missing[*]}" >&2
    echo "On Debian/Ubuntu: sudo apt-get install -y ${missing[*]}" >&2
    echo "Elsewhere: install CMake, Emscripten (emcc) and nlohmann-json$([ "$purpose" = test ] && echo ', a C++17 compiler, doctest, clang with libFuzzer, cppcheck, clang-format, Chromium, Firefox ESR and PostgreSQL'), then run this again." >&2
    exit 1
  fi
fi

# 20.16: the module reads its wasm with process.getBuiltinModule in Node.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 16) ? 0 : 1)' 2>/dev/null; then
  echo "cleanslate needs Node.js 20.16 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# npm ci when node_modules was not installed from this very lockfile. The
# lockfile's hash, not its mtime: a clone or a copy of the tree has a fresh
# mtime but needs no reinstall.
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -d node_modules ] || [ "$(cat node_modules/.cleanslate-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.cleanslate-lock-hash
fi
