# preamble.sh — sourced first by tests/scripts/*_test.sh (not run): strict about unset
# variables, works from the repository root, BIN_DIR (default bin), and the bookkeeping:
# ok/bad print one line per check, finish prints the last line "N passed, N failed" and exits
# non-zero when a check failed (tests/run_all.sh reads that line).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
BIN_DIR=${BIN_DIR:-bin}

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
finish() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
  exit
}
