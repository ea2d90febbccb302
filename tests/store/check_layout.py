"""Checks a hetsweep-1 results file the way researchers read it: h5py, pandas, xarray + h5netcdf, h5dump.

usage: check_layout.py FILE [--live] [--fake-values]

--live         the writer still has FILE open: open everything in SWMR mode, skip h5dump (HDF5 1.10's
               h5dump cannot open a file a SWMR writer holds).
--fake-values  FILE was written by write_sample_file: also check every value against the formula of
               tests/store/fake_sweep.hpp.
Exits non-zero with a message on the first failed check.
"""

import argparse
import re
import subprocess
import sys

import h5py
import h5netcdf
import numpy as np
import pandas as pd
import xarray as xr

METRICS = ["true_signal", "spurious_signal", "err_invariant", "err_pooled", "loss"]
PARAMETERS = [
    ("dim", "i8"), ("invariant_rank", "i8"), ("spurious_rank", "i8"), ("width", "i8"), ("environments", "i8"),
    ("heterogeneity", "f8"), ("spurious_mean", "f8"), ("noise", "f8"), ("sensing", "S"), ("basis", "S"),
    ("algorithm", "S"), ("schedule", "S"), ("sampler", "S"), ("step_size", "f8"), ("batch_size", "i8"),
    ("steps", "i8"), ("init_scale", "f8"), ("record_every", "i8"), ("divergence_threshold", "f8"),
]
COLUMNS = (
    [("run", "i8"), ("key", "u8")] + PARAMETERS
    + [("replicate", "i8"), ("seed", "u8"), ("status", "i1"), ("steps_done", "i8"), ("wall_seconds", "f8"),
       ("finished_at", "f8")]
    + [("final_" + m, "f8") for m in METRICS]
)
PENDING, DONE, DIVERGED, FAILED = 0, 1, 2, 3


def check(condition, message):
    if not condition:
        sys.exit(f"check_layout: FAILED: {message}")


def fake_value(row, step, metric):
    """tests/store/fake_sweep.hpp: fake_value()."""
    return row * 1000.0 + step + METRICS.index(metric) * 0.125


def check_runs(f):
    runs = f["runs"]
    check(runs.chunks is not None and runs.maxshape == (None,), "/runs is chunked and extensible")
    names = [name for name, _ in COLUMNS]
    check(list(runs.dtype.names) == names, f"/runs columns {runs.dtype.names} are {names}")
    for name, kind in COLUMNS:
        stored = runs.dtype[name]
        if kind == "S":
            check(stored.kind == "S" and stored.itemsize > 0, f"/runs {name} is a fixed-length string")
        else:
            check(stored.str.lstrip("<|") == kind, f"/runs {name} is {kind}, not {stored}")
    check(h5py.check_enum_dtype(runs.dtype["status"]) == {"pending": 0, "done": 1, "diverged": 2, "failed": 3},
          "/runs status is an enum pending=0 done=1 diverged=2 failed=3")

    table = pd.DataFrame(runs[:])
    check(list(table.columns) == names, "the DataFrame has the /runs columns")
    check((table["run"].to_numpy() == np.arange(len(table))).all(), "run is the row index")
    check(table["key"].is_unique, "run keys are unique")
    pending = table[table.status == PENDING]
    check(np.isnan(pending[["final_" + m for m in METRICS]].to_numpy()).all(), "pending rows have NaN finals")
    check((pending.finished_at == 0).all(), "pending rows have finished_at 0")
    # A diverged run's finals are the state it diverged in, which may be infinite or NaN.
    done = table[table.status == DONE]
    check(np.isfinite(done[["final_" + m for m in METRICS]].to_numpy()).all(), "done rows have finite finals")
    finished = table[table.status != PENDING]
    check((finished.finished_at > 1.5e9).all(), "finished rows have a unix finished_at")
    check(table.algorithm.isin([b"hetero", b"pooled", b"hetero_gd", b"pooled_gd"]).all(),
          "choice parameters are stored as their names")
    return table


