#!/usr/bin/env bash
# The results file as a dataset, through the real binary: status --json, report, export --csv.
#   dataset.sh status HETSWEEP WORKDIR   status --json on a half-done and a complete file agrees with /runs
#   dataset.sh report HETSWEEP WORKDIR   report keeps every axis apart: a width axis gets a table per width,
#                                        each cell the mean over the replicates of its own runs
#   dataset.sh export HETSWEEP WORKDIR   export --csv read by pandas matches status --json and /runs, bit for bit
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
fail() { echo "FAIL: $*" >&2; exit 1; }
case=$1 hetsweep=$2 workdir=$3/$1
rm -rf "$workdir" && mkdir -p "$workdir" && cd "$workdir"

# expect_refusal PATTERN COMMAND...: exit 2 with a message matching PATTERN.
expect_refusal() {
  local pattern=$1 code=0
  shift
  "$@" >/dev/null 2>err.log || code=$?
  ((code == 2)) || fail "$* exited $code, not 2"
  grep -qE -- "$pattern" err.log || fail "$*: message does not match '$pattern': $(cat err.log)"
}

# A file with pending rows: one shard of two computed.
half_done() {
  "$hetsweep" run "$here/data/small.yaml" -o "$1" --shard 0/2 2>/dev/null
}

case $case in
  status)
    half_done half.h5
    "$hetsweep" status --json half.h5 >half.json
    cp half.h5 full.h5 && "$hetsweep" run "$here/data/small.yaml" -o full.h5 2>/dev/null
    "$hetsweep" status --json full.h5 >full.json
    expect_refusal "excludes|--check" "$hetsweep" status --json --check full.h5
    $python - <<'PY' || fail "status --json disagrees with /runs"
import datetime, json, h5py, numpy as np
names = ["pending", "done", "diverged", "failed"]
def text(column):  # a choice column: fixed-length strings or arrays of characters
    return np.array([np.asarray(c).tobytes().rstrip(b"\0").decode() for c in column])
for path, complete in (("half.h5", False), ("full.h5", True)):
    status = json.load(open(path.replace(".h5", ".json")))
    with h5py.File(path, "r") as f:
        runs = f["runs"][:]
        spec_axes = list(f["axes"].keys())
    codes = np.asarray(runs["status"]).astype(int)
    assert status["path"] == path and status["sweep"] == "e2e-small", status
    assert status["total"] == len(runs) == 48, status["total"]
    expected = {n: int((codes == i).sum()) for i, n in enumerate(names)}
    assert status["counts"] == expected, (status["counts"], expected)
    assert status["complete"] is complete and (expected["pending"] == 0) is complete
    assert sorted(status["axes"]) == sorted(spec_axes), (status["axes"].keys(), spec_axes)
    for axis, values in status["axes"].items():
        column = runs[axis]
        for entry in values:
            value = entry["value"]
            mask = text(column) == value if isinstance(value, str) else column == value
            got = {n: int((codes[mask] == i).sum()) for i, n in enumerate(names)}
            assert entry["counts"] == got, (axis, value, entry["counts"], got)
    finished = runs["finished_at"][codes != 0]
    iso = lambda t: datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert status["started"] == iso(finished.min()) and status["updated"] == iso(finished.max()), status
    if complete:
        assert status["eta_seconds"] == 0, status["eta_seconds"]
    assert status["rate"] is None or status["rate"] > 0, status["rate"]
print("status --json agrees with /runs on both files")
PY
    ;;
  report)
    "$hetsweep" run "$here/data/width.yaml" -o width.h5 2>/dev/null
    "$hetsweep" report width.h5 >default.txt
    "$hetsweep" report width.h5 --rows width --cols heterogeneity --metric err_pooled --where algorithm=pooled >chosen.txt
    $python - <<'PY' || fail "report does not show the mean of each grid point's replicates"
import re, h5py, numpy as np
with h5py.File("width.h5", "r") as f:
    runs = f["runs"][:]
def text(column):  # a choice column: fixed-length strings or arrays of characters
    return np.array([np.asarray(c).tobytes().rstrip(b"\0").decode() for c in column])
algorithm = text(runs["algorithm"])
done = np.asarray(runs["status"]).astype(int) == 1
def mean(metric, **where):
    mask = done.copy()
    for axis, value in where.items():
        mask &= (algorithm == value) if axis == "algorithm" else (runs[axis] == value)
    assert mask.sum() == 2, (where, mask.sum())  # the two replicates, nothing else
    return runs["final_" + metric][mask].mean()
def close(printed, exact):
    return abs(float(printed) - exact) <= 5e-4 * abs(exact) + 1e-12
number = r"([-0-9.e+]+)±[-0-9.e+]+"

tables = {}
heading = None
for line in open("default.txt"):
    if m := re.fullmatch(r"width (\d+), algorithm (\w+)\n", line):
        heading = (int(m[1]), m[2])
        tables[heading] = {}
    elif heading and (m := re.fullmatch(rf"\s*([0-9.]+)\s+{number} / {number}\s*\n", line)):
        tables[heading][float(m[1])] = (m[2], m[3])
