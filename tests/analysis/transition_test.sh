#!/usr/bin/env bash
# The paper's transition through the real binary: a reduced heterogeneity sweep (eta = 0.05, m = 1000,
# T = 1000) whose mean final spurious signal is above 0.8 at M = 1 and below 0.05 at M = 6, and figures.py
# drawing non-empty PNGs from that file.   transition_test.sh HETSWEEP WORKDIR
set -euo pipefail
hetsweep=$1 workdir=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$workdir"
cat >"$workdir/transition.yaml" <<'SPEC'
name: transition
seed: 3
fixed: {dim: 20, invariant_rank: 2, spurious_rank: 2, step_size: 0.05, batch_size: 1000, steps: 1000,
        record_every: 20, algorithm: hetero}
grid:
  heterogeneity: [1.0, 6.0]
replicates: 3
SPEC
"$hetsweep" run "$workdir/transition.yaml" -o "$workdir/transition.h5" --restart 2>/dev/null
PYTHONPATH="$here/../../python" /usr/bin/python3 - "$workdir/transition.h5" <<'PY'
import sys
import hetsweep
import numpy as np
runs = hetsweep.open_runs(sys.argv[1])
assert (runs.status == "done").all(), "not every run finished"
for m, check, bound in ((1.0, np.greater, 0.8), (6.0, np.less, 0.05)):
    mean = runs.final_spurious_signal[runs.heterogeneity == m].mean()
    print(f"M = {m}: mean final spurious signal {mean:.4f} (must be {'>' if check is np.greater else '<'} {bound})")
    assert check(mean, bound), f"no transition at M = {m}"
PY
rm -rf "$workdir/figures"
/usr/bin/python3 "$here/../../sweep/analysis/figures.py" "$workdir/transition.h5" --out "$workdir/figures"
pngs=("$workdir"/figures/*.png)
((${#pngs[@]} >= 2)) || { echo "FAIL: figures.py wrote ${#pngs[@]} PNGs"; exit 1; }
for png in "${pngs[@]}"; do
  [[ -s $png && $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || { echo "FAIL: $png is not a PNG"; exit 1; }
done
echo "PASS: transition at eta = 0.05 between M = 1 and M = 6; ${#pngs[@]} PNGs"
