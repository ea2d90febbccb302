"""The rows of a hetsweep results file that figures.py plots, read through the hetsweep package
(python/hetsweep): the finished runs' parameters and final metrics, their trajectories, and --select."""

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))  # the package, when not installed
from hetsweep import METRICS, PARAMETERS, open_runs, open_trajectories  # noqa: E402


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
    kept = runs[runs.status.isin(["done", "diverged"])]
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
