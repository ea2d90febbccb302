"""Opening a results file (format hetsweep-1 or hetsweep-2) as a pandas DataFrame of runs, an xarray cube of
final metrics, or xarray trajectories. Each function gives the same objects for both formats; with
live=True it reads a file a sweep is still writing (an HDF5 SWMR reader)."""

import contextlib

import h5netcdf
import h5py
import numpy as np
import pandas as pd
import xarray as xr

from .layout import (CHOICE_PARAMETERS, DIRECTION_NAMES, FORMATS, METRIC_LONG_NAMES, METRICS, ORIGIN_NAMES,
                     PARAMETERS as PARAMETER_ORDER, RUN_COLUMNS, STATUS_NAMES)


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _live_options(live):
    """h5py.File options for reading a file a sweep may be writing: SWMR, and no file lock, since a reader's
    lock taken while the sweep creates the file would make the sweep's own open fail."""
    return {"swmr": True, "locking": False} if live else {}


@contextlib.contextmanager
def _open_checked(path, live):
    """The file opened with h5py, after checking its format attribute; and that format."""
    with h5py.File(path, "r", **_live_options(live)) as file:
        found = _text(file.attrs.get("format"))
        if found not in FORMATS:
            raise ValueError(f"{path}: format attribute is {found!r}, expected one of "
                             f"{', '.join(map(repr, FORMATS))}: not a hetsweep results file")
        yield file, found


def _root_attrs(file):
    return {name: _text(value) for name, value in file.attrs.items()}


def _read_runs(path, file):
    """/runs as a numpy structured array, after checking it has every column."""
    runs = file.get("runs")
    if not isinstance(runs, h5py.Dataset):
        raise ValueError(f"{path}: no /runs dataset")
    missing = [name for name in RUN_COLUMNS if name not in (runs.dtype.names or ())]
    if missing:
        raise ValueError(f"{path}: /runs has no field {', '.join(missing)}")
    return runs[()]


def _strings(column):
    """A column of names as str: fixed-length strings (hetsweep-1), char arrays ('S1', (n,)) (hetsweep-2), or
    variable-length strings (/axes)."""
    column = np.asarray(column)
    if column.dtype.kind == "S" and column.ndim == 2:  # one row of n one-byte strings per run
        column = np.ascontiguousarray(column).view(f"S{column.shape[1]}")[:, 0]
    if column.dtype.kind == "S":
        return np.char.decode(column, "utf-8")
    if column.dtype.kind == "O":
        return np.array([_text(v) for v in column], dtype=str)
    return column


def _status_codes(path, where, codes):
    codes = np.asarray(codes).astype(np.int64)
    bad = np.flatnonzero((codes < 0) | (codes >= len(STATUS_NAMES)))
    if bad.size:
        raise ValueError(f"{path}: {where}: status code {codes[bad[0]]} at index {bad[0]} is not one of "
                         f"{dict(enumerate(STATUS_NAMES))}")
    return codes


def _coded(path, where, codes, names):
    """Codes 0..len(names)-1 as a Categorical of `names`."""
    codes = np.asarray(codes).astype(np.int64)
    bad = np.flatnonzero((codes < 0) | (codes >= len(names)))
    if bad.size:
        raise ValueError(f"{path}: {where}: code {codes[bad[0]]} at index {bad[0]} is not one of "
                         f"{dict(enumerate(names))}")
    return pd.Categorical.from_codes(codes, categories=list(names))


def _origins(path, runs):
    """Each run's origin (grid or refine); grid for every run of a file without the field."""
    if "origin" in (runs.dtype.names or ()):
        return _coded(path, "/runs field origin", runs["origin"], ORIGIN_NAMES)
    return pd.Categorical(["grid"] * len(runs), categories=list(ORIGIN_NAMES))


def _status_names(path, where, codes):
    return np.asarray(STATUS_NAMES)[_status_codes(path, where, codes)]


def _axis_values(file):
    """Each grid axis's values, in the file's /axes order (choices as str)."""
    axes = file.get("axes")
    if not isinstance(axes, h5py.Group):
        return {}
    return {name: _strings(dataset[()]) for name, dataset in axes.items() if isinstance(dataset, h5py.Dataset)}


def _categorical(values, order):
    """Names as a Categorical whose categories are the axis order (when swept), then any other value present."""
    order = list(order) if order is not None else []
    return pd.Categorical(values, categories=order + sorted(set(values.tolist()) - set(order)))


