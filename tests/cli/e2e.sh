#!/usr/bin/env bash
# End-to-end checks of `hetsweep run` through the real binary and mpiexec.
#   e2e.sh ranks N HETSWEEP WORKDIR       the small sweep on N ranks equals the single-process reference
#   e2e.sh interrupted HETSWEEP WORKDIR   a sweep stopped by SIGUSR1 (exit 3; status --check 4) and resumed equals a fresh one
#   e2e.sh twice HETSWEEP WORKDIR         a second signal stops at once (exit 3); the file resumes to the same
#   e2e.sh refuses HETSWEEP WORKDIR       another spec or bad input leaves existing files untouched (exit 2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
compare=(/usr/bin/python3 "$here/../deploy/compare_results.py")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 OMPI_MCA_rmaps_base_oversubscribe=1

fail() { echo "FAIL: $*" >&2; exit 1; }

# The single-process reference for a spec, computed once per spec and binary (a rebuilt engine may draw
# other numbers).
reference() {
  local spec=$1 version
  version=$(cat "$spec" "$hetsweep" | sha256sum | cut -c1-16)
  local out="$workdir/reference-$(basename "$spec" .yaml)-$version.h5"
  [[ -f $out ]] || "$hetsweep" run "$spec" -o "$out" 2>/dev/null
  echo "$out"
}

# Waits (at most $3 seconds) until file $1 has at least $2 finished rows.
wait_for_finished_rows() {
  local deadline=$((SECONDS + $3)) n=0
  while ((SECONDS < deadline)); do
    n=$("${compare[@]}" finished "$1" 2>/dev/null || echo 0)
    ((n >= $2)) && return 0
    sleep 0.05
  done
  fail "only $n rows finished in $1 within $3 s"
}

# Runs the slow sweep on 3 ranks into $1 (stderr to $2), sends it $3 SIGUSR1 once 3 runs are done (mpiexec
# forwards them to every rank), and prints its exit code.
stop_slow_sweep() {
  local out=$1 log=$2 signals=$3 pid code=0
  rm -f "$out"
  mpiexec -n 3 "$hetsweep" run "$here/data/slow.yaml" -o "$out" 2>"$log" &
  pid=$!
  wait_for_finished_rows "$out" 3 120
  for ((i = 0; i < signals; i++)); do kill -USR1 "$pid"; done
  wait "$pid" || code=$?
  echo "$code"
}

case $1 in
  ranks)
    ranks=$2 hetsweep=$3 workdir=$4
    mkdir -p "$workdir"
    ref=$(reference "$here/data/small.yaml")
    out="$workdir/ranks-$ranks.h5"
    rm -f "$out"
    mpiexec -n "$ranks" "$hetsweep" run "$here/data/small.yaml" -o "$out"
    "${compare[@]}" complete "$out"
    "${compare[@]}" equal "$ref" "$out"
    ;;
  interrupted)
    hetsweep=$2 workdir=$3
    mkdir -p "$workdir"
    spec="$here/data/slow.yaml" out="$workdir/interrupted.h5" log="$workdir/interrupted.log"
    code=$(stop_slow_sweep "$out" "$log" 1)  # the master stops gracefully
    ((code == 3)) || fail "the stopped sweep exited $code, not 3"
    "${compare[@]}" complete "$out" && fail "the stopped sweep left no run pending"
    code=0
    "$hetsweep" status --check "$out" >"$workdir/check.txt" || code=$?
    ((code == 4)) || fail "status --check on a stopped sweep exited $code, not 4"
    grep -q "of 40 runs pending" "$workdir/check.txt" || fail "status --check said: $(cat "$workdir/check.txt")"
    "$hetsweep" run "$spec" -o "$out" 2>>"$log"
    "${compare[@]}" complete "$out"
    "$hetsweep" status --check "$out" | grep -q "complete, 40 runs" || fail "status --check on the resumed sweep"
    computed=$(($(sed -n "s/^hetsweep: computed \([0-9]*\) runs.*/\1/p" "$log" | paste -sd+)))
    ((computed == 40)) || fail "the two invocations computed $computed runs, not 40: a run was computed twice or lost"
    "${compare[@]}" equal "$(reference "$spec")" "$out"
    ;;
  twice)
    hetsweep=$2 workdir=$3
    mkdir -p "$workdir"
    spec="$here/data/slow.yaml" out="$workdir/twice.h5" log="$workdir/twice.log"
    code=$(stop_slow_sweep "$out" "$log" 2)  # the second asks to stop at once: flush, end the MPI job
    ((code == 3)) || fail "the twice-stopped sweep exited $code, not 3"
    "$hetsweep" run "$spec" -o "$out" 2>>"$log"
    "${compare[@]}" complete "$out"
    "${compare[@]}" equal "$(reference "$spec")" "$out"
    ;;
  refuses)
    hetsweep=$2 workdir=$3
    mkdir -p "$workdir"
    ref=$(reference "$here/data/small.yaml")
    out="$workdir/refuses.h5"
    cp "$ref" "$out"
    before=$(sha256sum "$out")
    code=0
    "$hetsweep" run "$here/data/slow.yaml" -o "$out" 2>"$workdir/refuses.log" || code=$?
    ((code == 2)) || fail "another spec on an existing file exited $code, not 2"
    grep -q "differs\|lacks\|sweeps" "$workdir/refuses.log" || fail "no reason given: $(cat "$workdir/refuses.log")"
    [[ $(sha256sum "$out") == "$before" ]] || fail "the refused file was modified"
    printf 'name: broken\ngrid:\n  step_size: [0.1, -0.5]\n' >"$workdir/bad.yaml"
    code=0
    "$hetsweep" run "$workdir/bad.yaml" -o "$workdir/never.h5" 2>"$workdir/bad.log" || code=$?
    ((code == 2)) || fail "a bad spec exited $code, not 2"
    grep -q "bad.yaml:3:.*step_size" "$workdir/bad.log" || fail "the error does not name file, line and key: $(cat "$workdir/bad.log")"
    [[ ! -e $workdir/never.h5 ]] || fail "a bad spec created the output file"
    "$hetsweep" run "$here/data/small.yaml" -o "$out" --restart 2>/dev/null
    "${compare[@]}" equal "$ref" "$out"
    ;;
  *) fail "unknown case $1" ;;
esac
echo "PASS: $*"
