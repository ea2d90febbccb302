#!/usr/bin/env bash
# `run` refining through the binary, on hetero_gd, whose boundary is known exactly
# (tests/refine/hetero_gd_boundary_test.cpp). Files are compared by run key (tests/cli/refine_rows.py): rows
# are in the order results arrived, which the rank count and a resume change.
#   refine_run.sh ranks HETSWEEP WORKDIR    1, 2 and 4 ranks: the same runs and /boundary; `boundary --json`
#                                           brackets the exact crossings; a finished file resumes to no work
#   refine_run.sh shards HETSWEEP WORKDIR   --shard 0/2 and 1/2 merged, then resumed: the unsharded file
#   refine_run.sh killed HETSWEEP WORKDIR   SIGKILLed while it refines (alone, and rank 0 under mpiexec), resumed
#                                           on the other rank count: the uninterrupted file
set -euo pipefail
export HETSWEEP_ISA=baseline OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
case_name=$1 hetsweep=$2 workdir=$3/$1
rows=(/usr/bin/python3 "$(cd "$(dirname "$0")" && pwd)/refine_rows.py")
# shellcheck source=expect.sh
source "$(dirname "$0")/expect.sh"
rm -rf "$workdir" && mkdir -p "$workdir" && cd "$workdir"

# The spec of HeteroGdBoundary with two replicates (hetero_gd has no randomness: both give the same metric).
# `steps` is a parameter so that the kill test can make the runs slow enough to be caught midway.
write_spec() {
  cat >"$1" <<YAML
name: refine_gd
seed: 3
replicates: 2
fixed: {dim: 4, algorithm: hetero_gd, steps: $2, record_every: $(($2 / 2))}
grid:
  heterogeneity: {start: 0, stop: 16, num: 17}
  step_size: [0.1, 0.05]
refine: {axis: heterogeneity, metric: spurious_signal, threshold: 0.05, tolerance: 0.02}
YAML
}

run() {
  local ranks=$1
  shift
  if ((ranks == 1)); then
    "$hetsweep" run "$@" --progress none
  else
    mpiexec -n "$ranks" --oversubscribe "$hetsweep" run "$@" --progress none
  fi
}

# resumes_to_nothing FILE REFERENCE: resuming FILE (refine.yaml) computes nothing and asks for nothing, and
# FILE ends equal to REFERENCE by key, /boundary included.
resumes_to_nothing() {
  expect 0 "refinement added 0 runs in this invocation; $1 holds 4 located crossings" -- run 1 refine.yaml -o "$1"
  grep -q "computed 0 runs" out.txt || fail "resuming $1 computed runs again: $(cat out.txt)"
  expect 0 "116 runs \(48 refinement runs\), 4 crossings, 0 differences" -- "${rows[@]}" same "$2" "$1"
}

case $case_name in
ranks)
  write_spec refine.yaml 1000
  for ranks in 1 2 4; do
    expect 0 "refinement added 48 runs in this invocation; r$ranks.h5 holds 4 located crossings" -- \
      run "$ranks" refine.yaml -o "r$ranks.h5"
  done
  expect 0 "116 runs \(48 refinement runs\), 4 crossings, 0 differences" -- "${rows[@]}" same r1.h5 r2.h5
  expect 0 "0 differences" -- "${rows[@]}" same r1.h5 r4.h5
  expect 0 "refine +pending +0 +done +38 +diverged +10" -- "$hetsweep" status r4.h5
  expect 0 "checked: /boundary's 4 crossings against those the finished runs imply" -- "$hetsweep" verify r4.h5
  # A /boundary changed after the fact (its checksums still valid) is not what the runs imply.
  cp r4.h5 moved.h5
  /usr/bin/python3 -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r+"); f["boundary/estimate"][0] += 0.001' moved.h5
  expect 1 "/boundary: the (down|up) crossing in .* is not what the finished runs imply" -- "$hetsweep" verify moved.h5

  # The exact finite-T boundaries (HeteroGdBoundary): each bracket holds its own, at most the tolerance wide.
  "$hetsweep" boundary r2.h5 --json >boundary.json
  /usr/bin/python3 - boundary.json <<'PY'
