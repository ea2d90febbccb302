#!/usr/bin/env bash
# End-to-end checks of `hetsweep run` through the real binary and mpiexec.
#   e2e.sh ranks N HETSWEEP WORKDIR       the small sweep on N ranks equals the single-process reference
#   e2e.sh interrupted HETSWEEP WORKDIR   a sweep stopped by SIGUSR1 (exit 3; status --check 4) and resumed equals a fresh one
#   e2e.sh twice HETSWEEP WORKDIR         a second signal stops at once (exit 3); the file resumes to the same
#   e2e.sh refuses HETSWEEP WORKDIR       another spec or bad input leaves existing files untouched (exit 2)
#   e2e.sh mpirun SIG HETSWEEP WORKDIR    SIGINT or SIGTERM to a plain mpirun (Ctrl-C): the file opens at once with
#                                         a plain h5py open, holds what was written, and resumes to the same
#   e2e.sh pipes HETSWEEP WORKDIR         a reader that is gone (`run … 2>&1 | head`) neither kills nor fails a sweep;
#                                         progress is a bar when it reaches a terminal (also under mpirun), lines otherwise
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

# Runs "$@" with stdout and stderr on a pipe whose reader is already gone, and prints its exit code.
run_into_closed_pipe() {
  /usr/bin/python3 -c '
import os, subprocess, sys
read_end, write_end = os.pipe()
os.close(read_end)
sys.exit(subprocess.call(sys.argv[1:], stdout=write_end, stderr=write_end))' "$@" || echo $?
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
  mpirun)
    # mpirun answers SIGINT and SIGTERM by sending the ranks SIGCONT, one second later SIGTERM, and one more
    # second later SIGKILL, and exits 1 whatever the ranks return: the master must close the file within
    # that second.
    signal=$2 hetsweep=$3 workdir=$4
    mkdir -p "$workdir"
    spec="$here/data/slow.yaml" out="$workdir/mpirun-$signal.h5" log="$workdir/mpirun-$signal.log"
    rm -f "$out"
    mpirun -n 3 "$hetsweep" run "$spec" -o "$out" 2>"$log" &
    pid=$!
    wait_for_finished_rows "$out" 3 120
    kill "-$signal" "$pid"
    code=0
    wait "$pid" || code=$?
    ((code != 0)) || fail "mpirun stopped by SIG$signal exited 0"
    /usr/bin/python3 -c 'import h5py, sys; h5py.File(sys.argv[1], "r").close()' "$out" ||
      fail "a plain h5py open of the file failed right after mpirun ended"
    grep -q "stopped by signal 15; .* is closed" "$log" || fail "no stop message on stderr: $(cat "$log")"
    "${compare[@]}" complete "$out" && fail "the stopped sweep left no run pending"
    "$hetsweep" run "$spec" -o "$out" 2>>"$log"
    computed=$(($(sed -n "s/^hetsweep: computed \([0-9]*\) runs.*/\1/p" "$log" | paste -sd+)))
    ((computed == 40)) || fail "the two invocations computed $computed runs, not 40: a run was computed twice or lost"
    "${compare[@]}" complete "$out"
    "${compare[@]}" equal "$(reference "$spec")" "$out"
    ;;
  pipes)
    hetsweep=$2 workdir=$3
    mkdir -p "$workdir"
    spec="$here/data/small.yaml"
    for progress in bar lines; do
      out="$workdir/pipes-$progress.h5"
      rm -f "$out"
      code=$(run_into_closed_pipe "$hetsweep" run "$spec" -o "$out" --progress "$progress")
      ((code == 0)) || fail "a sweep writing --progress $progress into a closed pipe exited $code, not 0"
      "${compare[@]}" complete "$out" >/dev/null
      "${compare[@]}" equal "$(reference "$spec")" "$out"
    done
    out="$workdir/pipes-mpirun.h5"
    rm -f "$out"
    code=$(run_into_closed_pipe mpirun -n 3 "$hetsweep" run "$spec" -o "$out" --progress bar)
    ((code == 0)) || fail "mpirun -n 3 writing into a closed pipe exited $code, not 0"
    "${compare[@]}" complete "$out" >/dev/null
    "${compare[@]}" equal "$(reference "$spec")" "$out"
    # The default under mpirun: a bar when mpirun's stderr is a terminal (script(1) gives it one), lines when
    # it is a file.
    rm -f "$workdir/terminal.h5" "$workdir/file.h5"
    script -qec "mpirun -n 3 '$hetsweep' run '$spec' -o '$workdir/terminal.h5'" /dev/null >"$workdir/terminal.log"
    grep -q $'\r\[#' "$workdir/terminal.log" || fail "no progress bar on a terminal under mpirun: $(cat -A "$workdir/terminal.log")"
    script -qec "mpirun -n 3 '$hetsweep' run '$spec' -o '$workdir/file.h5' 2>'$workdir/file.log'" /dev/null >/dev/null
    grep -q "^hetsweep: 48/48 runs done" "$workdir/file.log" || fail "no progress lines in a file under mpirun: $(cat -A "$workdir/file.log")"
    grep -q $'\r' "$workdir/file.log" && fail "a bar went to a file under mpirun"
    "$hetsweep" run "$spec" -o "$workdir/quiet.h5" --restart --progress none 2>"$workdir/quiet.log"
    grep -q "runs done\|runs/s" "$workdir/quiet.log" && fail "--progress none printed progress: $(cat "$workdir/quiet.log")"
    ;;
  *) fail "unknown case $1" ;;
esac
echo "PASS: $*"
