#!/usr/bin/env bash
# Refinement runs and /boundary through the binary, on a file the store's API writes (write_refine_file: 8
# grid runs done, 4 refinement runs at step_size 0.03 of which 3 done, 2 crossings): `boundary` as a table and
# as JSON, status counting refinement runs apart, export and report, verify, merge carrying refinement rows,
# and `boundary` refusing a file without a refine block (exit 2).
#   boundary.sh HETSWEEP WRITE_REFINE_FILE WORKDIR
set -euo pipefail
# The file is written by write_refine_file, whose kernels are baseline: merging it keeps that level.
export HETSWEEP_ISA=baseline
hetsweep=$1 write_refine_file=$2 workdir=$3
# shellcheck source=expect.sh
source "$(dirname "$0")/expect.sh"
rm -rf "$workdir" && mkdir -p "$workdir" && cd "$workdir"

"$write_refine_file" refine.h5

expect 0 "2 crossings of final_spurious_signal = 0.5 along step_size" -- "$hetsweep" boundary refine.h5
grep -qE "^ *algorithm +lo +hi +direction +estimate +runs$" out.txt || fail "boundary: no header: $(cat out.txt)"
grep -qE "^ *hetero +0.01 +0.03 +down +0.0215 +8$" out.txt || fail "boundary: no hetero row: $(cat out.txt)"
grep -qE "^ *pooled +0.03 +0.05 +up +0.04 +8$" out.txt || fail "boundary: no pooled row: $(cat out.txt)"

"$hetsweep" boundary refine.h5 --json >boundary.json
/usr/bin/python3 - boundary.json <<'PY'
import json, sys
crossings = json.load(open(sys.argv[1]))
assert crossings == [
    {"axis": "step_size", "where": {"algorithm": "hetero"}, "lo": 0.01, "hi": 0.03, "direction": "down",
     "estimate": 0.0215, "runs": 8},
    {"axis": "step_size", "where": {"algorithm": "pooled"}, "lo": 0.03, "hi": 0.05, "direction": "up",
     "estimate": 0.04, "runs": 8},
], crossings
PY
echo "PASS: boundary --json"

expect 0 "refine +pending +1 +done +3" -- "$hetsweep" status refine.h5
grep -qE "grid +pending +0 +done +8" out.txt || fail "status: no grid line: $(cat out.txt)"
"$hetsweep" status refine.h5 --json >status.json
/usr/bin/python3 - status.json <<'PY'
import json, sys
status = json.load(open(sys.argv[1]))
assert status["total"] == 12, status
assert status["counts"] == {"pending": 1, "done": 11, "diverged": 0, "failed": 0}, status
assert status["grid"] == {"pending": 0, "done": 8, "diverged": 0, "failed": 0}, status
assert status["refine"] == {"pending": 1, "done": 3, "diverged": 0, "failed": 0}, status
assert not status["complete"], status
assert sum(v["counts"]["done"] for v in status["axes"]["step_size"]) == 8, status
PY
echo "PASS: status --json"
expect 4 "1 of 12 runs pending" -- "$hetsweep" status refine.h5 --check

expect 0 "" -- "$hetsweep" export refine.h5 --csv runs.csv
/usr/bin/python3 - runs.csv <<'PY'
import sys, pandas
runs = pandas.read_csv(sys.argv[1])
assert runs.origin.tolist() == ["grid"] * 8 + ["refine"] * 4, runs.origin.tolist()
assert (runs.step_size[8:] == 0.03).all(), runs.step_size.tolist()
PY
echo "PASS: export --csv has origin and the refinement values"
expect 0 "step_size" -- "$hetsweep" report refine.h5 --rows step_size --cols algorithm
# The fixture's /boundary is written by hand, not by the bisection of its rows: verify runs the bisection
# again and names each stored crossing the finished runs do not imply.
expect 1 "/boundary: the down crossing in \\[0.01, 0.03\\] at algorithm = hetero \\(estimate 0.0215, 8 runs\\) is not what" \
  -- "$hetsweep" verify refine.h5

# A merge carries the finished refinement rows (by key: a second input with the same rows adds nothing; a
# pending one is not carried, the master asks for it again); /boundary is what the merged rows locate (none
# here: the fixture's rows bracket no crossing to the tolerance).
expect 0 "merged 11 runs from 2 files into merged.h5 \(11 already there, 0 still pending\)" -- \
  "$hetsweep" merge merged.h5 refine.h5 refine.h5
expect 0 "refine +pending +0 +done +3" -- "$hetsweep" status merged.h5
expect 0 "0 crossings" -- "$hetsweep" boundary merged.h5
expect 0 "" -- "$hetsweep" verify merged.h5

# A file without a refine block has no boundary.
cat >plain.yaml <<'YAML'
name: plain
seed: 1
fixed: {dim: 4, invariant_rank: 1, spurious_rank: 1, steps: 10, record_every: 5}
grid:
  step_size: [0.01, 0.05]
YAML
expect 0 "" -- "$hetsweep" run plain.yaml -o plain.h5 --progress none
expect 2 "plain.h5: its sweep spec has no refine block" -- "$hetsweep" boundary plain.h5
expect 2 "does not exist" -- "$hetsweep" boundary missing.h5
echo "all boundary checks passed"
