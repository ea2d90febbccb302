#!/usr/bin/python3
"""hetsweep.open_runs, open_cube and open_trajectories on synthetic files of both formats (tests/python/
results_files.py), whose every value is known: run r's metric i at step s is r * 1000 + s + i / 8."""

import itertools
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "python"))
sys.path.insert(0, str(HERE))
import hetsweep  # noqa: E402
from hetsweep import METRICS, PARAMETERS, STATUS_NAMES  # noqa: E402
from hetsweep.theory import closed_form_applies, lower_threshold, pair_factor, upper_threshold  # noqa: E402
from results_files import BASE, write_results_file  # noqa: E402

AXES = {"heterogeneity": [0.0, 8.0], "algorithm": ["pooled", "hetero"], "width": [2, 6]}
REPLICATES = 2
DIVERGED_AT = 50


def fake_value(row, step, metric):
    return row * 1000.0 + step + METRICS.index(metric) / 8


def outcome(row, params):
    """Rows cycle through done, diverged, pending and failed."""
    status = STATUS_NAMES[(1 + row) % 4]
    steps = np.arange(0, params["steps"] + 1, params["record_every"])
    steps_done = {"done": params["steps"], "diverged": DIVERGED_AT}.get(status, 0)
    reached = steps <= steps_done if status in ("done", "diverged") else np.zeros(len(steps), dtype=bool)
    trajectory = {m: np.where(reached, fake_value(row, steps, m), np.nan) for m in METRICS}
    finals = {m: fake_value(row, steps_done, m) if reached.any() else np.nan for m in METRICS}
    return status, steps_done, finals, trajectory


class ReadingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.files = {}
        for fmt in hetsweep.FORMATS:
            path = Path(cls.tmp.name) / f"{fmt}.h5"
            cls.files[fmt] = (path, write_results_file(path, fmt, AXES, REPLICATES, outcome))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def each_format(self):
        for fmt, (path, rows) in self.files.items():
            with self.subTest(format=fmt):
                yield path, rows

    def test_OpenRuns_DecodesChoicesStatusesAndKeepsNumbers(self):
        for path, rows in self.each_format():
            runs = hetsweep.open_runs(path)
            # These files predate the origin field: every run is a grid run.
            self.assertEqual(list(runs.columns), [*hetsweep.RUN_COLUMNS, "origin"])
            self.assertEqual(runs.origin.tolist(), ["grid"] * len(rows))
            self.assertEqual(len(runs), len(rows))
            self.assertEqual(list(runs.algorithm.cat.categories), AXES["algorithm"], "axis order, not sorted")
            self.assertEqual(list(runs.sampler.cat.categories), ["materialized"])
            self.assertEqual(runs.status.cat.categories.tolist(), list(STATUS_NAMES))
            self.assertEqual(runs.status.value_counts().to_dict(), {name: 4 for name in STATUS_NAMES})
            grid = list(itertools.product(*AXES.values(), range(REPLICATES)))
            for name, kind in hetsweep.PARAMETER_KINDS.items():
                expected = [point[list(AXES).index(name)] for point in grid] if name in AXES else [BASE[name]] * 16
                self.assertEqual(runs[name].tolist(), expected, name)
                if kind == "choice":
                    self.assertEqual(runs[name].dtype, "category", name)
                else:
                    self.assertEqual(runs[name].dtype, np.int64 if kind == "int" else np.float64, name)
            self.assertEqual(len(runs[runs.algorithm == "hetero"]), 8)
            done = runs.query('status == "done"')
            self.assertEqual(done.run.tolist(), [0, 4, 8, 12])
            for m in METRICS:
                np.testing.assert_array_equal(runs[f"final_{m}"], rows[f"final_{m}"])
            self.assertTrue(runs.finished_at[runs.status == "pending"].isna().all())
            self.assertEqual(runs.finished_at[0], pd.Timestamp(1.7e9, unit="s", tz="UTC"))
            self.assertEqual(runs.attrs["format"], path.stem)

    def test_OpenCube_HasNaNWhereNotDoneAndEachRunsStatusAtItsValues(self):
        for path, rows in self.each_format():
            cube = hetsweep.open_cube(path)
            self.assertEqual(list(cube.final_true_signal.dims), [*AXES, "replicate"])
            for axis, values in AXES.items():
                self.assertEqual(cube[axis].values.tolist(), values)
            runs = hetsweep.open_runs(path)
            for run in runs.itertuples():
                cell = cube.sel({axis: getattr(run, axis) for axis in (*AXES, "replicate")})
                self.assertEqual(str(cell.status.values), run.status)
                for m in METRICS:
                    value = float(cell[f"final_{m}"])
                    if run.status == "done":
                        self.assertEqual(value, fake_value(run.run, run.steps_done, m))
                    else:
                        self.assertTrue(np.isnan(value), (run.run, run.status, m))

    def test_OpenTrajectories_HasPerRunCoordinatesSoWhereSelectsByThem(self):
        for path, rows in self.each_format():
            with hetsweep.open_trajectories(path) as ds:
                self.assertEqual(ds.spurious_signal.dims, ("run", "step"))
                self.assertEqual(ds.step.values.tolist(), list(range(0, BASE["steps"] + 1, BASE["record_every"])))
                runs = hetsweep.open_runs(path)
                for name in (*AXES, "replicate", "status"):
                    self.assertEqual(ds[name].dims, ("run",), name)
                    self.assertEqual(ds[name].values.tolist(), runs[name].tolist(), name)
                hetero = ds.spurious_signal.where(ds.algorithm == "hetero")
                self.assertTrue(np.isnan(hetero.values[(runs.algorithm != "hetero").to_numpy()]).all())
                kept = hetero.values[(runs.algorithm == "hetero").to_numpy()]
                np.testing.assert_array_equal(kept, ds.spurious_signal.values[(runs.algorithm == "hetero").to_numpy()])
                for run in runs.itertuples():
                    values = ds.loss.sel(run=run.run).values
                    reached = ds.step.values <= run.steps_done
                    if run.status in ("done", "diverged"):
                        np.testing.assert_array_equal(values[reached], fake_value(run.run, ds.step.values[reached],
                                                                                  "loss"))
                    self.assertTrue(np.isnan(values[~reached if run.status in ("done", "diverged") else
                                                    slice(None)]).all())

    def test_OpenTrajectories_ClosingItClosesTheFile(self):
        """HDF5 refuses to open a file in SWMR mode while this process holds it open otherwise."""
        for path, rows in self.each_format():
            with hetsweep.open_trajectories(path) as ds:
                hetero = ds.spurious_signal.where(ds.algorithm == "hetero", drop=True)
            self.assertEqual(hetero.sizes["run"], 8)
            self.assertEqual(len(hetsweep.open_runs(path, live=True)), len(rows))

    def test_Version2_IsReadByNetCDFTools(self):
        """The hetsweep-2 layout (as decided) opens in netCDF-C: ncdump, and xarray's netcdf4 engine."""
        path, rows = self.files["hetsweep-2"]
        dump = subprocess.run(["ncdump", "-h", str(path)], capture_output=True, text=True)
        self.assertEqual(dump.returncode, 0, dump.stderr)
        self.assertIn("compound run_row", dump.stdout)
        self.assertIn("char algorithm(9)", dump.stdout)
        self.assertIn("spurious_signal:coordinates", dump.stdout)
        import xarray as xr
        with xr.open_dataset(path, engine="netcdf4", group="trajectories") as ds:
            self.assertEqual(ds.algorithm.values.tolist(), hetsweep.open_runs(path).algorithm.tolist())
            self.assertIn("algorithm", ds.spurious_signal.coords)

    def test_Live_ReadsThroughSWMR(self):
        for path, rows in self.each_format():
            live = hetsweep.open_runs(path, live=True)
            pd.testing.assert_frame_equal(live, hetsweep.open_runs(path))
            with hetsweep.open_trajectories(path, live=True) as ds:
                self.assertEqual(ds.sizes["run"], len(rows))
            self.assertEqual(int((hetsweep.open_cube(path, live=True).status == "done").sum()), 4)

    def test_OtherFormat_IsRefusedNamingTheFileAndItsFormat(self):
        other = Path(self.tmp.name) / "other.h5"
        for value in ("hetsweep-3", None):
            with h5py.File(other, "w") as f:
                if value:
                    f.attrs["format"] = value
            for read in (hetsweep.open_runs, hetsweep.open_cube, hetsweep.open_trajectories):
                with self.subTest(read=read.__name__, format=value):
                    with self.assertRaises(ValueError) as raised:
                        read(other)
                    self.assertIn(str(other), str(raised.exception))
                    self.assertIn(f"format attribute is {value!r}", str(raised.exception))

    def test_BadStatusCode_IsRefusedNamingTheFileFieldAndRow(self):
        path = Path(self.tmp.name) / "bad-status.h5"
        write_results_file(path, "hetsweep-2", AXES, REPLICATES, outcome)
        with h5py.File(path, "r+") as f:
            row = f["runs"][5]
            row["status"] = 7
            f["runs"][5] = row
        with self.assertRaises(ValueError) as raised:
            hetsweep.open_runs(path)
        self.assertIn(str(path), str(raised.exception))
        self.assertIn("/runs field status: status code 7 at index 5", str(raised.exception))