def _runs_frame(path, runs, axes):
    columns = {}
    for name in runs.dtype.names:
        column = runs[name]
        if name in CHOICE_PARAMETERS:
            order = axes[name].tolist() if name in axes else None
            columns[name] = _categorical(_strings(column), order)
        elif name == "status":
            codes = _status_codes(path, "/runs field status", column)
            columns[name] = pd.Categorical.from_codes(codes, categories=list(STATUS_NAMES))
        elif name == "origin":
            columns[name] = _origins(path, runs)
        elif name == "finished_at":  # Unix time, 0 while pending
            seconds = np.where(column > 0, column, np.nan)
            columns[name] = pd.to_datetime(seconds, unit="s", utc=True)
        else:
            columns[name] = column
    if "origin" not in columns:
        columns["origin"] = _origins(path, runs)
    return pd.DataFrame(columns)


def open_runs(path, live=False):
    """/runs as a DataFrame, one row per run: run, key, every parameter (choices as Categoricals of str, in
    axis order when swept), replicate, seed, status (a Categorical of pending, done, diverged, failed),
    steps_done, wall_seconds, finished_at (UTC timestamps, NaT while pending) and final_<metric> (NaN while
    pending; for diverged runs the state they diverged in), and origin (a Categorical: grid, or refine for the
    runs adaptive refinement added off the grid; grid for every run of a file without the field). The root
    attributes are in .attrs."""
    with _open_checked(path, live) as (file, _):
        runs = _read_runs(path, file)
        axes = _axis_values(file)
        attrs = _root_attrs(file)
    frame = _runs_frame(path, runs, axes)
    frame.attrs.update(attrs)
    return frame


def _require_group(path, file, group):
    if not isinstance(file.get(group), h5py.Group):
        raise ValueError(f"{path}: no /{group} group")


def _open_group(path, group, live):
    """One group of the file as a lazily read Dataset (closing it closes the file)."""
    # h5netcdf passes the live options on to h5py; xarray.open_dataset cannot, so the store is built by
    # hand. Dimensions without a scale (hetsweep-1's run dimension) get phony names.
    file = h5netcdf.File(path, "r", phony_dims="access", decode_vlen_strings=True, **_live_options(live))
    try:
        return xr.open_dataset(xr.backends.H5NetCDFStore(file, group=group))
    except BaseException:
        file.close()
        raise


def _cube_status_from_runs(path, cube, runs):
    """For a file without /cube/status (hetsweep-1): each run's status placed at its axis values and
    replicate."""
    dims = cube["final_" + METRICS[0]].dims
    codes = np.zeros([cube.sizes[d] for d in dims], dtype=np.int8)
    index = []
    for dim in dims:
        if dim not in runs.dtype.names:
            raise ValueError(f"{path}: /cube dimension {dim} is not a /runs field")
        index.append(pd.Index(cube[dim].values).get_indexer(_strings(runs[dim])))
    placed = np.all([i >= 0 for i in index], axis=0)
    codes[tuple(i[placed] for i in index)] = _status_codes(path, "/runs field status", runs["status"])[placed]
    return xr.DataArray(codes, dims=dims)


def open_cube(path, live=False):
    """/cube as an in-memory Dataset: final_<metric> over (axes..., replicate), NaN in every cell whose run is
    not done, and status (str names) over the same dimensions; axis values as coordinates."""
    with _open_checked(path, live) as (file, _):
        _require_group(path, file, "cube")
        runs = None if "status" in file["cube"] else _read_runs(path, file)
        attrs = _root_attrs(file)
    with _open_group(path, "cube", live) as stored:
        cube = stored.load()
    codes = cube["status"] if runs is None else _cube_status_from_runs(path, cube, runs)
    status = xr.DataArray(_status_names(path, "/cube/status", codes.values), dims=codes.dims,
                          attrs={"long_name": "run status"})
    cube = cube.assign(status=status)
    for metric in METRICS:  # hetsweep-1 keeps diverged values in the cube; hetsweep-2 already has NaN
        cube["final_" + metric] = cube["final_" + metric].where(cube.status == "done")
    cube.attrs.update(attrs)
    return cube