import json, sys
crossings = json.load(open(sys.argv[1]))
exact = {(0.1, "down"): 3.2616, (0.1, "up"): 7.8253, (0.05, "down"): 4.4569, (0.05, "up"): 14.8993}
assert len(crossings) == 4, crossings
for c in crossings:
    m = exact[(c["where"]["step_size"], c["direction"])]
    assert c["axis"] == "heterogeneity" and c["lo"] <= m <= c["hi"] and c["hi"] - c["lo"] <= 0.02, (m, c)
    assert c["runs"] == 12, c  # 6 midpoints x 2 replicates
PY
  echo "PASS: boundary --json brackets the exact hetero_gd boundaries"

  # Resumed when finished: nothing to compute, nothing asked again, the file as it was.
  cp r1.h5 again.h5
  resumes_to_nothing again.h5 r1.h5
  ;;

shards)
  write_spec refine.yaml 1000
  expect 0 "" -- run 1 refine.yaml -o whole.h5
  # Each shard computes whole combinations (here one step size each): their grid runs and every refinement
  # run they ask for, and locates their crossings.
  expect 0 "" -- run 2 refine.yaml -o shard0.h5 --shard 0/2
  expect 0 "" -- run 1 refine.yaml -o shard1.h5 --shard 1/2
  /usr/bin/python3 - shard0.h5 shard1.h5 <<'PY'
import sys, h5py, numpy as np
for path in sys.argv[1:]:
    with h5py.File(path, "r") as f:
        runs = f["runs"][()]
        finished = runs[runs["status"] != 0]
        # A shard's finished runs cover whole step sizes: 34 grid runs each, plus their refinement runs.
        for eta in set(finished["step_size"].tolist()):
            grid = finished[(finished["step_size"] == eta) & (finished["origin"] == 0)]
            assert len(grid) == 34, (path, eta, len(grid))
        assert not np.any((runs["origin"] == 1) & (runs["status"] == 0)), path
        # Seed 3 puts one step size in each shard.
        assert len(f["boundary"]["lo"]) == 2 and len(set(finished["step_size"].tolist())) == 1, path
PY
  echo "PASS: each shard refines whole combinations (one step size each)"
  # status --check --shard judges the runs that shard computes: whole combinations, as run slices them.
  expect 0 "shard0.h5: complete, 58 runs of shard 0/2" -- "$hetsweep" status --check --shard 0/2 shard0.h5
  expect 4 "" -- "$hetsweep" status --check --shard 1/2 shard0.h5
  # Each shard located its own crossings; the merge locates all of them from the merged results.
  expect 0 "merged 116 runs from 2 files .*; /boundary holds 4 located crossings" -- \
    "$hetsweep" merge merged.h5 shard0.h5 shard1.h5
  expect 0 "4 crossings" -- "$hetsweep" boundary merged.h5
  # Resuming the merged file computes nothing, asks for nothing, and keeps that /boundary.
  resumes_to_nothing merged.h5 whole.h5
  ;;

killed)
  # Slow runs (about 0.05 s each when not diverged), so that a poll catches the sweep while it refines.
  write_spec slow.yaml 150000
  expect 0 "" -- run 3 slow.yaml -o reference.h5
  for ranks in 1 3; do
    out=killed$ranks.h5
    if ((ranks == 1)); then
      "$hetsweep" run slow.yaml -o "$out" --progress none 2>/dev/null &
    else
      mpiexec -n "$ranks" --oversubscribe "$hetsweep" run slow.yaml -o "$out" --progress none 2>/dev/null &
    fi
    pid=$!
    until "${rows[@]}" midway "$out"; do
      kill -0 "$pid" 2>/dev/null || fail "the sweep on $ranks ranks ended before it was caught refining"
    done
    # Alone: the master itself; under mpiexec: rank 0 (mpiexec then ends the job).
    if ((ranks == 1)); then
      kill -KILL "$pid"
    else
      for child in $(pgrep -P "$pid"); do
        if tr '\0' '\n' <"/proc/$child/environ" | grep -qx OMPI_COMM_WORLD_RANK=0; then kill -KILL "$child"; fi
      done
    fi
    wait "$pid" || true
    expect 4 "runs pending" -- "$hetsweep" status "$out" --check
    # Resumed on the other rank count: neither the interrupted nor the resuming one matters.
    expect 0 "" -- run $((4 - ranks)) slow.yaml -o "$out"
    expect 0 "0 differences" -- "${rows[@]}" same reference.h5 "$out"
  done
  ;;

*)
  fail "unknown case $case_name"
  ;;
esac
