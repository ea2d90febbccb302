#!/usr/bin/env bash
# `hetsweep plan --name` prints the sweep's name, the one reading of it that slurm/spec-name (job names, log
# names) relies on: the spec's `name:`, else its file name without the extension; a refused spec gives the
# spec's message, exit 2 and nothing on stdout.
#   plan_name.sh HETSWEEP WORKDIR
set -euo pipefail
hetsweep=$1 workdir=$2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$workdir"

printf '# name: commented\nseed: 3\nname: "fig-2_b.v1"  # quoted, with a comment\n' >"$workdir/named.yaml"
[[ $("$hetsweep" plan --name "$workdir/named.yaml") == fig-2_b.v1 ]] || fail "the name: key was not printed"
printf 'seed: 3\n' >"$workdir/unnamed.v2.yaml"
[[ $("$hetsweep" plan --name "$workdir/unnamed.v2.yaml") == unnamed.v2 ]] || fail "the file stem was not printed"
[[ $(HETSWEEP=$hetsweep "$repo/slurm/spec-name" "$workdir/named.yaml") == fig-2_b.v1 ]] ||
  fail "slurm/spec-name does not print what plan --name prints"

printf 'name: broken\nseed: -1\n' >"$workdir/bad.yaml"
code=0
"$hetsweep" plan --name "$workdir/bad.yaml" >"$workdir/bad.out" 2>"$workdir/bad.err" || code=$?
((code == 2)) || fail "a refused spec exited $code, not 2"
[[ ! -s $workdir/bad.out ]] || fail "a refused spec printed a name: $(cat "$workdir/bad.out")"
grep -q "bad.yaml:2:7: seed: " "$workdir/bad.err" || fail "the refusal does not name file, line and key: $(cat "$workdir/bad.err")"
code=0
HETSWEEP=$hetsweep "$repo/slurm/spec-name" "$workdir/bad.yaml" >/dev/null 2>&1 || code=$?
((code == 2)) || fail "slurm/spec-name on a refused spec exited $code, not 2"
echo "plan --name: ok"
