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
#   e2e.sh midrun SIG WHERE HETSWEEP WORKDIR
#                                         SIG (TERM, INT, USR1) to a sweep (WHERE: alone, or mpirun -n 2) in the middle
#                                         of a run of minutes: it ends within seconds, the run stays pending; a sweep
#                                         of shorter runs stopped mid-run resumes to the uninterrupted results
#   e2e.sh stall HETSWEEP WORKDIR         a worker stopped with SIGSTOP: `run --stall-timeout 2` warns naming its rank,
#                                         closes the file and exits 3; the file resumes to the same results
#   e2e.sh shardcheck HETSWEEP WORKDIR    `status --check --shard I/N` judges only shard I's runs of a shard's file
#   e2e.sh isa HETSWEEP WORKDIR           the file records its kernels' instruction-set level; a resume, a merge or
#                                         an MPI job at another level is refused (exit 2), the file untouched
#   e2e.sh readers HETSWEEP WORKDIR       a reader that polls the output (h5py opening and closing it in a loop)
#                                         never makes a sweep's start fail: a new file, --restart, a grown file
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
compare=(/usr/bin/python3 "$here/../deploy/compare_results.py")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 OMPI_MCA_rmaps_base_oversubscribe=1

fail() { echo "FAIL: $*" >&2; exit 1; }

# The single-process reference for a spec, computed once per spec, binary and instruction-set level (a
# rebuilt engine may draw other numbers; the x86-64-v3 kernels round differently).
reference() {
  local spec=$1 version
  version=$( (cat "$spec" "$hetsweep" "$(dirname "$hetsweep")/hetsweep-x86-64-v3" 2>/dev/null || true
              echo "${HETSWEEP_ISA:-auto}") | sha256sum | cut -c1-16)
  local out="$workdir/reference-$(basename "$spec" .yaml)-$version.h5"
  [[ -f $out ]] || "$hetsweep" run "$spec" -o "$out" 2>/dev/null
  echo "$out"
}

# Waits (at most $3 seconds) until file $1 has at least $2 finished rows, written by process $4 (stderr in $5).
wait_for_finished_rows() {
  local deadline=$((SECONDS + $3)) n=0
  local alive
  while ((SECONDS < deadline)); do
    alive=true
    kill -0 "$4" 2>/dev/null || alive=false
    n=$("${compare[@]}" finished "$1" 2>/dev/null || echo 0)
    ((n >= $2)) && return 0
    $alive || fail "the sweep writing $1 ended with $n rows finished: $(cat "$5")"
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
  wait_for_finished_rows "$out" 3 120 "$pid" "$log"
  for ((i = 0; i < signals; i++)); do kill -USR1 "$pid"; done
  wait "$pid" || code=$?
  echo "$code"
}

# Waits (at most $2 seconds) until process $1 has ended; fails naming $3 otherwise.
wait_for_exit() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "$3 was still running $2 s after it was asked to stop"
    sleep 0.02
  done
}

