"""Checks a hetsweep-2 results file the way researchers read it: h5py, pandas, xarray with both netCDF engines
(h5netcdf and netcdf4), ncdump and h5dump.

usage: check_layout.py FILE [--live] [--fake-values]

--live         the writer still has FILE open: open it with h5py and h5netcdf in SWMR mode only, skip the
               netCDF-C readers and h5dump (HDF5 1.10 cannot open a file a SWMR writer holds without SWMR).
--fake-values  FILE was written by write_sample_file: also check every value against the formula of
               tests/store/fake_sweep.hpp.
Exits non-zero with a message on the first failed check.
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

import h5py
import h5netcdf
import numpy as np
import pandas as pd
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))  # the package, when not installed
from hetsweep import CHOICE_PARAMETERS as CHOICES  # noqa: E402
from hetsweep import METRICS, PARAMETER_KINDS, STATUS_CODES, STATUS_NAMES  # noqa: E402

# The numpy type of each /runs column ("S": a char array of the choice names).
PARAMETERS = [(name, {"int": "i8", "real": "f8", "choice": "S"}[kind]) for name, kind in PARAMETER_KINDS.items()]
COLUMNS = (
    [("run", "i8"), ("key", "u8")] + PARAMETERS
    + [("replicate", "i8"), ("seed", "u8"), ("status", "i1"), ("steps_done", "i8"), ("wall_seconds", "f8"),
       ("finished_at", "f8")]
    + [("final_" + m, "f8") for m in METRICS]
    + [("origin", "i1")]
)
PENDING, DONE, DIVERGED, FAILED = (STATUS_CODES[name] for name in ("pending", "done", "diverged", "failed"))
STATUS_MEANINGS = " ".join(STATUS_NAMES)


def check(condition, message):
    if not condition:
        sys.exit(f"check_layout: FAILED: {message}")


def fake_value(row, step, metric):
    """tests/store/fake_sweep.hpp: fake_value()."""
    return row * 1000.0 + step + METRICS.index(metric) * 0.125


def text(value):
    return value.decode() if isinstance(value, bytes) else value


def scale_names(dataset, dim):
    return [scale.name for scale in dataset.dims[dim].values()]


def check_flags(obj, prefix, where):
    values = obj.attrs[prefix + "flag_values"]
    check(list(values) == [0, 1, 2, 3] and values.dtype == np.int8, f"{where} {prefix}flag_values is int8 [0, 1, 2, 3]")
    check(obj.attrs[prefix + "flag_meanings"] == STATUS_MEANINGS, f"{where} {prefix}flag_meanings")


def check_fletcher32(f):
    """Every chunked dataset but those of variable-length strings, where HDF5 allows no filter."""
    chunked = []
    f.visititems(lambda name, obj: chunked.append(obj) if isinstance(obj, h5py.Dataset) and obj.chunks else None)
    check(len(chunked) >= 8, f"the file has chunked datasets ({len(chunked)})")
    for dataset in chunked:
        string = h5py.check_string_dtype(dataset.dtype)
        if string is not None and string.length is None:
            continue
        check(dataset.fletcher32, f"{dataset.name} is chunked and has the Fletcher32 filter")


def decoded_runs(runs):
    """/runs as a DataFrame with one column per field, the choice char arrays as str."""
    raw = runs[:]
    columns = {}
    for name in raw.dtype.names:
        if name in CHOICES:
            width = raw.dtype[name].shape[0]
            columns[name] = [v.decode() for v in raw[name].view(f"S{width}")[:, 0]]
        else:
            columns[name] = raw[name]
    return pd.DataFrame(columns)


def check_runs(f):
    check(isinstance(f.get("run_row"), h5py.Datatype), "/run_row is a committed datatype")
    runs = f["runs"]
    check(runs.id.get_type().committed(), "/runs has the committed type /run_row")
    check(runs.dtype == f["run_row"].dtype, "/runs' type is /run_row")
    check(runs.chunks is not None and runs.maxshape == (None,), "/runs is chunked and extensible")
    names = [name for name, _ in COLUMNS]
    check(list(runs.dtype.names) == names, f"/runs columns {runs.dtype.names} are {names}")
    for name, kind in COLUMNS:
        stored = runs.dtype[name]
        if kind == "S":
            check(stored.subdtype is not None and stored.subdtype[0] == np.dtype("S1") and stored.shape[0] > 1,
                  f"/runs {name} is an array of one-byte strings, not {stored}")
        else:
            check(stored.str.lstrip("<|") == kind, f"/runs {name} is {kind}, not {stored}")
    check(h5py.check_enum_dtype(runs.dtype["status"]) is None, "/runs status is a plain int8, not an enum")
    check_flags(runs, "status_", "/runs")
    origin_values = runs.attrs["origin_flag_values"]
    check(list(origin_values) == [0, 1] and origin_values.dtype == np.int8, "/runs origin_flag_values is int8 [0, 1]")
    check(runs.attrs["origin_flag_meanings"] == "grid refine", "/runs origin_flag_meanings")
    check(set(runs["origin"][:].tolist()) <= {0}, "/runs rows of a sweep without refinement are grid rows")
    check(runs.attrs["long_name"].startswith("one row per run"), "/runs long_name")

    run = f["run"]
    check(h5py.h5ds.is_scale(run.id) and run.maxshape == (None,), "/run is an extensible dimension scale")
    check(scale_names(runs, 0) == ["/run"], "/run is the dimension scale of /runs")
    check((run[:] == np.arange(len(runs))).all(), "/run is 0..n-1")

    table = decoded_runs(runs)
    check(list(table.columns) == names, "the DataFrame has the /runs columns")
    check((table["run"].to_numpy() == np.arange(len(table))).all(), "run is the row index")
    check(table["key"].is_unique, "run keys are unique")
    check(table.status.isin([PENDING, DONE, DIVERGED, FAILED]).all(), "status is 0..3")
    pending = table[table.status == PENDING]
    check(np.isnan(pending[["final_" + m for m in METRICS]].to_numpy()).all(), "pending rows have NaN finals")
    check((pending.finished_at == 0).all(), "pending rows have finished_at 0")
    # A diverged run's finals are the state it diverged in, which may be infinite or NaN.
    done = table[table.status == DONE]
    check(np.isfinite(done[["final_" + m for m in METRICS]].to_numpy()).all(), "done rows have finite finals")
    finished = table[table.status != PENDING]
    check((finished.finished_at > 1.5e9).all(), "finished rows have a unix finished_at")
    check(table.algorithm.isin(["hetero", "pooled", "hetero_gd", "pooled_gd"]).all(),
          "choice parameters are stored as their names")
    check(table.sampler.isin(["auto", "exact", "materialized"]).all(), "the longest choice name fits")
    return table


def axis_names(f):
    """The grid axes (in the order of their names)."""
    return list(f["axes"].keys())


def check_trajectories(f, table, fake_values):
    group = f["trajectories"]
    step = group["step"][:]
    check(step.dtype == np.int64 and (np.diff(step) > 0).all(), "/trajectories/step is sorted int64")
    check(group["step"].attrs["long_name"] == "SGD step", "/trajectories/step long_name")
    run = group["run"]
    check(h5py.h5ds.is_scale(run.id) and (run[:] == np.arange(len(table))).all(),
          "/trajectories/run is the scale 0..n-1")
    coordinates = axis_names(f) + ["replicate"]
    for name in coordinates:
        values = group[name]
        check(values.shape == (len(table),) and values.maxshape == (None,), f"/trajectories/{name} is [runs]")
        check(scale_names(values, 0) == ["/trajectories/run"], f"/trajectories/{name} lies along run")
        check(isinstance(values.attrs["long_name"], str) and values.attrs["units"] == "1",
              f"/trajectories/{name} has long_name and units")
        stored = values[:]
        if name in CHOICES:
            check(h5py.check_string_dtype(values.dtype).length is None
                  and h5py.check_string_dtype(values.dtype).encoding == "utf-8",
                  f"/trajectories/{name} is variable-length UTF-8")
            stored = [v.decode() for v in stored]
        check(list(stored) == list(table[name]), f"/trajectories/{name} holds each row's {name}")
    for metric in METRICS:
        values = group[metric]
        check(values.shape == (len(table), len(step)), f"/trajectories/{metric} is [runs, records]")
        check(values.maxshape == (None, None), f"/trajectories/{metric} is extensible in both dimensions")
        check(np.isnan(values.fillvalue), f"/trajectories/{metric} has fill value NaN")
        check(scale_names(values, 0) == ["/trajectories/run"] and scale_names(values, 1) == ["/trajectories/step"],
              f"/trajectories/{metric} lies along run and step")
        named = values.attrs["coordinates"].split()
        check(sorted(named) == sorted(coordinates), f"/trajectories/{metric} coordinates attribute names {named}")
        check(values.attrs["units"] == "1" and values.attrs["long_name"], f"/trajectories/{metric} long_name, units")
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


def check_trajectories_dataset(dataset, table, engine):
    """/trajectories through xarray: dims run and step, the per-run values as coordinates."""
    where = f"xarray ({engine}) /trajectories"
    check(dict(dataset.dims) == {"run": len(table), "step": dataset.step.size}, f"{where} dims are run and step")
    spurious = dataset.spurious_signal
    check(spurious.dims == ("run", "step"), f"{where} spurious_signal is [run, step]")
    for name in ["algorithm", "replicate"]:
        check(name in spurious.coords, f"{where} {name} is a coordinate of spurious_signal")
    check(list(dataset.algorithm.values) == list(table.algorithm), f"{where} algorithm holds each row's algorithm")
    hetero = spurious.where(dataset.algorithm == "hetero")
    is_hetero = (table.algorithm == "hetero").to_numpy()
    values = spurious.values
    check(np.isnan(hetero.values[~is_hetero]).all(), f"{where} where(algorithm == 'hetero') masks the other rows")
    check(np.array_equal(hetero.values[is_hetero], values[is_hetero], equal_nan=True),
          f"{where} where(algorithm == 'hetero') keeps the hetero rows")
    by_algorithm = spurious.groupby("algorithm").mean()
    check(set(by_algorithm.algorithm.values) == set(table.algorithm), f"{where} groupby algorithm")


def check_cube(f, dataset, table, engine):
    where = f"xarray ({engine}) /cube"
    axes = axis_names(f)
    status = dataset["status"]
    check(status.dtype == np.int8, f"{where} status is int8")
    check(list(status.attrs["flag_values"]) == [0, 1, 2, 3] and status.attrs["flag_meanings"] == STATUS_MEANINGS,
          f"{where} status has flag_values and flag_meanings")
    check(sorted(status.dims[:-1]) == sorted(axes) and status.dims[-1] == "replicate",
          f"{where} status lies along the axes and replicate")
    for metric in METRICS:
        cube = dataset["final_" + metric]
        check(list(cube.dims)[-1] == "replicate", f"final_{metric}'s last dimension is replicate")
        check(sorted(cube.dims[:-1]) == sorted(axes), f"final_{metric} has one dimension per axis")
        check(cube.attrs["units"] == "1" and cube.attrs["long_name"], f"final_{metric} long_name and units")
        for axis in axes:
            check([text(v) for v in cube[axis].values] == [text(v) for v in f["axes/" + axis][:]],
                  f"cube coordinate {axis} holds /axes/{axis}")
            check(dataset[axis].attrs["units"] == "1", f"{where} {axis} has units")
        for row in table.itertuples():
            cell = {axis: getattr(row, axis) for axis in cube.dims[:-1]}
            cell["replicate"] = row.replicate
            check(int(status.sel(cell).values) == row.status, f"{where} status of row {row.run} is its /runs status")
            value = float(cube.sel(cell).values)
            if row.status == DONE:
                check(value == getattr(row, "final_" + metric), f"final_{metric} of row {row.run} sits in its cell")
            else:
                check(np.isnan(value), f"final_{metric} of row {row.run} (status {row.status}) is NaN in the cube")


def check_root_dataset(dataset, table, engine):
    where = f"xarray ({engine}) root group"
    check(dict(dataset.dims) == {"run": len(table)}, f"{where} has the one dimension run ({dict(dataset.dims)})")
    check("runs" in dataset.variables and dataset.runs.dims == ("run",), f"{where} has runs along run")
    check((dataset.run.values == np.arange(len(table))).all(), f"{where} run is 0..n-1")


def check_netcdf_readers(path, table):
    for engine in ["h5netcdf", "netcdf4"]:
        with xr.open_dataset(path, engine=engine) as dataset:
            check_root_dataset(dataset, table, engine)
        with xr.open_dataset(path, group="trajectories", engine=engine) as dataset:
            check_trajectories_dataset(dataset, table, engine)
        with h5py.File(path, "r") as f, xr.open_dataset(path, group="cube", engine=engine) as dataset:
            check_cube(f, dataset, table, engine)
    dump = subprocess.run(["ncdump", "-h", path], capture_output=True, text=True)
    check(dump.returncode == 0, f"ncdump -h exits 0 (stderr: {dump.stderr.strip()})")
    check("phony_dim" not in dump.stdout, "ncdump -h shows no phony_dim")
    check(re.search(r"run_row runs\(run\)", dump.stdout), "ncdump -h shows runs(run) of type run_row")
    check(re.search(r"double spurious_signal\(run, step\)", dump.stdout), "ncdump -h shows spurious_signal(run, step)")
    check(re.search(r"string algorithm\(run\)", dump.stdout), "ncdump -h shows the per-run coordinate algorithm")
    check(re.search(r"byte status\(", dump.stdout), "ncdump -h shows the cube's status")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--fake-values", action="store_true")
    args = parser.parse_args()

    with h5py.File(args.file, "r", swmr=True) as f:
        check(f.attrs["format"] == "hetsweep-2", "format attribute is hetsweep-2")
        for name in ["hetsweep_version", "spec", "name", "fingerprint", "created"]:
            check(isinstance(f.attrs.get(name), str), f"root attribute {name} is a string")
        check(re.fullmatch(r"[0-9a-f]{16}", f.attrs["fingerprint"]), "fingerprint is 16 hex digits")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", f.attrs["created"]), "created is ISO 8601 UTC")
        check_fletcher32(f)
        table = check_runs(f)
        check_trajectories(f, table, args.fake_values)
        if args.live:
            # xarray cannot pass swmr=True through open_dataset; an h5netcdf file opened with it can be wrapped.
            with h5netcdf.File(args.file, "r", swmr=True, decode_vlen_strings=True) as nc:
                check_trajectories_dataset(xr.open_dataset(xr.backends.H5NetCDFStore(nc, group="trajectories")),
                                           table, "h5netcdf, SWMR")
                check_cube(f, xr.open_dataset(xr.backends.H5NetCDFStore(nc, group="cube")), table, "h5netcdf, SWMR")
        counts = table.status.value_counts().to_dict()

    if not args.live:
        check_netcdf_readers(args.file, table)
        dump = subprocess.run(["h5dump", "-H", args.file], capture_output=True, text=True)
        check(dump.returncode == 0, f"h5dump -H exits 0 (stderr: {dump.stderr.strip()})")
        check("DATASET \"runs\"" in dump.stdout, "h5dump -H lists /runs")
    print(f"check_layout: {args.file}: OK ({len(table)} rows, status counts {counts})")


if __name__ == "__main__":
    main()
