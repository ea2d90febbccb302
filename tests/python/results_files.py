"""Results files written with h5py in the layouts hetsweep writes (README, "The results file"): hetsweep-1 as
src/store writes it today, hetsweep-2 as the format is decided, so that the readers can be tested on both
without the binary."""

import itertools
import sys
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
from hetsweep.layout import (DIRECTION_NAMES, METRIC_LONG_NAMES, METRICS, ORIGIN_NAMES, PARAMETER_KINDS,  # noqa: E402
                             STATUS_NAMES)

# Bytes of each choice in /runs, as hetsweep sizes them: its longest name ("hetero_gd", "materialized", ...).
CHOICE_LENGTHS = {"sensing": 8, "basis": 6, "algorithm": 9, "schedule": 6, "sampler": 12}
STATUS_ENUM = h5py.enum_dtype({name: code for code, name in enumerate(STATUS_NAMES)}, basetype="i1")
STATUS_FLAG_VALUES = np.arange(len(STATUS_NAMES), dtype=np.int8)
STATUS_FLAG_MEANINGS = " ".join(STATUS_NAMES)
BASE = {"dim": 6, "invariant_rank": 2, "spurious_rank": 2, "width": 0, "environments": 2, "heterogeneity": 0.0,
        "spurious_mean": 1.0, "noise": 0.0, "sensing": "gaussian", "basis": "axis", "algorithm": "hetero",
        "schedule": "cyclic", "sampler": "materialized", "step_size": 0.05, "batch_size": 40, "steps": 150,
        "init_scale": 1e-3, "record_every": 10, "divergence_threshold": 1e6}


def runs_dtype(fmt, with_origin=False):
    """The /runs row type: choices as fixed-length strings (hetsweep-1) or char arrays (hetsweep-2), status an
    enum (hetsweep-1) or int8 (hetsweep-2); with_origin adds the last field, origin (int8: grid 0, refine 1)."""
    def choice(name):
        n = CHOICE_LENGTHS[name]
        return f"S{n}" if fmt == "hetsweep-1" else ("S1", (n,))

    fields = [("run", "<i8"), ("key", "<u8")]
    for name, kind in PARAMETER_KINDS.items():
        fields.append((name, choice(name) if kind == "choice" else "<i8" if kind == "int" else "<f8"))
    fields += [("replicate", "<i8"), ("seed", "<u8"), ("status", STATUS_ENUM if fmt == "hetsweep-1" else "i1"),
               ("steps_done", "<i8"), ("wall_seconds", "<f8"), ("finished_at", "<f8")]
    fields += [(f"final_{m}", "<f8") for m in METRICS]
    if with_origin:
        fields.append(("origin", "i1"))
    return np.dtype(fields)


def choice_bytes(parameter, name, fmt):
    data = name.encode().ljust(CHOICE_LENGTHS[parameter], b"\0")
    return data if fmt == "hetsweep-1" else np.frombuffer(data, dtype="S1")


def write_results_file(path, fmt, axes, replicates, outcome, base=BASE, refinement=(), refine=None):
    """A results file of format fmt for the grid `axes` (name -> values, in grid order) times replicates over
    base, rows in row-major order with the replicate fastest. outcome(row, params) gives a row's
    (status name, steps_done, finals {metric: value}, trajectory {metric: values at the record steps}); the
    record steps are 0, record_every, ... steps. Returns the /runs array.

    hetsweep-2 only, a refined sweep (README, "Finding the phase boundary"): refine {"axis", "metric",
    "threshold", "tolerance", "crossings"} adds the spec's refine block, the /runs field origin and /boundary,
    one row per crossing {other axes..., "lo", "hi", "direction" (name), "estimate", "runs"}; refinement lists
    refinement points (name -> value for every axis, the refine axis off the grid), each run with every
    replicate after the grid's rows, of origin refine."""
    record_steps = np.arange(0, base["steps"] + 1, base["record_every"])
    grid_points = list(itertools.product(*axes.values(), range(replicates)))
    points = grid_points + [(*(values[name] for name in axes), replicate) for values in refinement
                            for replicate in range(replicates)]
    runs = np.zeros(len(points), dtype=runs_dtype(fmt, with_origin=refine is not None))
    trajectories = {m: np.full((len(points), len(record_steps)), np.nan) for m in METRICS}
    for row, point in enumerate(points):
        params = {**base, **dict(zip(axes, point[:-1]))}
        if refine is not None:
            runs[row]["origin"] = ORIGIN_NAMES.index("grid" if row < len(grid_points) else "refine")
        runs[row]["run"], runs[row]["key"], runs[row]["seed"] = row, 1000 + row, 7 * row + 1
        for name, kind in PARAMETER_KINDS.items():
            runs[row][name] = choice_bytes(name, params[name], fmt) if kind == "choice" else params[name]
        runs[row]["replicate"] = point[-1]
        status, steps_done, finals, trajectory = outcome(row, params)
        runs[row]["status"] = STATUS_NAMES.index(status)
        runs[row]["steps_done"] = steps_done
        if status != "pending":
            runs[row]["wall_seconds"], runs[row]["finished_at"] = 0.01 * (row + 1), 1.7e9 + row
        for m in METRICS:
            runs[row][f"final_{m}"] = finals[m]
            trajectories[m][row] = trajectory[m]
    with h5py.File(path, "w") as f:
        f.attrs["format"] = fmt
        f.attrs["hetsweep_version"] = "0.1.0-test"
        f.attrs["name"] = "synthetic"
        f.attrs["spec"] = "name: synthetic\nseed: 1\ngrid:\n" + "".join(
            f"  {name}: [{', '.join(map(str, values))}]\n" for name, values in axes.items()) + \
            f"replicates: {replicates}\n" + ("" if refine is None else "refine:\n" + "".join(
                f"  {key}: {refine[key]}\n" for key in ("axis", "metric", "threshold", "tolerance")))
        f.attrs["fingerprint"] = "0123456789abcdef"
        f.attrs["created"] = "2024-01-01T00:00:00Z"
        (write_version_2 if fmt == "hetsweep-2" else write_version_1)(f, runs, trajectories, record_steps, axes,
                                                                      replicates)
        if refine is not None:
            write_boundary(f, axes, refine)
    return runs


