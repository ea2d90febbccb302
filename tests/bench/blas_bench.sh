#!/usr/bin/env bash
# Eigen's own kernels against OpenBLAS behind Eigen (HETSWEEP_BLAS=openblas), at both kernel levels, on the
# step benchmarks at d = 20, 100, 200 (sweep/analysis/PERFORMANCE.md, "BLAS").
#
#   bash tests/bench/blas_bench.sh [ROUNDS]
#
# Builds build/ (the default, Eigen) and build-blas/ (only the science, its OpenBLAS test and the benchmarks),
# runs the OpenBLAS test, then ROUNDS (default 3) rounds in which the four benchmark programs run one after the
# other (so a round's ratios share the machine's load), and prints each benchmark's median CPU time and the
# OpenBLAS / Eigen ratio at each level.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3}
export OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}

"$root/cluster/build" "$root/build" >/dev/null
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$root/build-blas" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHETSWEEP_BLAS=openblas "${launcher[@]}" >/dev/null
cmake --build "$root/build-blas" -j "$(nproc)" --target hetsweep_science_blas_tests hetsweep_science_blas_tests_x86_64_v3 science_bench science_bench_x86_64_v3
ctest --test-dir "$root/build-blas" -R OpenBlas --output-on-failure

filter='Step/(exact|rank_one|materialized)_hetero/d:(20|100|200)/m:1000$|ExactMatrixProductsAlone/d:(20|100|200)$'
out=$(mktemp -d)
for round in $(seq "$rounds"); do
  for build in build build-blas; do
    for program in science_bench science_bench_x86_64_v3; do
      "$root/$build/tests/bench/$program" --benchmark_filter="$filter" --benchmark_min_time=0.3 \
        --benchmark_format=json >"$out/$round.$build.$program.json"
    done
  done
done

/usr/bin/python3 - "$out" <<'EOF'
import glob, json, statistics, sys
times = {}
for path in glob.glob(f"{sys.argv[1]}/*.json"):
    _, build, program, _ = path.rsplit("/", 1)[1].split(".")
    level = "v3" if program.endswith("v3") else "baseline"
    for b in json.load(open(path))["benchmarks"]:
        scale = {"ns": 1e-3, "us": 1, "ms": 1e3}[b["time_unit"]]
        times.setdefault((b["name"], level, build), []).append(b["cpu_time"] * scale)
median = {key: statistics.median(values) for key, values in times.items()}
print(f"{'benchmark (CPU time, us, median)':44} {'Eigen':>10} {'OpenBLAS':>10} {'ratio':>6} {'Eigen v3':>10} {'OpenBLAS v3':>11} {'ratio':>6}")
for name in sorted({key[0] for key in median}, key=lambda n: (n.split("/")[0], n.split("/")[1], int(n.split("d:")[1].split("/")[0]))):
    row = [median[(name, level, build)] for level in ("baseline", "v3") for build in ("build", "build-blas")]
    print(f"{name:44} {row[0]:10.2f} {row[1]:10.2f} {row[1] / row[0]:6.2f} {row[2]:10.2f} {row[3]:11.2f} {row[3] / row[2]:6.2f}")
EOF
rm -r "$out"
