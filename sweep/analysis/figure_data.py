"""The rows of a hetsweep results file that figures.py plots, read through the hetsweep package
(python/hetsweep): the finished grid runs' parameters and final metrics, their trajectories, --select, and the
boundary adaptive refinement located with the runs it spent."""

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))  # the package, when not installed
from hetsweep import METRICS, PARAMETER_KINDS, PARAMETERS, open_boundary, open_runs, open_trajectories  # noqa: E402
from hetsweep import theory  # noqa: E402


class ResultsError(Exception):
    def __init__(self, path, message):
        super().__init__(f"{path}: {message}")


def format_value(value):
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


@dataclass
class Results:
    """The finished rows of /runs, and lazy access to their trajectories."""

    path: Path
    trajectories: object  # the xarray Dataset of /trajectories, or None when the file has none
    columns: dict  # parameter and final_<metric> name -> array over the kept rows
    rows: np.ndarray  # each kept row's index into /runs and /trajectories
    status: np.ndarray
    axis_order: dict  # choice parameter -> its values in /axes order when swept

    def values(self, name, mask):
        """The distinct values of `name` among the rows in mask: numbers ascending, choices in axis order."""
        present = list(np.unique(self.columns[name][mask]))
        order = self.axis_order.get(name)
        if order is None:
            return present
        return [v for v in order if v in present] + [v for v in present if v not in order]

    def trajectory(self, metric, mask):
        """[rows in mask, records] of one metric, and the recorded steps."""
        if self.trajectories is None or metric not in self.trajectories:
            raise ResultsError(self.path, f"no /trajectories/{metric}")
        rows = self.rows[mask]  # increasing, as h5py reads them
        data = np.full((len(rows), self.trajectories.sizes["step"]), np.nan)
        if len(rows):
            data[:] = self.trajectories[metric].isel(run=rows).values
        return self.trajectories["step"].values, data

    def close(self):
        if self.trajectories is not None:
            self.trajectories.close()


def open_results(path):
    runs = open_runs(path)
    counts = runs.status.value_counts(sort=False)
    print(f"{path}: {len(runs)} runs ({', '.join(f'{n} {name}' for name, n in counts.items() if n)})")
    refined = int((runs.origin == "refine").sum())
    if refined:  # off-grid points: a figure over the grid shows the grid's own runs, as `hetsweep report` does
        print(f"  note: {refined} refinement runs (off the grid) are left out of every figure but the boundary")
    kept = runs[runs.status.isin(["done", "diverged"]) & (runs.origin == "grid")]
    columns = {}
    for name in (*PARAMETERS, "replicate", *(f"final_{m}" for m in METRICS)):
        column = kept[name]
        columns[name] = column.to_numpy(dtype=str) if column.dtype == "category" else column.to_numpy()
    axis_order = {name: list(runs[name].cat.categories) for name in PARAMETERS if runs[name].dtype == "category"}
    status = kept.status.cat.codes.to_numpy()
    try:
        trajectories = open_trajectories(path)
    except ValueError as error:  # a file without /trajectories still has its final values
        print(f"  note: {error}: no trajectory figures")
        trajectories = None
    return Results(Path(path), trajectories, columns, kept.run.to_numpy(), status, axis_order)


def parse_selection(results, texts):
    """The mask of rows matching every NAME=VALUE in texts."""
    mask = np.ones(len(results.rows), dtype=bool)
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or name not in PARAMETERS:
            raise ResultsError(results.path, f"--select {text!r}: expected NAME=VALUE with NAME one of "
                                             f"{', '.join(PARAMETERS)}")
        column = results.columns[name]
        try:
            match = column == value if column.dtype.kind == "U" else np.isclose(column, float(value))
        except ValueError:
            raise ResultsError(results.path, f"--select {text!r}: {name} is numeric") from None
        if not np.any(mask & match):
            present = ", ".join(format_value(v) for v in results.values(name, mask))
            raise ResultsError(results.path, f"--select {text!r}: no finished run has it (values: {present})")
        mask &= match
    return mask


