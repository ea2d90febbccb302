#!/usr/bin/env bash
# End-to-end test of the Slurm deployment on a local single-node Slurm (cluster/local-slurm), each result
# compared with a local `mpirun -n 2` run of the same spec (cluster/mpirun-sweep):
#   1. the sweep as one job of slurm/hetsweep.sbatch: complete and equal;
#   2. the same with `scontrol requeue` once some runs are done: complete and equal, and the runs computed by
#      the job's starts add up to the sweep's runs (none computed twice);
#   3. two shards with slurm/submit-sharded (a job array, then a merge job): the merged file equal.
# "Equal" is tests/deploy/compare_results.py: every dataset bit for bit, but for wall_seconds and finished_at.
#
#   tests/deploy/slurm_test.sh HETSWEEP [SPEC]    (as root; SPEC defaults to sweep/quickstart.yaml)
#
# Prints a PASS or FAIL line per check and, last, "N passed, M failed"; exits 0 only when nothing failed.
# Slurm is taken down at the end whatever happens. Files are kept in a directory under /var/tmp on failure.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
results=(/usr/bin/python3 "$repo/tests/deploy/compare_results.py")
# Waits end here, before CTest's 600 s timeout, so that Slurm is still taken down. The four sweeps of the
# quickstart spec take under a minute each.
readonly deadline=$((SECONDS + 540))
work=$(mktemp -d /var/tmp/hetsweep-slurm-test.XXXXXX)

passed=0
failed=0
finished=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
give_up() { fail "$*"; finished=1; exit 1; }
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

finish() {
  local status=$?
  ((finished)) || fail "the test stopped early (exit status $status), see above"
  "$repo/cluster/local-slurm" down >&2 || fail "cluster/local-slurm down"
  if ((failed)); then echo "files kept in $work" >&2; else rm -rf "$work"; fi
  echo "$passed passed, $failed failed"
  exit $((failed > 0))
}
trap finish EXIT
trap 'exit 1' INT TERM

[[ -x ${1:-} ]] || give_up "usage: slurm_test.sh HETSWEEP [SPEC]: no executable hetsweep at '${1:-}'"
hetsweep=$(realpath "$1")
spec=$(realpath "${2:-$repo/sweep/quickstart.yaml}")
[[ -r $spec ]] || give_up "cannot read spec $spec"
cd "$work"

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

is_complete() { "${results[@]}" complete "$1" >/dev/null; }
equals_reference() { "${results[@]}" equal local.h5 "$1"; }
has_finished_runs() { (($("${results[@]}" finished "$1") > 0)); }
finished_or_left() { has_finished_runs "$1" || left_queue "$2"; }

submit() {  # submit NAME OUT [SPEC]
  local name=$1 out=$2
  SPEC=${3:-$spec} OUT=$work/$out HETSWEEP=$hetsweep sbatch --parsable --job-name="$name" --chdir="$work" \
    "$repo/slurm/hetsweep.sbatch"
}
equals_slow_reference() { "${results[@]}" equal slow-local.h5 "$1"; }

started=$SECONDS
"$repo/cluster/local-slurm" up || give_up "cluster/local-slurm up"
pass "local Slurm up in $((SECONDS - started)) s"

started=$SECONDS
HETSWEEP=$hetsweep "$repo/cluster/mpirun-sweep" -n 2 "$spec" -o local.h5 2>local.log ||
  give_up "mpirun -n 2 reference run, exit status $? (see local.log)"
runs=$("${results[@]}" complete local.h5) || give_up "mpirun -n 2 reference run left runs unfinished"
computed=$(computed_counts local.log | sum)
((computed == runs)) || give_up "mpirun -n 2 reference run computed $computed runs, the file has $runs"
pass "mpirun -n 2 reference run: $runs runs in $((SECONDS - started)) s"
check "hetsweep status local.h5" "$hetsweep" status local.h5

echo "--- one job, submitted by slurm/submit (named after the spec)"
started=$SECONDS
job=$(HETSWEEP=$hetsweep "$repo/slurm/submit" "$spec" "$work/single.h5" --chdir="$work")
name=$("$repo/slurm/spec-name" "$spec")
if wait_for_job "$job" && job_succeeded "$job"; then
  pass "job $job: sbatch to done in $((SECONDS - started)) s"
else
  fail "job $job did not succeed: $(job_state "$job") (see $name-$job.out)"
fi
# The job carries the spec's name, and so does its log.
named_after_spec() { scontrol show job -o "$1" | grep -q " JobName=$2 " && [[ -s $work/$2-$1.out ]]; }
check "job $job: named $name after the spec, log $name-$job.out" named_after_spec "$job" "$name"
check "job $job: results complete" is_complete single.h5
check "job $job: results equal the mpirun run" equals_reference single.h5

echo "--- one job, requeued once some runs are done"
# The quickstart finishes in about a second: too soon to requeue it mid-sweep, so this job runs a sweep
# that takes several seconds (materialized sampler), against its own mpirun reference.
slow_spec=$repo/tests/cli/data/slow.yaml
HETSWEEP=$hetsweep "$repo/cluster/mpirun-sweep" -n 2 "$slow_spec" -o slow-local.h5 2>slow-local.log ||
  give_up "mpirun -n 2 reference run of $slow_spec, exit status $? (see slow-local.log)"
slow_runs=$("${results[@]}" complete slow-local.h5) || give_up "the slow reference run left runs unfinished"
started=$SECONDS
job=$(submit requeue requeue.h5 "$slow_spec")
if wait_until finished_or_left requeue.h5 "$job" && in_queue "$job"; then
  scontrol requeue "$job"
  echo "requeued job $job after $((SECONDS - started)) s, with $("${results[@]}" finished requeue.h5) runs done"
else
  fail "job $job: no finished run in requeue.h5 while it ran: $(job_state "$job")"
fi
if wait_for_job "$job" && job_succeeded "$job"; then
  pass "job $job: sbatch to done in $((SECONDS - started)) s, $(job_state "$job")"
else
  fail "job $job did not succeed: $(job_state "$job") (see requeue-$job.out)"
fi
mapfile -t counts < <(computed_counts "requeue-$job.out")
total=$(printf '%s\n' "${counts[@]}" | sum)
if ((${#counts[@]} >= 2 && counts[0] < slow_runs && total == slow_runs)); then
  pass "job $job: its ${#counts[@]} starts computed ${counts[*]} runs, $slow_runs in all"
else
  fail "job $job: its starts computed [${counts[*]}] runs, want a first start cut short and $slow_runs in all"
fi
check "job $job: results complete" is_complete requeue.h5
check "job $job: results equal the mpirun run" equals_slow_reference requeue.h5

echo "--- two shards and a merge"
started=$SECONDS
read -r array merge < <(HETSWEEP=$hetsweep "$repo/slurm/submit-sharded" 2 "$spec" "$work/sharded.h5")
if wait_for_job "$array" && wait_for_job "$merge" && job_succeeded "$array" && job_succeeded "$merge"; then
  pass "array job $array and merge job $merge: sbatch to done in $((SECONDS - started)) s"
else
  fail "array job $array ($(job_state "$array")) or merge job $merge ($(job_state "$merge")) did not succeed"
fi
check "merged results complete" is_complete sharded.h5
check "merged results equal the mpirun run" equals_reference sharded.h5

finished=1
