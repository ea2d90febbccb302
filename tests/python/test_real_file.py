#!/usr/bin/python3
"""The readers on a file the real binary wrote: a sweep with a width axis, diverged runs (hetero at eta = 0.3
with M = 8) and pending ones (only shard 0 of 2 is run). Every reader (the package, h5py, xarray with both
engines, ncdump) must agree with each other and with `hetsweep status`.

    HETSWEEP=build/src/cli/hetsweep test_real_file.py"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import h5py
import numpy as np
import xarray as xr

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "python"))
import hetsweep  # noqa: E402
from hetsweep import METRICS, STATUS_CODES, STATUS_NAMES  # noqa: E402

HETSWEEP = os.environ.get("HETSWEEP", str(REPO / "build" / "src" / "cli" / "hetsweep"))
AXES = {"heterogeneity": [1.0, 8.0], "step_size": [0.05, 0.3], "algorithm": ["hetero", "pooled"], "width": [2, 6]}
SPEC = """name: reading
seed: 5
fixed: {dim: 6, invariant_rank: 2, spurious_rank: 2, batch_size: 50, steps: 60, record_every: 20}
grid:
  heterogeneity: [1.0, 8.0]
  step_size: [0.05, 0.3]
  algorithm: [hetero, pooled]
  width: [2, 6]