def dense_grid_points(low, high, tolerance, integer):
    """How many evenly spaced values a grid over [low, high] needs to bracket every crossing as tightly as
    refinement does: spacing at most `tolerance`, or 1 on an integer axis (bisection stops at neighbouring
    integers)."""
    spacing = max(1, math.floor(tolerance)) if integer else tolerance
    return math.ceil(round((high - low) / spacing, 9)) + 1


@dataclass
class Boundary:
    """What the boundary figure shows: the crossings adaptive refinement located (/boundary), drawn on the
    refine axis against the one other numeric axis, one series per value of the choice axes (e.g. algorithm);
    and per series the runs spent (grid and refinement, from /runs origin) against a dense grid of the same
    resolution over the refine axis's range."""

    path: Path
    axis: str  # the refine axis
    across: str  # the other numeric axis, against which the crossings are drawn
    series_axes: list  # the choice axes among the other axes; their values name a series
    metric: str
    threshold: float
    tolerance: float
    crossings: pd.DataFrame  # one row per crossing: series, <across>, lo, hi, direction, estimate, runs
    across_values: list  # the grid's values of `across`
    runs: pd.DataFrame  # one row per series (index): grid, refine (runs in /runs) and dense (runs it would need)
    spurious_mean: float  # mu for the closed-form thresholds; None when they do not apply to these runs


def series_labels(frame, series_axes):
    """Each row's series: its values of the choice axes, joined ("hetero"; "all" without choice axes)."""
    if not series_axes:
        return pd.Series(["all"] * len(frame), index=frame.index)
    return frame[series_axes].astype(str).agg(", ".join, axis=1)


def open_boundary_results(path):
    """The file's Boundary, or None when it has no /boundary (its spec has no refine block)."""
    try:
        crossings = open_boundary(path)
    except ValueError as error:
        if "no /boundary group" not in str(error):
            raise
        return None
    attrs = crossings.attrs
    axis = attrs["axis"]
    others = [name for name in crossings.columns if name in PARAMETERS]
    numeric = [name for name in others if PARAMETER_KINDS[name] != "choice"]
    if len(numeric) != 1:
        raise ResultsError(path, f"the boundary figure draws the crossings along {axis} against one other numeric "
                                 f"axis; this sweep has {len(numeric)} ({', '.join(numeric) or 'none'})")
    across, series_axes = numeric[0], [name for name in others if name not in numeric]
    runs = open_runs(path)
    grid = runs[runs.origin == "grid"]
    values = np.unique(grid[axis].to_numpy())
    points = dense_grid_points(values.min(), values.max(), float(attrs["tolerance"]), PARAMETER_KINDS[axis] == "int")
    replicates = grid.replicate.nunique()
    labels = series_labels(runs, series_axes)
    counts = pd.crosstab(labels, runs.origin.astype(str)).reindex(index=pd.unique(labels),
                                                                   columns=["grid", "refine"], fill_value=0)
    # A dense grid repeats the refine axis's values for every combination of the other axes and replicate.
    combinations = grid.assign(series=labels[grid.index]).groupby("series")[across].nunique()
    counts["dense"] = combinations.reindex(counts.index) * replicates * points
    crossings = crossings.assign(series=series_labels(crossings, series_axes).to_numpy())
    environments, schedules, means = (runs[name].unique() for name in ("environments", "schedule", "spurious_mean"))
    closed_form = (axis == "heterogeneity" and across == "step_size" and len(means) == 1 and len(environments) == 1
                   and len(schedules) == 1 and theory.closed_form_applies(environments[0], schedules[0]))
    return Boundary(Path(path), axis, across, series_axes, attrs["metric"], float(attrs["threshold"]),
                    float(attrs["tolerance"]), crossings, sorted(np.unique(grid[across].to_numpy()).tolist()),
                    counts.astype(int), float(means[0]) if closed_form else None)