# The pid of rank $2 among the children of mpirun $1 (on this machine mpirun starts the ranks itself).
rank_pid() {
  local child
  for child in $(pgrep -P "$1"); do
    if tr '\0' '\n' <"/proc/$child/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
      echo "$child"
      return 0
    fi
  done
  fail "no rank $2 among the children of mpirun $1"
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
    wait_for_finished_rows "$out" 3 120 "$pid" "$log"
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
  midrun)
    # A stop must not wait for the run in progress: it ends it between two steps (on a worker, within 50 ms of
    # the master's message), the run stays pending and a resume computes it again.
    signal=$2 where=$3 hetsweep=$4 workdir=$5
    mkdir -p "$workdir"
    launch=("$hetsweep")
    [[ $where == mpirun ]] && launch=(mpirun -n 2 "$hetsweep")
    # Only `hetsweep` itself exits 3 on every signal; mpirun passes USR1 on and returns the ranks' code, but
    # answers TERM and INT with its own exit code (1).
    expected=3
    [[ $where == mpirun && $signal != USR1 ]] && expected=1
    spec="$here/data/endless.yaml" out="$workdir/midrun-$signal-$where.h5" log="$workdir/midrun-$signal-$where.log"
    rm -f "$out"
    "${launch[@]}" run "$spec" -o "$out" --progress none 2>"$log" &
    pid=$!
    # The file is renamed into place once created, just before the run is handed out; a second later the
    # run (about 0.2 s a step here) is well under way.
    deadline=$((SECONDS + 60))
    until [[ -f $out ]]; do
      ((SECONDS < deadline)) || fail "$out was not created within 60 s"
      sleep 0.05
    done
    sleep 1
    kill "-$signal" "$pid"
    started=$(date +%s.%N)
    wait_for_exit "$pid" 30 "a sweep in the middle of a run of minutes"
    code=0
    wait "$pid" || code=$?
    echo "SIG$signal ($where) mid-run: exited $code after $(echo "$(date +%s.%N) - $started" | bc) s"
    ((code == expected)) || fail "the stopped sweep exited $code, not $expected: $(cat "$log")"
    grep -q "stopped by signal" "$log" || fail "no stop message on stderr: $(cat "$log")"
    if [[ $where == alone || $signal == USR1 ]]; then
      grep -q "(1 run in progress or not begun stays pending)" "$log" ||
        fail "the run in progress was not handed back unfinished: $(cat "$log")"
    fi
    code=0
    "$hetsweep" status --check "$out" >"$workdir/midrun-check.txt" || code=$?
    ((code == 4)) || fail "status --check on the stopped sweep exited $code, not 4"
    grep -q "1 of 1 runs pending" "$workdir/midrun-check.txt" || fail "status --check said: $(cat "$workdir/midrun-check.txt")"
    # Shorter runs, stopped once one is written (the next one under way), resume to the uninterrupted results.
    spec="$here/data/midrun.yaml"
    ref=$(reference "$spec")
    rm -f "$out"
    "${launch[@]}" run "$spec" -o "$out" --progress none 2>"$log" &
    pid=$!
    wait_for_finished_rows "$out" 1 120 "$pid" "$log"
    kill "-$signal" "$pid"
    code=0
    wait "$pid" || code=$?
    ((code == expected)) || fail "the stopped sweep of short runs exited $code, not $expected: $(cat "$log")"
    "${compare[@]}" complete "$out" >/dev/null && fail "the stopped sweep left no run pending"
    "$hetsweep" run "$spec" -o "$out" --progress none 2>>"$log"
    computed=$(($(sed -n "s/^hetsweep: computed \([0-9]*\) runs.*/\1/p" "$log" | paste -sd+)))
    ((computed == 4)) || fail "the two invocations computed $computed runs, not 4: a run was computed twice or lost"
    "${compare[@]}" complete "$out" >/dev/null
    "${compare[@]}" equal "$ref" "$out"
    ;;
  stall)
    hetsweep=$2 workdir=$3
    mkdir -p "$workdir"
    spec="$here/data/many.yaml" out="$workdir/stall.h5" log="$workdir/stall.log"
    rm -f "$out"
    mpirun -n 3 "$hetsweep" run "$spec" -o "$out" --stall-timeout 2 --progress none 2>"$log" &
    pid=$!
    wait_for_finished_rows "$out" 3 120 "$pid" "$log"
    worker=$(rank_pid "$pid" 1)
    kill -STOP "$worker"
    stopped=$(date +%s.%N)
    # Its limit: max(2 s, 20 x a batch of about 0.1 s), more when a loaded machine slows the runs down.
    wait_for_exit "$pid" 120 "a sweep with a stopped worker and --stall-timeout 2"
    code=0
    wait "$pid" || code=$?
    kill -CONT "$worker" 2>/dev/null || true  # normally killed with the job already
    echo "SIGSTOP of rank 1: mpirun exited $code after $(echo "$(date +%s.%N) - $stopped" | bc) s"
    ((code == 3)) || fail "the sweep with a stalled worker exited $code, not 3: $(cat "$log")"
    grep -q "worker rank 1 on .* has sent nothing for" "$log" || fail "no warning naming rank 1: $(cat "$log")"
    grep -q "stopped by a stalled worker (rank 1 on .*); .* is closed" "$log" || fail "no stop message: $(cat "$log")"
    wait_for_exit "$worker" 10 "the stalled worker, after the job ended,"
    "${compare[@]}" complete "$out" >/dev/null && fail "the stopped sweep left no run pending"
    "$hetsweep" run "$spec" -o "$out" --progress none 2>>"$log"
    "${compare[@]}" complete "$out" >/dev/null
    "${compare[@]}" equal "$(reference "$spec")" "$out"
    ;;
  shardcheck)
    hetsweep=$2 workdir=$3
    mkdir -p "$workdir"
    out="$workdir/shard0.h5"
    rm -f "$out"
    "$hetsweep" run "$here/data/small.yaml" -o "$out" --shard 0/2 --progress none 2>/dev/null
    "$hetsweep" status --check --shard 0/2 "$out" >"$workdir/shard-check.txt" ||
      fail "status --check --shard 0/2 on shard 0's finished file exited $?: $(cat "$workdir/shard-check.txt")"
    grep -q "complete, [0-9]* runs of shard 0/2" "$workdir/shard-check.txt" || fail "it said: $(cat "$workdir/shard-check.txt")"
    for other in "" "--shard 1/2"; do
      code=0
      # shellcheck disable=SC2086
      "$hetsweep" status --check $other "$out" >"$workdir/shard-check.txt" || code=$?
      ((code == 4)) || fail "status --check $other on shard 0's file exited $code, not 4"
    done
    code=0
    "$hetsweep" status --check --shard 2/2 "$out" 2>"$workdir/shard-check.txt" || code=$?
    ((code == 2)) || fail "status --check --shard 2/2 exited $code, not 2"
    ;;
  isa)
    hetsweep=$2 workdir=$3
    mkdir -p "$workdir"
    spec="$here/data/small.yaml" out="$workdir/isa.h5" log="$workdir/isa.log"
    stored_isa() { /usr/bin/python3 -c 'import h5py, sys; a = h5py.File(sys.argv[1], "r").attrs["isa"]; print(a.decode() if isinstance(a, bytes) else a)' "$1"; }
    code=0
    "$hetsweep" run "$spec" -o "$out" --isa pentium 2>"$log" || code=$?
    ((code == 2)) || fail "--isa pentium exited $code, not 2"
    grep -q "pentium" "$log" || fail "a bad --isa names no value: $(cat "$log")"
    rm -f "$out"
    HETSWEEP_ISA=baseline "$hetsweep" run "$spec" -o "$out" 2>/dev/null
    [[ $(stored_isa "$out") == x86-64 ]] || fail "a baseline sweep recorded isa $(stored_isa "$out")"
    if ! "$hetsweep" --isa v3 --version >/dev/null 2>&1; then
      echo "this CPU or build has no x86-64-v3 kernels: the refusals between levels are not tested"
      exit 0
    fi
    before=$(sha256sum "$out")
    code=0
    "$hetsweep" run "$spec" -o "$out" --isa v3 2>"$log" || code=$?
    ((code == 2)) || fail "resuming an x86-64 file with v3 kernels exited $code, not 2"
    grep -q "x86-64 kernels.*x86-64-v3 kernels.*--isa baseline" "$log" || fail "the refusal does not name both levels: $(cat "$log")"
    [[ $(sha256sum "$out") == "$before" ]] || fail "the refused file was modified"
    merged="$workdir/isa-merged.h5"
    rm -f "$merged"
    code=0
    "$hetsweep" merge "$merged" "$out" --isa v3 2>"$log" || code=$?
    ((code == 2)) || fail "merging an x86-64 file with v3 kernels exited $code, not 2"
    grep -q "merge with --isa baseline" "$log" || fail "the merge refusal does not say what to do: $(cat "$log")"
    [[ ! -e $merged ]] || fail "a refused merge created its output"
    "$hetsweep" merge "$merged" "$out" --isa baseline 2>/dev/null
    [[ $(stored_isa "$merged") == x86-64 ]] || fail "a baseline merge recorded isa $(stored_isa "$merged")"
    # Under MPI every worker reports its level; the master refuses a worker of another before creating anything.
    rm -f "$out"
    code=0
    mpiexec -n 2 "$hetsweep" run "$spec" -o "$out" --isa v3 : -n 1 "$hetsweep" run "$spec" -o "$out" --isa baseline \
      2>"$log" || code=$?
    ((code == 2)) || fail "an MPI job of mixed levels exited $code, not 2: $(cat "$log")"
    grep -q "rank 2 on .* (x86-64)" "$log" || fail "the master does not name the worker of another level: $(cat "$log")"
    [[ ! -e $out ]] || fail "an MPI job of mixed levels created the output"
    mpiexec -n 2 "$hetsweep" run "$spec" -o "$out" --isa v3 2>/dev/null
    [[ $(stored_isa "$out") == x86-64-v3 ]] || fail "a v3 sweep recorded isa $(stored_isa "$out")"
    ;;
  readers)
    # HDF5 locks a file while a reader has it open; a writer that opened the output only after giving it its
    # name lost that race to a polling reader nearly every time (15 of 15 starts here).
    hetsweep=$2 workdir=$3
    mkdir -p "$workdir"
    out="$workdir/polled.h5" log="$workdir/polled.log" grown="$workdir/polled-grown.yaml"
    sed 's/heterogeneity: \[1.0, 6.0\]/heterogeneity: [1.0, 6.0, 9.0]/' "$here/data/tiny.yaml" >"$grown"
    grep -q "9.0" "$grown" || fail "the grown spec was not made"
    poller='
import sys, h5py
while True:
    try:
        with h5py.File(sys.argv[1], "r", swmr=True) as file:
            file["runs"].shape
    except (OSError, KeyError):
        pass
'
    rm -f "$out"
    /usr/bin/python3 -c "$poller" "$out" &
    reader=$!
    trap 'kill "$reader" 2>/dev/null || true' EXIT
    for ((i = 1; i <= 5; i++)); do
      rm -f "$out"
      "$hetsweep" run "$here/data/tiny.yaml" -o "$out" --progress none 2>"$log" ||
        fail "start $i of a new file under a polling reader exited $?: $(cat "$log")"
      "$hetsweep" run "$here/data/tiny.yaml" -o "$out" --restart --progress none 2>"$log" ||
        fail "--restart $i under a polling reader exited $?: $(cat "$log")"
      "$hetsweep" run "$grown" -o "$out" --progress none 2>"$log" ||
        fail "growing the file ($i) under a polling reader exited $?: $(cat "$log")"
    done
    "${compare[@]}" complete "$out" >/dev/null
    ;;
  *) fail "unknown case $1" ;;
esac
echo "PASS: $*"