replicates: 2
"""
COUNTS_LINE = re.compile(r"^\s*(\S+)\s+" + r"\s+".join(rf"{name}\s+(\d+)" for name in STATUS_NAMES) + r"\s*$")


def status_text_report(path):
    """`hetsweep status` text as {"counts": {status: n}, "axes": {axis: {value text: {status: n}}}}."""
    text = subprocess.run([HETSWEEP, "status", str(path)], capture_output=True, text=True, check=True).stdout
    report = {"counts": None, "axes": {}}
    axis = None
    for line in text.splitlines():
        match = COUNTS_LINE.match(line)
        if match and match.group(1) == "overall":
            report["counts"] = dict(zip(STATUS_NAMES, map(int, match.groups()[1:])))
        elif match and axis is not None:
            report["axes"][axis][match.group(1)] = dict(zip(STATUS_NAMES, map(int, match.groups()[1:])))
        elif re.fullmatch(r"\w+:", line):
            axis = line[:-1]
            report["axes"][axis] = {}
    return report


def same_value(text, value):
    return text == value if isinstance(value, str) else float(text) == float(value)


def nan_equal(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


class RealFileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.spec = Path(cls.tmp.name) / "reading.yaml"
        cls.spec.write_text(SPEC)
        cls.path = Path(cls.tmp.name) / "reading.h5"
        subprocess.run([HETSWEEP, "run", str(cls.spec), "-o", str(cls.path), "--shard", "0/2"], check=True,
                       capture_output=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
        cls.runs = hetsweep.open_runs(cls.path)
        with h5py.File(cls.path, "r") as f:
            cls.format = f.attrs["format"]
            cls.raw = f["runs"][()]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_Runs_HaveEveryStatusTheSpecMakes(self):
        runs = self.runs
        self.assertEqual(len(runs), 32)
        counts = runs.status.value_counts()
        self.assertGreater(counts["pending"], 0, "shard 1 of 2 is left pending")
        self.assertGreater(counts["done"], 0)
        self.assertGreater(counts["diverged"], 0)
        diverging = runs[(runs.algorithm == "hetero") & (runs.step_size == 0.3) & (runs.heterogeneity == 8.0)]
        self.assertTrue(diverging.status.isin(["diverged", "pending"]).all(), diverging.status.tolist())
        self.assertEqual(sorted(runs.width.unique()), [2, 6])
        self.assertEqual(runs.width.dtype, np.int64)
        self.assertEqual(list(runs.algorithm.cat.categories), AXES["algorithm"])
        self.assertEqual(len(runs[runs.algorithm == "hetero"]), 16)
        self.assertEqual(len(runs.query('status == "done"')), counts["done"])

    def test_Runs_EqualTheRawRowsThatH5pyReads(self):
        runs, raw = self.runs, self.raw
        self.assertEqual(runs.run.tolist(), raw["run"].tolist())
        self.assertEqual(runs.status.cat.codes.tolist(), raw["status"].astype(int).tolist())
        for m in METRICS:
            self.assertTrue(nan_equal(runs[f"final_{m}"], raw[f"final_{m}"]), m)
        pending = (runs.status == "pending").to_numpy()
        self.assertTrue(np.isnan(runs.loc[pending, "final_loss"]).all())
        self.assertTrue(runs.finished_at[pending].isna().all())
        self.assertTrue(np.isfinite(runs.loc[(runs.status == "done").to_numpy(), "final_loss"]).all())
        algorithm = raw["algorithm"]
        if algorithm.ndim == 2:  # hetsweep-2: a char array per row
            algorithm = np.ascontiguousarray(algorithm).view(f"S{algorithm.shape[1]}")[:, 0]
        self.assertEqual(runs.algorithm.tolist(), [a.decode() for a in algorithm])

    def test_Runs_CountsMatchHetsweepStatus(self):
        reports = {"text": status_text_report(self.path)}
        as_json = subprocess.run([HETSWEEP, "status", "--json", str(self.path)], capture_output=True, text=True)
        self.assertEqual(as_json.returncode, 0, as_json.stderr)
        report = json.loads(as_json.stdout)
        self.assertEqual(report["total"], len(self.runs))
        # `status --json` lists each axis's values in axis order, typed; here keyed by their text like the rest.
        report["axes"] = {axis: {str(entry["value"]): entry["counts"] for entry in entries}
                          for axis, entries in report["axes"].items()}
        reports["json"] = report
        for kind, report in reports.items():
            with self.subTest(report=kind):
                self.assertEqual(report["counts"], {s: int((self.runs.status == s).sum()) for s in STATUS_NAMES})
                self.assertEqual(set(report["axes"]), set(AXES))
                for axis, values in report["axes"].items():
                    self.assertEqual(len(values), len(AXES[axis]), axis)
                    for text, counts in values.items():
                        rows = self.runs[[same_value(text, v) for v in self.runs[axis]]]
                        self.assertEqual(counts, {s: int((rows.status == s).sum()) for s in STATUS_NAMES},
                                         (axis, text))

    def test_Cube_HoldsEachDoneRunsFinalsAndNaNElsewhere(self):
        cube = hetsweep.open_cube(self.path)
        self.assertEqual(list(cube.final_spurious_signal.dims), [*AXES, "replicate"])
        for axis, values in AXES.items():
            self.assertEqual(cube[axis].values.tolist(), values)
        for run in self.runs.itertuples():
            cell = cube.sel({axis: getattr(run, axis) for axis in (*AXES, "replicate")})
            self.assertEqual(str(cell.status.values), run.status)
            for m in METRICS:
                expected = getattr(run, f"final_{m}") if run.status == "done" else np.nan
                self.assertTrue(nan_equal(cell[f"final_{m}"], expected), (run.run, m))
        mean = cube.final_spurious_signal.mean("replicate").sel(algorithm="hetero", step_size=0.05)
        self.assertEqual(mean.dims, ("heterogeneity", "width"))

    def test_Trajectories_EndAtTheFinalValuesWithPerRunCoordinates(self):
        with hetsweep.open_trajectories(self.path) as ds:
            self.assertEqual(ds.spurious_signal.dims, ("run", "step"))
            self.assertEqual(ds.step.values.tolist(), [0, 20, 40, 60])
            for name in (*AXES, "replicate", "status"):
                self.assertEqual(ds[name].values.tolist(), self.runs[name].tolist(), name)
            hetero = ds.spurious_signal.where(ds.algorithm == "hetero")
            self.assertTrue(np.isnan(hetero.values[(self.runs.algorithm == "pooled").to_numpy()]).all())
            diverged = ds.where(ds.status == "diverged", drop=True)
            self.assertEqual(diverged.sizes["run"], int((self.runs.status == "diverged").sum()))
            for run in self.runs.itertuples():
                values = {m: ds[m].sel(run=run.run).values for m in METRICS}
                if run.status == "pending":
                    self.assertTrue(all(np.isnan(v).all() for v in values.values()), run.run)
                elif run.status == "done":
                    last = ds.step.values.tolist().index(run.steps_done)
                    for m in METRICS:
                        self.assertEqual(values[m][last], getattr(run, f"final_{m}"), (run.run, m))

    def test_XarrayEngines_ReadEachGroupAsThePackageDoes(self):
        """Plain xr.open_dataset, group by group. hetsweep-1 files have two known gaps, the reasons for
        hetsweep-2: h5netcdf refuses /trajectories (its run dimension has no scale) and netCDF-C does not
        see /runs (its compound type is not committed)."""
        cube = hetsweep.open_cube(self.path)
        with hetsweep.open_trajectories(self.path) as trajectories:
            trajectories.load()
        version_1_gaps = {("h5netcdf", "trajectories"), ("netcdf4", None)}
        for engine in ("h5netcdf", "netcdf4"):
            for group in (None, "axes", "cube", "trajectories"):
                if self.format == "hetsweep-1" and (engine, group) in version_1_gaps:
                    continue
                with self.subTest(engine=engine, group=group):
                    options = {"phony_dims": "access"} if engine == "h5netcdf" and self.format == "hetsweep-1" else {}
                    with xr.open_dataset(self.path, engine=engine, group=group, **options) as ds:
                        self.check_group(ds, group, cube, trajectories)

    def check_group(self, ds, group, cube, trajectories):
        if group is None:
            self.assertEqual(ds.runs.shape, (32,))
            self.assertEqual(ds.runs.values["final_loss"].tobytes(), self.raw["final_loss"].tobytes())
        elif group == "axes":
            for axis, values in AXES.items():
                self.assertEqual(ds[axis].values.tolist(), values)
        elif group == "cube":
            done = cube.status == "done"
            for m in METRICS:
                stored = ds[f"final_{m}"]
                self.assertTrue(nan_equal(stored.where(done), cube[f"final_{m}"]), m)
                if self.format != "hetsweep-1":  # hetsweep-1 keeps diverged runs' values in the cube
                    self.assertTrue(nan_equal(stored, cube[f"final_{m}"]), m)
            if "status" in ds:
                names = np.asarray(STATUS_NAMES)[ds.status.values]
                self.assertEqual(names.tolist(), cube.status.values.tolist())
                self.assertEqual(ds.status.attrs["flag_meanings"], " ".join(STATUS_NAMES))
        else:
            self.assertEqual(ds.step.values.tolist(), trajectories.step.values.tolist())
            for m in METRICS:
                self.assertTrue(nan_equal(ds[m].values, trajectories[m].values), m)
            if "algorithm" in ds.coords:
                self.assertEqual(ds.algorithm.values.tolist(), trajectories.algorithm.values.tolist())

    def test_Ncdump_ListsTheGroups(self):
        dump = subprocess.run(["ncdump", "-h", str(self.path)], capture_output=True, text=True)
        self.assertEqual(dump.returncode, 0, dump.stderr)
        for text in ("group: axes", "group: cube", "group: trajectories",
                     "double final_spurious_signal(heterogeneity, step_size, algorithm, width, replicate)"):
            self.assertIn(text, dump.stdout)
        if self.format != "hetsweep-1":
            self.assertIn("compound run_row", dump.stdout)
            self.assertIn("byte status(heterogeneity, step_size, algorithm, width, replicate)", dump.stdout)
            self.assertIn("double spurious_signal(run, step)", dump.stdout)

    def test_StatusCodes_AreTheFilesCodes(self):
        self.assertEqual(STATUS_CODES, {"pending": 0, "done": 1, "diverged": 2, "failed": 3})
        if self.format == "hetsweep-1":
            self.assertEqual(h5py.check_enum_dtype(self.raw.dtype["status"]), STATUS_CODES)


if __name__ == "__main__":
    unittest.main()
