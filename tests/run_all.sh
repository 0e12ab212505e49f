#!/usr/bin/env bash
# run_all.sh — runs every test suite that `make test` covers and ends with one line
# "N passed, N failed" over all of them. Exit status 0 only if nothing failed.
# Env: BIN_DIR (binaries), BUILD_DIR (test binaries), set by the Makefile.
set -u
cd "$(dirname "$0")/.."
BIN_DIR=${BIN_DIR:-bin}
BUILD_DIR=${BUILD_DIR:-build/rel}
export BIN_DIR
passed=0
failed=0
suites_failed=()

# doctest: "[doctest] test cases: 12 | 11 passed | 1 failed | 0 skipped"
run_doctest() {
  local name=$1 bin=$2 log
  log=$(mktemp)
  echo "== $name"
  timeout 900 "$bin" --no-intro=false 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line p f
  line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -n 1)
  p=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$line")
  [[ $p =~ ^[0-9]+$ ]] || p=0
  [[ $f =~ ^[0-9]+$ ]] || f=0
  if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi   # crashed or timed out
  passed=$((passed + p))
  failed=$((failed + f))
  [[ $f -ne 0 ]] && suites_failed+=("$name")
  rm -f "$log"
}

# scripts: their last line is "N passed, N failed"
run_script() {
  local name=$1
  shift
  local log
  log=$(mktemp)
  echo "== $name"
  timeout 1800 "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  [[ $p =~ ^[0-9]+$ ]] || p=0
  [[ $f =~ ^[0-9]+$ ]] || f=0
  if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  [[ $f -ne 0 ]] && suites_failed+=("$name")
  rm -f "$log"
}

run_doctest "unit tests" "$BUILD_DIR/tests/unit_tests"
run_doctest "integration tests" "$BUILD_DIR/tests/integration_tests"
for s in tests/scripts/*.sh; do
  [[ -f $s ]] && run_script "$(basename "$s")" bash "$s"
done
if [[ -x scripts/multi_client.sh ]]; then
  run_script "multi_client.sh" bash scripts/multi_client.sh
fi
if [[ -x scripts/crash_soak.sh ]]; then
  run_script "crash_soak.sh" bash scripts/crash_soak.sh --cycles 10
fi

echo
if ((${#suites_failed[@]})); then echo "failed suites: ${suites_failed[*]}"; fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
