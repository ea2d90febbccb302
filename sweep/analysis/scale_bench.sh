#!/usr/bin/env bash
# A million runs: computes a 1,000,000-run sweep (10 SGD steps a run, 10,000 heterogeneity values x 100
# replicates) as two shards under `mpirun -n 3`, then times `merge` of the two shards, `report` and `status`
# on the merged file, each REPEATS times, and prints the median wall and CPU seconds and the peak RSS
# (/usr/bin/time -v). Long (minutes): not part of cluster/check. See sweep/analysis/PERFORMANCE.md.
#
#   sweep/analysis/scale_bench.sh [--hetsweep PATH] [--dir DIR] [--repeats N] [--unsharded]
#
# --unsharded also computes the whole sweep in one file, to compare its master's CPU per run with a shard's.
# DIR keeps the files (default: a temporary directory, removed at the end).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
hetsweep=$root/build/src/cli/hetsweep
dir=""
repeats=3
unsharded=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --hetsweep) hetsweep=$(realpath "$2"); shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --unsharded) unsharded=1; shift ;;
    *) echo "scale_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -z $dir ]]; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1

cat >"$dir/million.yaml" <<'EOF'
name: million
seed: 3
fixed: {steps: 10}
grid:
  heterogeneity: {start: 0.0, stop: 10.0, num: 10000}
replicates: 100
EOF

echo "machine: $(nproc) cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
compute() {  # OUT [--shard I/N]
  local out=$1
  shift
  if [[ ! -e $dir/$out ]]; then
    mpirun --oversubscribe -n 3 "$hetsweep" run "$dir/million.yaml" -o "$dir/$out" --progress none "$@" 2>"$dir/$out.log"
  fi
  echo "compute $out $*: $(grep 'computed' "$dir/$out.log" || echo 'already computed')"
}
compute shard0.h5 --shard 0/2
compute shard1.h5 --shard 1/2
[[ $unsharded == 1 ]] && compute whole.h5

# Runs COMMAND... REPEATS times; prints the median wall and user+system seconds and the largest peak RSS.
measure() {  # NAME COMMAND...
  local name=$1
  shift
  local walls=() cpus=() rss=0
  for ((i = 0; i < repeats; ++i)); do
    [[ $name == merge ]] && rm -f "$dir/merged.h5"
    /usr/bin/time -f '%e %U %S %M' -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/$name.err"
    read -r wall user sys kb <"$dir/time.txt"
    walls+=("$wall")
    cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
    ((kb > rss)) && rss=$kb
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  printf '%-7s median of %d: %6.2f s wall, %6.2f CPU-s; peak RSS %d MB; load average now %s\n' "$name" "$repeats" \
    "$(median "${walls[@]}")" "$(median "${cpus[@]}")" $((rss / 1024)) "$(cut -d' ' -f1 /proc/loadavg)"
}
measure merge "$hetsweep" merge "$dir/merged.h5" "$dir/shard0.h5" "$dir/shard1.h5"
cat "$dir/merge.err"
measure report "$hetsweep" report "$dir/merged.h5"
measure status "$hetsweep" status "$dir/merged.h5"
measure status_json "$hetsweep" status --json "$dir/merged.h5"