def check_trajectories(f, table, fake_values):
    step = f["trajectories/step"][:]
    check(step.dtype == np.int64 and (np.diff(step) > 0).all(), "/trajectories/step is sorted int64")
    for metric in METRICS:
        values = f["trajectories/" + metric]
        check(values.shape == (len(table), len(step)), f"/trajectories/{metric} is [runs, records]")
        check(values.maxshape == (None, None), f"/trajectories/{metric} is extensible in both dimensions")
        check(np.isnan(values.fillvalue), f"/trajectories/{metric} has fill value NaN")
        check([s.name for s in values.dims[1].values()] == ["/trajectories/step"],
              f"/trajectories/step is the dimension scale of /trajectories/{metric} dimension 1")
        data = values[:]
        for row in table.itertuples():
            reached = step <= row.steps_done
            if row.status == PENDING or row.status == FAILED:
                check(np.isnan(data[row.run]).all(), f"{metric} of unfinished row {row.run} is NaN")
                continue
            check(np.isnan(data[row.run][~reached]).all(), f"{metric} of row {row.run} is NaN after its end")
            if row.status == DONE:
                last = np.flatnonzero(step == row.steps_done)
                check(len(last) == 1 and data[row.run][last[0]] == getattr(row, "final_" + metric),
                      f"the last {metric} of done row {row.run} is its final value")
            if fake_values:
                check(getattr(row, "final_" + metric) == fake_value(row.run, row.steps_done, metric),
                      f"final_{metric} of row {row.run}")
                run_steps = [s for s in step if s <= row.steps_done and (s % row.record_every == 0 or s == row.steps)]
                for s in run_steps:
                    column = int(np.flatnonzero(step == s)[0])
                    check(data[row.run][column] == fake_value(row.run, s, metric),
                          f"{metric} of row {row.run} at step {s}")


def axis_values(f, name):
    values = f["axes/" + name][:]
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def check_cube(f, dataset, table):
    axes = list(f["axes"].keys())
    for metric in METRICS:
        cube = dataset["final_" + metric]
        check(list(cube.dims)[-1] == "replicate", f"final_{metric}'s last dimension is replicate")
        check(sorted(cube.dims[:-1]) == sorted(axes), f"final_{metric} has one dimension per axis")
        for axis in axes:
            check(list(cube[axis].values) == axis_values(f, axis), f"cube coordinate {axis} holds /axes/{axis}")
        for row in table.itertuples():
            where = {axis: (getattr(row, axis).decode() if isinstance(getattr(row, axis), bytes)
                            else getattr(row, axis)) for axis in cube.dims[:-1]}
            where["replicate"] = row.replicate
            value = float(cube.sel(where).values)
            final = getattr(row, "final_" + metric)
            if np.isnan(final):
                check(np.isnan(value), f"final_{metric} of row {row.run} is NaN in the cube")
            else:
                check(value == final, f"final_{metric} of row {row.run} sits at its axis values in the cube")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--fake-values", action="store_true")
    args = parser.parse_args()

    with h5py.File(args.file, "r", swmr=True) as f:
        check(f.attrs["format"] == "hetsweep-1", "format attribute is hetsweep-1")
        for name in ["hetsweep_version", "spec", "fingerprint", "created"]:
            check(isinstance(f.attrs.get(name), str), f"root attribute {name} is a string")
        check(re.fullmatch(r"[0-9a-f]{16}", f.attrs["fingerprint"]), "fingerprint is 16 hex digits")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", f.attrs["created"]), "created is ISO 8601 UTC")
        table = check_runs(f)
        check_trajectories(f, table, args.fake_values)
        if args.live:
            # xarray cannot pass swmr=True through open_dataset; an h5netcdf file opened with it can be wrapped.
            with h5netcdf.File(args.file, "r", swmr=True, decode_vlen_strings=True) as nc:
                check_cube(f, xr.open_dataset(xr.backends.H5NetCDFStore(nc, group="cube")), table)
        else:
            with xr.open_dataset(args.file, group="cube", engine="h5netcdf") as dataset:
                check_cube(f, dataset, table)
        counts = table.status.value_counts().to_dict()

    if not args.live:
        dump = subprocess.run(["h5dump", "-H", args.file], capture_output=True, text=True)
        check(dump.returncode == 0, f"h5dump -H exits 0 (stderr: {dump.stderr.strip()})")
        check("DATASET \"runs\"" in dump.stdout, "h5dump -H lists /runs")
    print(f"check_layout: {args.file}: OK ({len(table)} rows, status counts {counts})")


if __name__ == "__main__":
    main()
