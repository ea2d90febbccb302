#!/usr/bin/env bash
# End-to-end test of the Slurm deployment on a local single-node Slurm (cluster/local-slurm, private: see
# slurm_lib.sh), each result compared with a local `mpirun -n 3` run of the same spec (cluster/mpirun-sweep):
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
source "$(dirname "${BASH_SOURCE[0]}")/slurm_lib.sh"

spec=$(realpath "${2:-$repo/sweep/quickstart.yaml}")
[[ -r $spec ]] || give_up "cannot read spec $spec"

equals_reference() { "${results[@]}" equal local.h5 "$1"; }
has_finished_runs() { (($("${results[@]}" finished "$1") > 0)); }
finished_or_left() { has_finished_runs "$1" || left_queue "$2"; }

submit() {  # submit NAME OUT [SPEC]
  local name=$1 out=$2
  SPEC=${3:-$spec} OUT=$work/$out HETSWEEP=$hetsweep sbatch --parsable --job-name="$name" --chdir="$work" \
    "$repo/slurm/hetsweep.sbatch"
}
equals_slow_reference() { "${results[@]}" equal slow-local.h5 "$1"; }

slurm_up
reference "$spec" local.h5
check "hetsweep status local.h5" "$hetsweep" status local.h5

echo "--- one job, submitted by slurm/submit (named after the spec)"
started=$SECONDS
job=$(HETSWEEP=$hetsweep "$repo/slurm/submit" "$spec" "$work/single.h5" --chdir="$work")
name=$(HETSWEEP=$hetsweep "$repo/slurm/spec-name" "$spec")
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
slow_spec=$repo/tests/deploy/data/midsweep.yaml
reference "$slow_spec" slow-local.h5
slow_runs=$("${results[@]}" complete slow-local.h5)
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