def axis_array(name, values):
    if PARAMETER_KINDS[name] == "choice":
        return np.array(values, dtype=h5py.string_dtype())  # variable-length UTF-8, as hetsweep writes them
    return np.array(values, dtype=np.int64 if PARAMETER_KINDS[name] == "int" else np.float64)


def write_axes_and_cube(f, runs, axes, replicates, mask_unfinished, extra_attrs):
    """/axes and /cube: each /axes/<name> is a dimension scale of the cube, hard-linked as /cube/<name>. The
    cube holds the grid's rows, the first ones."""
    shape = [len(v) for v in axes.values()] + [replicates]
    runs = runs[:int(np.prod(shape))]
    scales = []
    for name, values in [*axes.items(), ("replicate", list(range(replicates)))]:
        if name == "replicate":
            scale = f.create_dataset("cube/replicate", data=np.array(values, dtype=np.int64))
        else:
            scale = f.create_dataset(f"axes/{name}", data=axis_array(name, values))
            f[f"cube/{name}"] = scale
        scale.make_scale(name)
        scale.attrs.update(extra_attrs(name))
        scales.append(scale)
    cubes = {}
    for m in METRICS:
        values = runs[f"final_{m}"].copy()
        if mask_unfinished:
            values[runs["status"] != 1] = np.nan
        cubes[f"final_{m}"] = values.reshape(shape)
    if mask_unfinished:
        cubes["status"] = runs["status"].astype(np.int8).reshape(shape)
    for name, values in cubes.items():
        dataset = f.create_dataset(f"cube/{name}", data=values)
        for dim, scale in enumerate(scales):
            dataset.dims[dim].attach_scale(scale)


def write_version_1(f, runs, trajectories, record_steps, axes, replicates):
    f.create_dataset("runs", data=runs, chunks=True, maxshape=(None,))
    step = f.create_dataset("trajectories/step", data=record_steps.astype(np.int64))
    step.make_scale("step")
    for m in METRICS:
        dataset = f.create_dataset(f"trajectories/{m}", data=trajectories[m], chunks=True, maxshape=(None, None),
                                   fillvalue=np.nan)
        dataset.dims[1].attach_scale(step)
    write_axes_and_cube(f, runs, axes, replicates, mask_unfinished=False, extra_attrs=lambda name: {})


def long_name(name):
    return {"replicate": "replicate"}.get(name, name.replace("_", " "))