def open_trajectories(path, live=False):
    """/trajectories as a Dataset (close it, or use `with`): the five metrics over (run, step), NaN where not
    reached, with per-run coordinates: every grid axis, replicate, status and origin (str names). hetsweep-2
    files are read lazily; hetsweep-1 files (which h5netcdf cannot open: their run dimension has no scale) at
    once. A file being written may show trajectory rows of refinement runs whose /runs rows are not there
    yet (they are added last): those are left out."""
    with _open_checked(path, live) as (file, found):
        _require_group(path, file, "trajectories")
        runs = _read_runs(path, file)
        attrs = _root_attrs(file)
        if found == "hetsweep-1":
            trajectories = _read_trajectories_version_1(path, file, runs)
    if found != "hetsweep-1":
        trajectories = _open_group(path, "trajectories", live)
    try:
        n = trajectories.sizes["run"]
        if len(runs) < n and live:
            trajectories = trajectories.isel(run=slice(0, len(runs)))
            n = len(runs)
        if len(runs) < n:
            raise ValueError(f"{path}: /runs has {len(runs)} rows, /trajectories {n}")
        status = _status_names(path, "/runs field status", runs["status"][:n])
        origin = np.asarray(_origins(path, runs[:n]).astype(str))
        with_status = trajectories.assign_coords(status=("run", status, {"long_name": "run status"}),
                                                 origin=("run", origin, {"long_name": "run origin"}))
    except BaseException:
        trajectories.close()
        raise
    with_status.set_close(trajectories.close)  # assign_coords returns a Dataset that would not close the file
    with_status.attrs.update(attrs)
    return with_status


def _read_trajectories_version_1(path, file, runs):
    """hetsweep-1: the metrics and steps as stored, the per-run coordinates taken from /runs."""
    group = file["trajectories"]
    missing = [name for name in ("step", *METRICS) if name not in group]
    if missing:
        raise ValueError(f"{path}: no /trajectories/{', /trajectories/'.join(missing)}")
    step = group["step"][()]
    metrics = {m: group[m][()] for m in METRICS}
    n = metrics[METRICS[0]].shape[0]
    if len(runs) < n:
        raise ValueError(f"{path}: /runs has {len(runs)} rows, /trajectories {n}")
    coordinates = {"run": np.arange(n), "step": step}
    for name in (*_axis_values(file), "replicate"):
        coordinates[name] = ("run", _strings(runs[name][:n]))
    variables = {m: (("run", "step"), values, {"long_name": METRIC_LONG_NAMES[m]}) for m, values in metrics.items()}
    return xr.Dataset(variables, coords=coordinates)


def open_boundary(path, live=False):
    """/boundary as a DataFrame, one row per crossing adaptive refinement located: the other axes' values, lo
    and hi (the bracket on the refine axis), direction (a Categorical: down, the metric falls below the
    threshold as the axis grows; up), estimate (linear interpolation of the replicate means) and runs (spent
    locating it). .attrs holds axis, metric, threshold and tolerance, and the root attributes. A file without
    /boundary (its spec has no refine block) is refused with a ValueError."""
    with _open_checked(path, live) as (file, _):
        group = file.get("boundary")
        if not isinstance(group, h5py.Group):
            raise ValueError(f"{path}: no /boundary group: the file's sweep spec has no refine block, or it was "
                             "made before refinement existed")
        if live:
            for dataset in group.values():
                dataset.refresh()
        n = group["crossing"].shape[0]  # written last: the crossings complete in every column
        axes = [name for name in group if name not in ("crossing", "lo", "hi", "direction", "estimate", "runs")]
        order = [name for name in PARAMETER_ORDER if name in axes]
        columns = {}
        for name in order:
            values = group[name][:n]
            columns[name] = _strings(values) if values.dtype.kind in "OS" else values
        for name in ("lo", "hi"):
            columns[name] = group[name][:n]
        columns["direction"] = _coded(path, "/boundary/direction", group["direction"][:n], DIRECTION_NAMES)
        columns["estimate"] = group["estimate"][:n]
        columns["runs"] = group["runs"][:n]
        attrs = {name: _text(value) for name, value in group.attrs.items() if name != "long_name"}
        attrs = {name: float(value) if isinstance(value, np.floating) else value for name, value in attrs.items()}
        root = _root_attrs(file)
    frame = pd.DataFrame(columns)
    frame.attrs.update(root)
    frame.attrs.update(attrs)
    return frame
