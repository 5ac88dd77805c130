#!/usr/bin/env bash
# Owns the lint run: cppcheck on the core, clang-format (.clang-format) on the
# C++ of wasm/, tests/native/ and tests/fuzz/, and ESLint (eslint.config.js)
# on every JS/MJS file. Runs all three, prints one line per tool, and exits
# non-zero when any of them found something. Changes no file; to apply the
# formatting to a file: clang-format -i <file>.
#   scripts/lint.sh
set -uo pipefail
cd "$(dirname "$0")/.."
failed=()

for tool in cppcheck clang-format; do
  command -v "$tool" >/dev/null 2>&1 || { echo "lint.sh: $tool not found: apt-get install $tool" >&2; exit 1; }
done
if [ ! -d node_modules/eslint ]; then
  echo "lint.sh: node_modules/eslint is missing: run 'npm ci'" >&2
  exit 1
fi

echo "== cppcheck (wasm/core)"
# warning,performance,portability: real defects, not style; --inline-suppr:
# a `// cppcheck-suppress id` comment in the code silences one finding.
if cppcheck --std=c++17 --enable=warning,performance,portability --inline-suppr --quiet --error-exitcode=1 \
    -I wasm wasm/core/*.cpp; then
  echo "cppcheck: clean"
else
  failed+=(cppcheck)
fi

echo "== clang-format (wasm, tests/native, tests/fuzz)"
mapfile -t cxx < <(find wasm tests/native tests/fuzz -type f \( -name '*.cpp' -o -name '*.h' \) | sort)
unformatted=0
for file in "${cxx[@]}"; do
  # --dry-run --Werror: report what -i would change, as errors, and exit non-zero.
  if ! clang-format --style=file --dry-run --Werror "$file" 2>/dev/null; then
    echo "  needs formatting: $file"
    unformatted=$((unformatted + 1))
  fi
done
echo "clang-format: $unformatted of ${#cxx[@]} files need formatting"
[ "$unformatted" -eq 0 ] || failed+=(clang-format)

echo "== eslint (every JS/MJS file)"
if npx --no-install eslint .; then
  echo "eslint: clean"
else
  failed+=(eslint)
fi

if [ "${#failed[@]}" -gt 0 ]; then
  echo "lint: failed: ${failed[*]}"
  exit 1
fi
echo "lint: clean"