assert sorted(tables) == [(2, "hetero"), (2, "pooled"), (6, "hetero"), (6, "pooled")], tables.keys()
for (width, alg), rows in tables.items():
    assert sorted(rows) == [1.0, 4.0], rows
    for m, (true_signal, spurious) in rows.items():
        assert close(true_signal, mean("true_signal", width=width, algorithm=alg, heterogeneity=m)), (width, alg, m)
        assert close(spurious, mean("spurious_signal", width=width, algorithm=alg, heterogeneity=m)), (width, alg, m)
differ = [(alg, m) for alg in ("hetero", "pooled") for m in (1.0, 4.0) if tables[(2, alg)][m] != tables[(6, alg)][m]]
assert len(differ) == 4, f"width 2 and width 6 print the same cells: {tables}"

lines = open("chosen.txt").read().splitlines()
assert "algorithm pooled" in lines[0] and "err_pooled" in lines[0], lines[0]
header = next(l for l in lines if l.lstrip().startswith("width \\ heterogeneity"))
assert header.split()[-2:] == ["1", "4"], header
cells = {int(m[1]): m.groups()[1:] for l in lines if (m := re.fullmatch(rf"\s*(\d+)\s+{number}\s+{number}\s*", l))}
assert sorted(cells) == [2, 6], lines
for width, values in cells.items():
    for m, printed in zip((1.0, 4.0), values):
        assert close(printed, mean("err_pooled", width=width, algorithm="pooled", heterogeneity=m)), (width, m, printed)
print("report: 4 width x algorithm tables and a chosen one, each cell the mean of its own 2 replicates")
PY
    expect_refusal "width=3.*values are: 2, 6" "$hetsweep" report width.h5 --where width=3
    expect_refusal "noise.*not an axis.*fixed at 0" "$hetsweep" report width.h5 --rows noise
    expect_refusal "--metric bogus.*true_signal" "$hetsweep" report width.h5 --metric bogus
    expect_refusal "choose the table's rows with --rows" "$hetsweep" report width.h5 --where heterogeneity=1
    expect_refusal "already used" "$hetsweep" report width.h5 --rows width --cols width
    ;;
  export)
    half_done half.h5
    "$hetsweep" status --json half.h5 >half.json
    "$hetsweep" export half.h5 --csv half.csv
    "$hetsweep" export half.h5 --csv - >stdout.csv
    cmp -s half.csv stdout.csv || fail "export to - differs from export to a file"
    before=$(sha256sum half.csv)
    expect_refusal "half.csv: exists.*--force" "$hetsweep" export half.h5 --csv half.csv
    [[ $(sha256sum half.csv) == "$before" ]] || fail "a refused export changed the existing CSV"
    "$hetsweep" export half.h5 --csv half.csv --force
    expect_refusal "no/such/dir" "$hetsweep" export half.h5 --csv no/such/dir/x.csv
    $python - <<'PY' || fail "the exported CSV disagrees with status --json or /runs"
import json, h5py, numpy as np, pandas
# pandas' default float parser may be one unit in the last place off; round_trip reads the shortest
# representations written back to the same doubles.
frame = pandas.read_csv("half.csv", float_precision="round_trip")
status = json.load(open("half.json"))
with h5py.File("half.h5", "r") as f:
    runs = f["runs"][:]
assert len(frame) == status["total"] == len(runs), (len(frame), status["total"])
counts = frame["status"].value_counts().to_dict()
assert {k: v for k, v in status["counts"].items() if v} == counts, (status["counts"], counts)
assert (frame["run"].to_numpy() == runs["run"]).all()
assert (frame["key"].astype("uint64").to_numpy() == runs["key"]).all()
assert (frame["seed"].astype("uint64").to_numpy() == runs["seed"]).all()
pending = frame["status"] == "pending"
metrics = ["final_true_signal", "final_spurious_signal", "final_err_invariant", "final_err_pooled", "final_loss"]
for column in metrics + ["finished_at", "wall_seconds"]:
    assert frame.loc[pending, column].isna().all(), column
for column in metrics:  # full precision: the same doubles as the file, bit for bit
    read, stored = frame.loc[~pending, column].to_numpy(), runs[column][~pending.to_numpy()]
    assert np.array_equal(read, stored, equal_nan=True), (column, read[:3], stored[:3])
for axis in ("heterogeneity", "step_size"):
    assert np.array_equal(frame[axis].to_numpy(), runs[axis]), axis
text = lambda column: [np.asarray(c).tobytes().rstrip(b"\0").decode() for c in column]
for axis in ("algorithm", "sensing"):
    assert frame[axis].tolist() == text(runs[axis]), axis
assert (frame["dim"] == 8).all() and (frame["basis"] == "random").all()  # fixed parameters, decoded
print(f"export: {len(frame)} rows, {counts}, metrics bit-identical")
PY
    ;;
  *) fail "unknown case $case" ;;
esac
echo "PASS: $case"
