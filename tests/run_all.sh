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

# One runner for every suite: run_suite NAME SECONDS KIND COMMAND... runs COMMAND bounded by
# SECONDS, shows its output, and adds its counts. KIND says where the counts are:
#   doctest  "[doctest] test cases: 12 | 11 passed | 1 failed | 0 skipped"
#   script   the last line "N passed, N failed"
# A suite that exits non-zero without counting a failure (crash, timeout) counts one.
run_suite() {
  local name=$1 seconds=$2 kind=$3
  shift 3
  local log line p f rc
  log=$(mktemp)
  echo "== $name"
  timeout "$seconds" "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if [[ $kind == doctest ]]; then
    line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -n 1)
    p=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$line")
  else
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  fi
  [[ $p =~ ^[0-9]+$ ]] || p=0
  [[ $f =~ ^[0-9]+$ ]] || f=0
  if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  [[ $f -ne 0 ]] && suites_failed+=("$name")
  rm -f "$log"
}

run_suite "unit tests" 900 doctest "$BUILD_DIR/tests/unit_tests" --no-intro=false
run_suite "integration tests" 900 doctest "$BUILD_DIR/tests/integration_tests" --no-intro=false
for s in tests/scripts/*_test.sh; do  # (preamble.sh is sourced by them)
  [[ -f $s ]] && run_suite "$(basename "$s")" 1800 script bash "$s"
done
if [[ -x scripts/multi_client.sh ]]; then
  run_suite "multi_client.sh" 1800 script bash scripts/multi_client.sh
fi
if [[ -x scripts/crash_soak.sh ]]; then
  run_suite "crash_soak.sh" 1800 script bash scripts/crash_soak.sh --cycles 10
fi

echo
if ((${#suites_failed[@]})); then echo "failed suites: ${suites_failed[*]}"; fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
