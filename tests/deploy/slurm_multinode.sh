#!/usr/bin/env bash
# A sweep as one job over 3 emulated nodes x 2 tasks (cluster/local-slurm up --nodes 3): the ranks run on 3
# distinct nodes (each rank logs the hostname it sees), the job completes, and the results equal a local
# `mpirun -n 3` run bit for bit (tests/deploy/compare_results.py, timings aside).
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
log=$work/$("$repo/slurm/spec-name" "$spec")-$job.out
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

finished=1