def write_version_2(f, runs, trajectories, record_steps, axes, replicates):
    """The layout decided for hetsweep-2, item by item."""
    chunked = {"chunks": True, "maxshape": (None,), "fletcher32": True}
    units = {"units": "1"}
    f["run_row"] = runs.dtype  # the committed compound datatype of /runs rows
    runs_set = f.create_dataset("runs", shape=runs.shape, dtype=f["run_row"], **chunked)
    runs_set[...] = runs
    runs_set.attrs["long_name"] = "one row per run: parameters, replicate, seed, status and final metrics"
    runs_set.attrs["status_flag_values"] = STATUS_FLAG_VALUES
    runs_set.attrs["status_flag_meanings"] = STATUS_FLAG_MEANINGS
    if "origin" in runs.dtype.names:
        runs_set.attrs["origin_flag_values"] = np.arange(len(ORIGIN_NAMES), dtype=np.int8)
        runs_set.attrs["origin_flag_meanings"] = " ".join(ORIGIN_NAMES)
    run = f.create_dataset("run", data=np.arange(len(runs), dtype=np.int64), **chunked)
    run.make_scale("run")
    run.attrs.update({"long_name": "run index", **units})
    runs_set.dims[0].attach_scale(run)

    step = f.create_dataset("trajectories/step", data=record_steps.astype(np.int64))
    step.make_scale("step")
    step.attrs.update({"long_name": "SGD step", **units})
    trajectory_run = f.create_dataset("trajectories/run", data=np.arange(len(runs), dtype=np.int64), **chunked)
    trajectory_run.make_scale("run")
    trajectory_run.attrs.update({"long_name": "run index", **units})
    coordinates = [*axes, "replicate"]
    for name in coordinates:
        if name == "replicate":
            data = runs["replicate"]
        elif PARAMETER_KINDS[name] == "choice":
            data = np.array([bytes(v).decode() for v in np.ascontiguousarray(runs[name]).view(
                f"S{CHOICE_LENGTHS[name]}")[:, 0]], dtype=h5py.string_dtype())
        else:
            data = runs[name]
        # HDF5 refuses filters on variable-length data: no Fletcher32 on the choice coordinates.
        options = {**chunked, "fletcher32": data.dtype.kind != "O"}
        dataset = f.create_dataset(f"trajectories/{name}", data=data, **options)
        dataset.attrs.update({"long_name": long_name(name), **units})
        dataset.dims[0].attach_scale(trajectory_run)
    for m in METRICS:
        dataset = f.create_dataset(f"trajectories/{m}", data=trajectories[m], chunks=True, maxshape=(None, None),
                                   fillvalue=np.nan, fletcher32=True)
        dataset.attrs.update({"long_name": METRIC_LONG_NAMES[m], **units, "coordinates": " ".join(coordinates)})
        dataset.dims[0].attach_scale(trajectory_run)
        dataset.dims[1].attach_scale(step)

    write_axes_and_cube(f, runs, axes, replicates, mask_unfinished=True,
                                extra_attrs=lambda name: {"long_name": long_name(name), **units})
    for m in METRICS:
        f[f"cube/final_{m}"].attrs.update({"long_name": METRIC_LONG_NAMES[m], **units})
    f["cube/status"].attrs.update({"flag_values": STATUS_FLAG_VALUES, "flag_meanings": STATUS_FLAG_MEANINGS,
                                   "long_name": "run status"})


def write_boundary(f, axes, refine):
    """/boundary as src/store writes it: one dataset per column along the scale /boundary/crossing, the other
    axes' values first (in axis order), and the refine block as attributes."""
    crossings = refine["crossings"]
    group = f.create_group("boundary")
    for key in ("axis", "metric"):
        group.attrs[key] = refine[key]
    for key in ("threshold", "tolerance"):
        group.attrs[key] = float(refine[key])
    group.attrs["long_name"] = f"crossings of final_{refine['metric']} = {refine['threshold']} along {refine['axis']}"
    chunked = {"chunks": True, "maxshape": (None,)}
    crossing = group.create_dataset("crossing", data=np.arange(len(crossings), dtype=np.int64), fletcher32=True,
                                    **chunked)
    crossing.make_scale("crossing")
    columns = {name: axis_array(name, [c[name] for c in crossings]) for name in axes if name != refine["axis"]}
    columns["lo"] = np.array([c["lo"] for c in crossings], dtype=np.float64)
    columns["hi"] = np.array([c["hi"] for c in crossings], dtype=np.float64)
    columns["direction"] = np.array([DIRECTION_NAMES.index(c["direction"]) for c in crossings], dtype=np.int8)
    columns["estimate"] = np.array([c["estimate"] for c in crossings], dtype=np.float64)
    columns["runs"] = np.array([c["runs"] for c in crossings], dtype=np.int64)
    for name, data in columns.items():
        dataset = group.create_dataset(name, data=data, fletcher32=data.dtype.kind != "O", **chunked)
        dataset.attrs["long_name"] = long_name(name)
        dataset.dims[0].attach_scale(crossing)
    group["direction"].attrs["flag_values"] = np.arange(len(DIRECTION_NAMES), dtype=np.int8)
    group["direction"].attrs["flag_meanings"] = " ".join(DIRECTION_NAMES)
