#!/usr/bin/env bash
# A sweep as 3 shards on 3 emulated nodes (cluster/local-slurm up --nodes 3, each node 2 CPUs): slurm/submit-
# sharded submits a job array of 3 tasks of 2 ranks, each filling a node, so the shards run on 3 different
# nodes; the merge job that follows merges them. The merged file equals a local `mpirun -n 3` run bit for bit.
# Then a merge of 2 of the 3 shards: the merge job must fail (exit 4), its log saying runs remain.
#
#   tests/deploy/slurm_sharded_multinode.sh HETSWEEP [SPEC]    (as root; SPEC defaults to tests/cli/data/small.yaml)
#
# Prints a PASS or FAIL line per check and, last, "N passed, M failed"; exits 0 only when nothing failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/slurm_lib.sh"

spec=$(realpath "${2:-$repo/tests/cli/data/small.yaml}")
HETSWEEP_SLURM_CPUS=2 slurm_up --nodes 3
reference "$spec" local.h5

started=$EPOCHREALTIME
read -r array merge < <(HETSWEEP=$hetsweep "$repo/slurm/submit-sharded" 3 "$spec" "$work/sharded.h5" \
  --chdir="$work" --ntasks=2) || give_up "slurm/submit-sharded failed"
[[ -n ${merge:-} ]] || give_up "slurm/submit-sharded printed no job ids"
if wait_for_job "$array" && wait_for_job "$merge" && job_succeeded "$array" && job_succeeded "$merge"; then
  pass "array job $array (3 shards) and merge job $merge: sbatch to done in $(since "$started") s"
else
  fail "array job $array ($(job_state "$array")) or merge job $merge ($(job_state "$merge")) did not succeed"
fi
name=$(HETSWEEP=$hetsweep "$repo/slurm/spec-name" "$spec")
shard_nodes=()
for task in 0 1 2; do
  mapfile -t nodes < <(rank_nodes "$work/$name-${array}_$task.out")
  ((${#nodes[@]} == 1)) && shard_nodes+=("${nodes[0]}")
done
distinct=$(printf '%s\n' "${shard_nodes[@]}" | sort -u | wc -l)
if ((${#shard_nodes[@]} == 3 && distinct == 3)); then
  pass "the 3 shards ran on 3 different nodes (${shard_nodes[*]})"
else
  fail "shards' nodes: [${shard_nodes[*]}]; want each shard on one node, 3 different ones"
fi
check "merge job $merge: the log says the merged file is complete" \
  grep -q 'hetsweep-merge.sbatch: .*: complete,' "$work/$name-merge-$merge.out"
check "merged results complete" is_complete sharded.h5
check "merged results equal the mpirun run" "${results[@]}" equal local.h5 sharded.h5

echo "--- a merge that misses a shard"
ln -s sharded.shard0.h5 partial.shard0.h5
ln -s sharded.shard1.h5 partial.shard1.h5
job=$(SPEC=$spec OUT=$work/partial.h5 SHARDS=2 HETSWEEP=$hetsweep sbatch --parsable --chdir="$work" \
  --job-name=partial-merge "$repo/slurm/hetsweep-merge.sbatch") || give_up "sbatch hetsweep-merge.sbatch failed"
if wait_for_job "$job" && [[ $(job_state "$job") == *"JobState=FAILED "*"ExitCode=4:0"* ]]; then
  pass "merge job $job of 2 of 3 shards failed with exit 4: $(job_state "$job")"
else
  fail "merge job $job of 2 of 3 shards: want FAILED with exit 4, got $(job_state "$job")"
fi
grep 'hetsweep-merge.sbatch: merged file not complete' "partial-merge-$job.out" || true
check "merge job $job: the log says runs remain" \
  grep -q 'hetsweep-merge.sbatch: merged file not complete (.*runs pending)' "partial-merge-$job.out"

finished=1