class LayoutTest(unittest.TestCase):
    def test_Parameters_AreTheRunsColumnsBetweenKeyAndReplicate(self):
        columns = hetsweep.RUN_COLUMNS
        self.assertEqual(columns[2:2 + len(PARAMETERS)], PARAMETERS)
        self.assertEqual(set(BASE), set(PARAMETERS))


class TheoryTest(unittest.TestCase):
    def test_Thresholds_AreWhereThePairFactorLeavesTheUnitInterval(self):
        for eta in (0.01, 0.05, 0.1, 0.2):
            for mu in (0.5, 1.0, 2.0):
                lower, upper = lower_threshold(eta, mu), upper_threshold(eta, mu)
                self.assertAlmostEqual(float(pair_factor(eta, mu, lower)), 1.0, places=9)
                self.assertAlmostEqual(float(pair_factor(eta, mu, upper)), -1.0, places=9)
                inside = (lower + upper) / 2
                self.assertLess(abs(float(pair_factor(eta, mu, inside))), 1.0)

    def test_LowerThreshold_IsTheReadmesValueAtTheDefaultStepSize(self):
        self.assertAlmostEqual(float(lower_threshold(0.05, 1.0)), 4.58, places=2)
        self.assertAlmostEqual(float(upper_threshold(0.05, 1.0)), 14.9, places=1)

    def test_LowerThreshold_IsNaNWhenEveryHeterogeneityContracts(self):
        self.assertTrue(np.isnan(lower_threshold(0.5, -1.0)))  # mu / eta + mu^2 = -1

    def test_ClosedFormApplies_OnlyToTwoEnvironmentsVisitedInTurn(self):
        self.assertTrue(closed_form_applies(2, "cyclic"))
        self.assertFalse(closed_form_applies(3, "cyclic"))
        self.assertFalse(closed_form_applies(2, "random"))


if __name__ == "__main__":
    unittest.main()
