#!/usr/bin/env bash
# Owns the fuzzing run: configures and builds build/fuzz with CMake
# (-DCLEANSLATE_FUZZ=ON: clang++, every libFuzzer target of tests/fuzz/ linked
# against the same core library as the other builds, ASan + UBSan), runs each
# target for [seconds-per-target] (default 30) on a scratch copy of its
# committed corpus, then replays every input kept under
# tests/fuzz/regressions/<target>/. Prints one line per target and exits
# non-zero on any crash, naming the reproducer.
#
#   scripts/fuzz.sh [seconds-per-target]
#   FUZZ_JOBS=N  targets run side by side (default: the number of CPUs, at most 4)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-30}"
if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || [ "$SECONDS_PER_TARGET" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [seconds-per-target]" >&2
  exit 2
fi

OUT=build/fuzz

# ------------------------------------------------------------------ build
for tool in clang clang++ cmake; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "fuzz.sh: $tool not found: apt-get install clang libclang-rt-dev cmake" >&2
    exit 1
  }
done
mkdir -p "$OUT/logs"
jobs_cpu="$(nproc 2>/dev/null || echo 2)"
echo "== building the fuzz targets in $OUT"
failed_step() {
  tail -n 60 "$OUT/logs/$1.log" >&2
  echo "fuzz.sh: $1 failed (log: $OUT/logs/$1.log)" >&2
  exit 1
}
# Debug: no NDEBUG, so every assert stays on (CMakeLists.txt adds -O1).
# BUILD_TESTING=OFF: the doctest suite is built by build.sh and sanitize.sh.
if [ ! -f "$OUT/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$OUT" -DCMAKE_BUILD_TYPE=Debug -DCLEANSLATE_FUZZ=ON -DBUILD_TESTING=OFF \
    > "$OUT/logs/configure.log" 2>&1 || failed_step configure
fi
cmake --build "$OUT" -j"$jobs_cpu" --target fuzz_targets > "$OUT/logs/build.log" 2>&1 || failed_step build
mapfile -t TARGETS < "$OUT/fuzz-targets.txt"

# ------------------------------------------------------------------ run
run_target() {
  local t="$1"
  local scratch="$OUT/corpus/$t"
  local artifacts="$OUT/artifacts/$t/"
  # The scratch corpus grows from run to run; past a few thousand units it
  # only slows the start, so it then starts over from the committed one.
  if [ -d "$scratch" ] && [ "$(find "$scratch" -type f | wc -l)" -gt 3000 ]; then rm -rf "$scratch"; fi
  mkdir -p "$scratch" "$artifacts"
  # The committed corpus seeds the scratch one; libFuzzer adds only there.
  if [ -d "tests/fuzz/corpus/$t" ]; then cp -n tests/fuzz/corpus/"$t"/* "$scratch"/ 2>/dev/null || true; fi
  local args=(-max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=20
              -artifact_prefix="$artifacts")
  [ -f "tests/fuzz/dict/$t.dict" ] && args+=(-dict="tests/fuzz/dict/$t.dict")
  # The session target is stateful and slower per input: longer scripts, and
  # the plain schedule (entropic scheduling costs it about 3x CPU per input).
  [ "$t" = fuzz_session ] && args+=(-max_len=8192 -entropic=0)
  local rc=0
  "$OUT/$t" "${args[@]}" "$scratch" > "$OUT/logs/$t.log" 2>&1 || rc=$?
  echo "$rc" > "$OUT/logs/$t.rc"
}

jobs_run="${FUZZ_JOBS:-$jobs_cpu}"
[ "$jobs_run" -gt 4 ] && jobs_run=4
[ "$jobs_run" -lt 1 ] && jobs_run=1
echo "== fuzzing ${SECONDS_PER_TARGET}s per target, $jobs_run at a time"
pids=()
for t in "${TARGETS[@]}"; do
  rm -f "$OUT/logs/$t.rc"
  run_target "$t" &
  pids+=($!)
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_run" ]; do wait -n || true; done
done
for pid in "${pids[@]}"; do wait "$pid" || true; done

# What went wrong, from a libFuzzer log: the failed check or sanitizer
# report with the top of its stack, else the log's last lines.
report() {
  echo "---- $1" >&2
  if grep -qE 'FUZZ_CHECK failed|FAKE_CHECK failed|ERROR: |runtime error:' "$1"; then
    grep -aE -A14 'FUZZ_CHECK failed|FAKE_CHECK failed|ERROR: |runtime error:' "$1" | cut -c1-300 | head -n 40 >&2
  else
    grep -av '^#[0-9]' "$1" | tail -n 20 >&2
  fi
}

failed=0
for t in "${TARGETS[@]}"; do
  log="$OUT/logs/$t.log"
  rc="$(cat "$OUT/logs/$t.rc" 2>/dev/null || echo 1)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  if [ "$rc" = 0 ] && [ -n "$execs" ]; then
    echo "fuzz $t: $execs execs in ${SECONDS_PER_TARGET}s, no crash"
  else
    failed=1
    reproducer="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)"
    echo "fuzz $t: CRASH (exit $rc)${reproducer:+, reproducer: $reproducer}"
    report "$log"
  fi
done

# ------------------------------------------------------------------ regressions
for t in "${TARGETS[@]}"; do
  dir="tests/fuzz/regressions/$t"
  [ -d "$dir" ] || continue
  for input in "$dir"/*; do
    [ -f "$input" ] || continue
    if "$OUT/$t" -runs=1 -timeout=20 "$input" > "$OUT/logs/regression.log" 2>&1; then
      echo "regression $input: no crash"
    else
      failed=1
      echo "regression $input: CRASH, reproducer: $input"
      report "$OUT/logs/regression.log"
    fi
  done
done
for stray in tests/fuzz/regressions/*; do
  if [ -f "$stray" ]; then
    echo "fuzz.sh: $stray is not under a target's folder (tests/fuzz/regressions/<target>/)" >&2
    failed=1
  fi
done

exit "$failed"
