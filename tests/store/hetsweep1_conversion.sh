#!/usr/bin/env bash
# A hetsweep-1 file through the binary: status and report read it, run refuses to resume it (exit 2, file
# untouched), and `merge NEW.h5 OLD.h5` converts it to a hetsweep-2 file with the same results, which run then
# resumes to the end.   hetsweep1_conversion.sh HETSWEEP FIXTURE.h5 SPEC.yaml WORKDIR
set -euo pipefail
# hetsweep-1 files were computed by baseline kernels: converting and resuming one keeps that level.
export HETSWEEP_ISA=baseline
hetsweep=$1 fixture=$2 spec=$3 workdir=$4
rm -rf "$workdir" && mkdir -p "$workdir"
old=$workdir/old.h5 new=$workdir/new.h5
cp "$fixture" "$old"
fail() { echo "FAIL: $*"; exit 1; }

"$hetsweep" status "$old" >"$workdir/status.txt" || fail "status of a hetsweep-1 file exits $?"
grep -Eq '^overall +pending +4 +done +6 +diverged +6 +failed +0' "$workdir/status.txt" ||
  fail "status of the hetsweep-1 file: $(cat "$workdir/status.txt")"
"$hetsweep" report "$old" >/dev/null || fail "report of a hetsweep-1 file exits $?"

code=0
"$hetsweep" run "$spec" -o "$old" 2>"$workdir/refusal.txt" || code=$?
((code == 2)) || fail "run on a hetsweep-1 file exits $code, not 2"
message="$old: is a hetsweep-1 file; convert it with \`hetsweep merge NEW.h5 OLD.h5\` (writes hetsweep-2), then"
grep -qF "$message resume NEW.h5" "$workdir/refusal.txt" || fail "refusal message: $(cat "$workdir/refusal.txt")"
cmp -s "$fixture" "$old" || fail "the refused hetsweep-1 file changed"

"$hetsweep" merge "$new" "$old" 2>/dev/null || fail "merge exits $?"
cmp -s "$fixture" "$old" || fail "merge changed its hetsweep-1 input"
/usr/bin/python3 - "$old" "$new" <<'PY'
import sys
import h5py
import numpy as np

CHOICES = ["sensing", "basis", "algorithm", "schedule", "sampler"]
old, new = (h5py.File(path, "r") for path in sys.argv[1:])
assert old.attrs["format"] == "hetsweep-1" and new.attrs["format"] == "hetsweep-2", "formats"
a, b = old["runs"][:], new["runs"][:]
# hetsweep-2 adds the origin last: every converted row comes from the grid.
assert a.dtype.names + ("origin",) == b.dtype.names and len(a) == len(b) == 16, "the same /runs columns and rows"
assert (b["origin"] == 0).all(), "grid rows"
for name in a.dtype.names:
    if name == "finished_at":  # when the merge wrote the row
        assert ((a[name] > 0) == (b[name] > 0)).all(), "finished_at set on the same rows"
        continue
    if name in CHOICES:
        width = b.dtype[name].shape[0]
        assert (a[name] == b[name].view(f"S{width}")[:, 0]).all(), name
        continue
    assert a[name].astype(b.dtype[name]).tobytes() == b[name].tobytes(), f"/runs {name} differs"
for metric in ["true_signal", "spurious_signal", "err_invariant", "err_pooled", "loss"]:
    path = f"trajectories/{metric}"
    assert old[path][()].tobytes() == new[path][()].tobytes(), f"/{path} differs"
    done = b["status"] == 1
    cube = new[f"cube/final_{metric}"][()].reshape(-1)  # the grid's order is the rows' order here
    assert (cube[done] == b[f"final_{metric}"][done]).all() and np.isnan(cube[~done]).all(), f"cube {metric}"
assert (new["cube/status"][()].reshape(-1) == b["status"]).all(), "/cube/status is the rows' status"
print("hetsweep1_conversion: the converted file holds the hetsweep-1 file's results")
PY

"$hetsweep" run "$spec" -o "$new" 2>/dev/null || fail "resuming the converted file exits $?"
"$hetsweep" status "$new" --check >/dev/null || fail "the resumed file still has pending runs"
echo "PASS: hetsweep-1 read, refused, converted by merge and resumed"
