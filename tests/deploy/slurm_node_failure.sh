#!/usr/bin/env bash
# A node crash mid-sweep on 3 emulated nodes (cluster/local-slurm, SlurmdTimeout 5 s):
#   1. a job of 3 nodes x 2 tasks; once some runs are done, node n1 (the batch script's node, with rank 0,
#      the master that writes the file) is killed: Slurm marks n1 DOWN and requeues the job (NODE_FAIL);
#   2. n1 comes back with its spool kept, stale PMIx sockets of the killed step included: the requeued job's
#      MPI step cannot start on n1, and slurm/hetsweep.sbatch, seeing runs still pending in the file, requeues
#      the job again instead of ending it;
#   3. n1 is rebooted (spool and tmp wiped): the job starts again, resumes the file and completes.
# The results equal a local `mpirun -n 3` run bit for bit: every run in the file once, the same values.
# Prints the time from the kill to the job's end.
#
#   tests/deploy/slurm_node_failure.sh HETSWEEP    (as root)
#
# Prints a PASS or FAIL line per check and, last, "N passed, M failed"; exits 0 only when nothing failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/slurm_lib.sh"

spec=$repo/tests/deploy/data/midsweep.yaml
# A node silent for 5 s is DOWN; tasks that outlive SIGTERM get SIGKILL 5 s later.
HETSWEEP_SLURM_TIMEOUT=5 HETSWEEP_SLURM_KILL_WAIT=5 slurm_up --nodes 3
reference "$spec" local.h5
runs=$("${results[@]}" complete local.h5)

job=$(HETSWEEP=$hetsweep "$repo/slurm/submit" "$spec" "$work/failure.h5" --chdir="$work" \
  --nodes=3 --ntasks=6 --ntasks-per-node=2) || give_up "slurm/submit failed"
log=$work/$(HETSWEEP=$hetsweep "$repo/slurm/spec-name" "$spec")-$job.out
started=$EPOCHREALTIME
some_done_or_left() { (($(finished_runs failure.h5) > 0)) || left_queue "$job"; }
wait_until some_done_or_left && in_queue "$job" || give_up "job $job: no run finished while it ran: $(job_state "$job")"

# 1. The crash.
killed=$EPOCHREALTIME
"$repo/cluster/local-slurm" kill n1 || give_up "cluster/local-slurm kill n1"
done_at_kill=$(finished_runs failure.h5)
if ((done_at_kill < runs)); then
  pass "killed n1 $(since "$started") s after the job started, with $done_at_kill of $runs runs done"
else
  fail "n1 killed too late: all $runs runs were already done"
fi
restarts() { scontrol show job -o "$job" | sed -n 's/.* Restarts=\([0-9]*\).*/\1/p'; }
pending_after() { [[ $(restarts) -ge $1 && $(scontrol show job -o "$job") == *" JobState=PENDING "* ]]; }
if wait_until pending_after 1; then
  pass "job $job requeued after the node failure ($(since "$killed") s after the kill): $(job_state "$job")"
else
  give_up "job $job not requeued after the node failure: $(job_state "$job")"
fi
check "n1 is DOWN: $(sinfo -h -n n1 -o '%T %E')" test "$(sinfo -h -n n1 -o %T)" = "down*"
check "the job's first start did not end as complete" fails grep -q 'hetsweep.sbatch: sweep complete' "$log"

# 2. Back with the killed step's PMIx sockets still in its spool.
"$repo/cluster/local-slurm" revive n1 --keep-spool || give_up "cluster/local-slurm revive n1 --keep-spool"
stale=$(ls "$HETSWEEP_SLURM_DIR/spool/n1/" | grep "^stepd\.slurm\.pmix\.$job\." | tr '\n' ' ' || true)
check "n1 revived with a stale PMIx socket in its spool: $stale" test -n "$stale"
if wait_until pending_after 2; then
  pass "job $job requeued again by its batch script: $(job_state "$job")"
else
  give_up "job $job was not requeued again: $(job_state "$job") (see $log)"
fi
grep 'runs pending in .*: the step\|requeued job' "$log" || true
check "the batch script logged the runs still pending and why" grep -q 'runs pending in .*: the step' "$log"
check "the batch script did not call the sweep complete" fails grep -q 'hetsweep.sbatch: sweep complete' "$log"

# 3. A reboot: spool and tmp wiped.
"$repo/cluster/local-slurm" revive n1 || give_up "cluster/local-slurm revive n1"
if wait_for_job "$job" && job_succeeded "$job"; then
  pass "job $job done $(since "$killed") s after n1 was killed: $(job_state "$job")"
else
  fail "job $job did not succeed: $(job_state "$job") (see $log)"
fi
check "job $job: the log says the sweep is complete" grep -q 'hetsweep.sbatch: sweep complete' "$log"
check "job $job: results complete" is_complete failure.h5
check "job $job: results equal the mpirun run (every run once, the same bits)" \
  "${results[@]}" equal local.h5 failure.h5
echo "--- $log"
grep 'hetsweep.sbatch: [^r]\|computed' "$log" || true

finished=1
