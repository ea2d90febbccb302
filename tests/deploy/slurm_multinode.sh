#!/usr/bin/env bash
# A sweep as one job over 3 emulated nodes x 2 tasks (cluster/local-slurm up --nodes 3): the ranks run on 3
# distinct nodes (each rank logs the hostname it sees), the job completes, and the results equal a local
# `mpirun -n 3` run bit for bit (tests/deploy/compare_results.py, timings aside). Then a step that exits 0
# without computing anything (a stand-in binary whose `run` does nothing): the template sees the runs pending,
# requeues the job once, and with HETSWEEP_MAX_RESTARTS=1 fails it at the second start instead of looping.
#
#   tests/deploy/slurm_multinode.sh HETSWEEP [SPEC]    (as root; SPEC defaults to tests/cli/data/small.yaml)
#
# Prints a PASS or FAIL line per check and, last, "N passed, M failed"; exits 0 only when nothing failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/slurm_lib.sh"

spec=$(realpath "${2:-$repo/tests/cli/data/small.yaml}")
slurm_up --nodes 3
reference "$spec" local.h5

started=$EPOCHREALTIME
job=$(HETSWEEP=$hetsweep "$repo/slurm/submit" "$spec" "$work/multinode.h5" --chdir="$work" \
  --nodes=3 --ntasks=6 --ntasks-per-node=2) || give_up "slurm/submit failed"
log=$work/$(HETSWEEP=$hetsweep "$repo/slurm/spec-name" "$spec")-$job.out
if wait_for_job "$job" && job_succeeded "$job"; then
  pass "job $job, 3 nodes x 2 tasks: sbatch to done in $(since "$started") s"
else
  fail "job $job did not succeed: $(job_state "$job") (see $log)"
fi
mapfile -t nodes < <(rank_nodes "$log")
ranks=$(grep -c 'hetsweep.sbatch: rank [0-9]* on ' "$log" || true)
if ((ranks == 6 && ${#nodes[@]} == 3)); then
  pass "job $job: its 6 ranks ran on 3 distinct nodes (${nodes[*]})"
else
  fail "job $job: $ranks ranks logged, on nodes [${nodes[*]}]; want 6 ranks on 3 nodes"
fi
check "job $job: the log says the sweep is complete" grep -q 'hetsweep.sbatch: sweep complete' "$log"
check "job $job: results complete" is_complete multinode.h5
check "job $job: results equal the mpirun run" "${results[@]}" equal local.h5 multinode.h5

echo "--- a step that exits 0 but computes nothing"
# The stand-in: `run` exits 0 at once, everything else (status --check) is the real hetsweep.
cat >idle-hetsweep <<IDLE
#!/bin/sh
[ "\$1" = run ] && exit 0
exec "$hetsweep" "\$@"
IDLE
chmod +x idle-hetsweep
job=$(HETSWEEP=$work/idle-hetsweep HETSWEEP_MAX_RESTARTS=1 "$repo/slurm/submit" "$spec" "$work/idle.h5" \
  --chdir="$work" --nodes=3 --ntasks=3 --job-name=idle) || give_up "slurm/submit failed"
if wait_for_job "$job" && [[ $(job_state "$job") == *"JobState=FAILED Restarts=1 "* ]]; then
  pass "job $job: requeued once, then failed: $(job_state "$job")"
else
  fail "job $job: want FAILED after one restart, got $(job_state "$job") (see idle-$job.out)"
fi
grep 'hetsweep.sbatch: [^r]' "idle-$job.out" || true
check "job $job: the log says the step exited 0 with runs pending" \
  grep -q 'runs pending in .*: the step exited 0 but the sweep is not complete' "idle-$job.out"
check "job $job: the log says why it is not requeued again" \
  grep -q 'not requeueing: this start computed no run and the job has already been requeued 1 times' "idle-$job.out"
check "job $job: never called complete" fails grep -q 'sweep complete' "idle-$job.out"

finished=1
