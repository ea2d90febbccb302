# Shared by the tests in tests/deploy (sourced, not run): PASS/FAIL bookkeeping, a private emulated Slurm
# that is always taken down, job polling, and result checks.
#
# A test sources it with HETSWEEP as $1, then calls `slurm_up [--nodes N]`. The cluster lives in the test's
# own directory under /var/tmp, with SLURM_CONF pointing there, ports from HETSWEEP_TEST_SLURM_PORT (default
# 16917, apart from cluster/local-slurm's 6917 and Slurm's 6817) and job ids from 900000, so it never meets a
# Slurm the user runs. CTest runs these tests one at a time (RESOURCE_LOCK hetsweep_test_slurm), as they share
# the ports. At exit, whatever happened: the cluster goes down, and the test checks that no process of it is
# left, not even a zombie.
# shellcheck shell=bash

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
results=(/usr/bin/python3 "$repo/tests/deploy/compare_results.py")
test_name=$(basename "${0%.sh}")
# Waits end here, before CTest's timeout, so that the cluster is still taken down.
readonly deadline=$((SECONDS + ${HETSWEEP_TEST_DEADLINE:-240}))
work=$(mktemp -d "/var/tmp/hetsweep-$test_name.XXXXXX")
export HETSWEEP_SLURM_DIR=$work/slurm HETSWEEP_SLURM_PORT=${HETSWEEP_TEST_SLURM_PORT:-16917}
export HETSWEEP_SLURM_FIRST_JOB=900000 SLURM_CONF=$work/slurm/slurm.conf
export OPENBLAS_NUM_THREADS=1
# Jobs run as root here; sbatch passes the environment on to them.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# shellcheck source=checks.sh
source "$repo/tests/deploy/checks.sh"
slurm_started=0

# Processes of the emulated cluster that still exist, zombies included: slurmctld, and everything in a node's
# UTS namespace (slurmd, slurmstepd, batch scripts, tasks).
cluster_leftovers() {
  local pid namespaces=() inode path
  pid=$(cat "$HETSWEEP_SLURM_DIR/run/slurmctld.pid" 2>/dev/null) &&
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == slurmctld ]] && echo "$pid slurmctld"
  mapfile -t namespaces < <(cat "$HETSWEEP_SLURM_DIR"/run/*.uts 2>/dev/null)
  ((${#namespaces[@]})) || return 0
  while read -r inode path; do
    [[ " ${namespaces[*]} " == *" $inode "* ]] || continue
    pid=${path#/proc/}
    pid=${pid%%/*}
    echo "$pid $(cat "/proc/$pid/comm" 2>/dev/null)"
  done < <(stat -L -c '%i %n' /proc/[0-9]*/ns/uts 2>/dev/null)
}

finish() {
  local status=$? left
  ((finished)) || fail "the test stopped early (exit status $status), see above"
  if ((slurm_started)); then
    "$repo/cluster/local-slurm" down >&2 || fail "cluster/local-slurm down"
    left=$(cluster_leftovers)
    if [[ -z $left ]]; then
      pass "cluster/local-slurm down: no process of the cluster left (not even a zombie)"
    else
      fail "cluster/local-slurm down left: $(tr '\n' ' ' <<<"$left")"
    fi
  fi
  if ((failed)); then echo "files kept in $work" >&2; else rm -rf "$work"; fi
  echo "$passed passed, $failed failed"
  exit $((failed > 0))
}
trap finish EXIT
trap 'exit 1' INT TERM

[[ -x ${1:-} ]] || give_up "usage: $test_name.sh HETSWEEP: no executable hetsweep at '${1:-}'"
hetsweep=$(realpath "$1")
cd "$work" || exit 1

slurm_up() {
  local started=$EPOCHREALTIME
  slurm_started=1
  "$repo/cluster/local-slurm" up "$@" || give_up "cluster/local-slurm up $*"
  pass "cluster/local-slurm up${*:+ $*}: all nodes idle in $(since "$started") s"
}

# Seconds since START (a value of EPOCHREALTIME), to a tenth.
since() { awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }'; }

# Polls until `command...` succeeds; fails at the deadline.
wait_until() {
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

in_queue() { [[ -n $(squeue -h -j "$1" -o %i 2>/dev/null) ]]; }
left_queue() { ! in_queue "$1"; }
wait_for_job() {
  wait_until left_queue "$1" ||
    { echo "job $1 still queued at the deadline: $(squeue -h -j "$1" -o '%i %T %r' | tr '\n' ' ')" >&2; return 1; }
}
job_state() { scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]*\|Restarts=[0-9]*\| ExitCode=[0-9:]*' | tr '\n' ' '; }
# Every record of the job (each task of an array) COMPLETED with exit code 0.
job_succeeded() {
  local records
  records=$(scontrol show job -o "$1") && [[ -n $records ]] &&
    awk '!/ JobState=COMPLETED / || !/ ExitCode=0:0 / { bad = 1 } END { exit bad }' <<<"$records"
}

# The K of each "hetsweep: computed K runs in this invocation" line of the given logs, one per line.
computed_counts() { grep -ho 'hetsweep: computed [0-9]* runs in this invocation' "$@" | awk '{ print $3 }'; }
sum() { awk '{ s += $1 } END { print s + 0 }'; }
# The nodes named by the "rank R on NODE" lines of the given logs, sorted, one per line.
rank_nodes() { grep -ho 'hetsweep.sbatch: rank [0-9]* on [^ ]*' "$@" | awk '{ print $NF }' | sort -u; }

is_complete() { "${results[@]}" complete "$1" >/dev/null; }
finished_runs() { "${results[@]}" finished "$1"; }

# reference SPEC FILE: a local `mpirun -n 3` run (cluster/mpirun-sweep) of SPEC into FILE, which must complete.
reference() {
  local started=$EPOCHREALTIME runs
  HETSWEEP=$hetsweep "$repo/cluster/mpirun-sweep" -n 3 "$1" -o "$2" 2>"$2.log" ||
    give_up "mpirun -n 3 reference run of $1, exit status $? (see $2.log)"
  runs=$("${results[@]}" complete "$2") || give_up "mpirun -n 3 reference run of $1 left runs unfinished"
  pass "mpirun -n 3 reference run of $(basename "$1"): $runs runs in $(since "$started") s"
}
