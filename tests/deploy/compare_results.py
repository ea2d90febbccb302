#!/usr/bin/python3
"""Checks hetsweep results files for tests/deploy/slurm_test.sh (needs h5py: run with /usr/bin/python3).

  compare_results.py equal A.h5 B.h5 [--ignore NAME ...]
      Exit 0 when every dataset of A is in B and the other way round, with the same shape, type and bits
      (NaN equals NaN only bit for bit). Datasets and compound fields named wall_seconds or finished_at, or
      a NAME given, are skipped: they record when and how fast, not what. Attributes are not compared.
  compare_results.py complete FILE.h5
      Print the number of /runs rows; exit 0 when none is pending or failed, 1 otherwise.
  compare_results.py finished FILE.h5
      Print the number of /runs rows that are done or diverged (0 while the file cannot be read yet).

/runs may be a compound dataset or a group of one dataset per column; either way its `status` column holds
the RowStatus values (python/hetsweep/layout.py: STATUS_CODES): int8 in format
hetsweep-2, an HDF5 enum in hetsweep-1. Variable-length strings (the per-run coordinates of /trajectories)
compare by value.
"""

import argparse
import importlib.util
import sys
from pathlib import Path

import h5py
import numpy as np


def _layout():
    """python/hetsweep/layout.py, the one statement of the layout, loaded alone: the package's readers import
    xarray and pandas, too slow for a check polled in loops."""
    path = Path(__file__).resolve().parents[2] / "python" / "hetsweep" / "layout.py"
    spec = importlib.util.spec_from_file_location("hetsweep_layout", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


STATUS_CODES = _layout().STATUS_CODES
DONE, DIVERGED = STATUS_CODES["done"], STATUS_CODES["diverged"]
TIMING = ("wall_seconds", "finished_at")


def datasets(file):
    found = {}
    file.visititems(lambda name, obj: found.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return found


def same_bits(a, b):
    if a.dtype.kind == "O" or b.dtype.kind == "O":  # variable-length strings: compare values, not pointers
        return a.shape == b.shape and a.tolist() == b.tolist()
    return a.dtype == b.dtype and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def first_difference(a, b):
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    for i in range(flat_a.size):
        if not same_bits(flat_a[i : i + 1], flat_b[i : i + 1]):
            return f"first at flat index {i}: {flat_a[i]!r} != {flat_b[i]!r}"
    return "element types differ"


def compare(path_a, path_b, ignored):
    problems = []
    compared = 0
    with h5py.File(path_a, "r") as file_a, h5py.File(path_b, "r") as file_b:
        sets_a, sets_b = datasets(file_a), datasets(file_b)
        for name in sorted(sets_a.keys() ^ sets_b.keys()):
            problems.append(f"/{name}: only in {path_a if name in sets_a else path_b}")
        for name in sorted(sets_a.keys() & sets_b.keys()):
            if name.rsplit("/", 1)[-1] in ignored:
                continue
            a, b = sets_a[name][()], sets_b[name][()]
            if a.shape != b.shape:
                problems.append(f"/{name}: shape {a.shape} != {b.shape}")
                continue
            fields_a, fields_b = a.dtype.names or (), b.dtype.names or ()
            if fields_a != fields_b:
                problems.append(f"/{name}: fields {fields_a} != {fields_b}")
                continue
            columns = [(f"/{name}", a, b)] if not fields_a else [
                (f"/{name}.{field}", a[field], b[field]) for field in fields_a if field not in ignored]
            for label, column_a, column_b in columns:
                compared += column_a.size
                if not same_bits(column_a, column_b):
                    problems.append(f"{label}: differs, {first_difference(column_a, column_b)}")
    for problem in problems:
        print(f"compare_results: {problem}", file=sys.stderr)
    print(f"compare_results: {path_a} vs {path_b}: {compared} values compared, {len(problems)} differences")
    return 0 if not problems else 1


def statuses(path):
    with h5py.File(path, "r", swmr=True) as file:
        runs = file["runs"]
        column = runs["status"] if isinstance(runs, h5py.Group) else runs.fields("status")
        return np.asarray(column[()]).astype(np.int64)


def complete(path):
    status = statuses(path)
    counts = {name: int((status == value).sum()) for name, value in STATUS_CODES.items()}
    print(status.size)
    if counts["pending"] or counts["failed"]:
        print(f"compare_results: {path} is not complete: {counts}", file=sys.stderr)
        return 1
    return 0


def finished(path):
    try:
        status = statuses(path)
    except (OSError, KeyError):  # not created yet, or the writer has not made /runs yet
        print(0)
        return 0
    print(int(np.isin(status, (DONE, DIVERGED)).sum()))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    equal = commands.add_parser("equal")
    equal.add_argument("a")
    equal.add_argument("b")
    equal.add_argument("--ignore", action="append", default=[], metavar="NAME")
    commands.add_parser("complete").add_argument("file")
    commands.add_parser("finished").add_argument("file")
    args = parser.parse_args()
    try:
        if args.command == "equal":
            return compare(args.a, args.b, set(TIMING) | set(args.ignore))
        return complete(args.file) if args.command == "complete" else finished(args.file)
    except (OSError, KeyError) as error:
        print(f"compare_results: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
