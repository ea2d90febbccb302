# Sourced by the end-to-end scripts of tests/cli.

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect CODE PATTERN -- COMMAND...: the command exits CODE and its output (stdout and stderr, left in
# out.txt) matches the extended regular expression PATTERN (when not empty).
expect() {
  local code=$1 pattern=$2 got=0
  shift 3
  "$@" >out.txt 2>&1 || got=$?
  ((got == code)) || fail "$* exited $got, not $code: $(head -c 600 out.txt)"
  [[ -z $pattern ]] || grep -qE -- "$pattern" out.txt || fail "$*: output does not match '$pattern': $(head -c 600 out.txt)"
  echo "PASS: exit $code: $*"
}
