#!/usr/bin/python3
"""Results files of a refining sweep compared by run key, for tests/cli/refine_run.sh (run with /usr/bin/python3).

  refine_rows.py same A.h5 B.h5
      Exit 0 when A and B hold the same runs by key: every /runs field bit for bit but `run` (the row, which
      follows the order results arrived in), wall_seconds and finished_at; every /trajectories metric row of
      each key bit for bit; and the same /boundary (every column, in order). Prints the runs compared.
  refine_rows.py midway FILE.h5
      Exit 0 when FILE holds refinement rows of which some are finished and some pending (a sweep caught
      while it refines); 1 otherwise, or while the file cannot be read yet. For polling, so it prints nothing.
"""

import sys

import h5py
import numpy as np

METRICS = ("true_signal", "spurious_signal", "err_invariant", "err_pooled", "loss")
NOT_COMPARED = ("run", "wall_seconds", "finished_at")
PENDING, REFINE = 0, 1


def bits(value):
    return np.ascontiguousarray(value).tobytes()


def by_key(file):
    runs = file["runs"][()]
    trajectories = {m: file["trajectories"][m][()] for m in METRICS}
    rows = {}
    for row, record in enumerate(runs):
        fields = {name: bits(record[name]) for name in runs.dtype.names if name not in NOT_COMPARED}
        for metric in METRICS:
            fields[f"trajectory {metric}"] = bits(trajectories[metric][row])
        key = int(record["key"])
        if key in rows:
            sys.exit(f"refine_rows: {file.filename}: key {key} twice")
        rows[key] = fields
    return rows, runs


def boundary(file):
    group = file["boundary"]
    return {name: group[name][()].tolist() for name in sorted(group.keys())}


def same(path_a, path_b):
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        rows_a, runs_a = by_key(a)
        rows_b, _ = by_key(b)
        problems = [f"key {k}: only in {path_a if k in rows_a else path_b}" for k in sorted(rows_a.keys() ^ rows_b.keys())]
        for key in sorted(rows_a.keys() & rows_b.keys()):
            for field in rows_a[key]:
                if rows_a[key][field] != rows_b[key].get(field):
                    problems.append(f"key {key}: {field} differs")
        boundary_a, boundary_b = boundary(a), boundary(b)
        if boundary_a != boundary_b:
            problems.append(f"/boundary differs: {boundary_a} != {boundary_b}")
        refine_rows = int(np.count_nonzero(runs_a["origin"] == REFINE))
    for problem in problems[:20]:
        print(f"refine_rows: {problem}", file=sys.stderr)
    print(f"refine_rows: {path_a} vs {path_b}: {len(rows_a)} runs ({refine_rows} refinement runs), "
          f"{len(boundary_a.get('lo', []))} crossings, {len(problems)} differences")
    return 1 if problems else 0


def midway(path):
    try:
        with h5py.File(path, "r", swmr=True) as file:
            runs = file["runs"][()]
    except (OSError, KeyError):
        return 1
    refine = runs[runs["origin"] == REFINE]
    pending = int(np.count_nonzero(refine["status"] == PENDING))
    return 0 if 0 < pending < len(refine) else 1


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "same" and len(sys.argv) == 4:
        sys.exit(same(sys.argv[2], sys.argv[3]))
    if command == "midway" and len(sys.argv) == 3:
        sys.exit(midway(sys.argv[2]))
    sys.exit(__doc__)
