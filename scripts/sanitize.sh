#!/usr/bin/env bash
# Owns the sanitizer run of the native suite: configures build/sanitize with
# clang and -DCLEANSLATE_SANITIZE=ON (the core and the doctest suite under
# AddressSanitizer + UBSan, no recovery, as CMakeLists.txt defines it),
# builds, and runs ctest. Exits non-zero on any configure, build or test
# failure, or on any sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/sanitize

for tool in clang clang++ cmake ctest; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "sanitize.sh: $tool not found: apt-get install clang cmake" >&2
    exit 1
  }
done

# Any report fails the run, leaks included:
#   detect_leaks=1                     LeakSanitizer at exit
#   abort_on_error=1                   a report aborts (a non-zero exit ctest sees)
#   strict_string_checks=1             str* interceptors check the whole string, not just what they read
#   detect_stack_use_after_return=1    catches pointers to a returned frame's locals
#   print_stacktrace=1                 UBSan reports come with their stack
#   halt_on_error=1                    the first UBSan report ends the run
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Debug: no NDEBUG and no optimisation, so reports point at the exact line.
if [ ! -f "$OUT/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$OUT" -DCMAKE_BUILD_TYPE=Debug -DCLEANSLATE_SANITIZE=ON
fi
cmake --build "$OUT" -j"$(nproc 2>/dev/null || echo 2)"
ctest --test-dir "$OUT" --output-on-failure
