# PASS/FAIL bookkeeping shared by the tests in tests/deploy (sourced, not run). A test counts its checks with
# pass/fail/check, ends early with give_up, and sets finished=1 once it got to its end; its exit trap reports.
# shellcheck shell=bash

passed=0
failed=0
finished=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
give_up() { fail "$*"; finished=1; exit 1; }
fails() { ! "$@"; }
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
