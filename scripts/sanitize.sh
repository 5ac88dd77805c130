#!/usr/bin/env bash
# Owns the sanitizer run of the native suite: configures build/asan with clang
# and CLEANSLATE_SANITIZE=ON (AddressSanitizer + UBSan, no recovery, as
# CMakeLists.txt defines it), builds, and runs ctest. Exits non-zero on any
# configure, build or test failure, or on any sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in clang clang++ cmake ctest; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "sanitize.sh: $tool not found: apt-get install clang cmake" >&2
    exit 1
  }
done

# Any report fails the run; leaks too.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

CC=clang CXX=clang++ cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DCLEANSLATE_SANITIZE=ON
cmake --build build/asan -j"$(nproc 2>/dev/null || echo 2)"
ctest --test-dir build/asan --output-on-failure
