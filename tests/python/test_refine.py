#!/usr/bin/python3
"""Refinement runs and the boundary through the package, on a file the store wrote (write_refine_file: the
small sweep with 4 refinement runs at step_size 0.03, row 11 pending, and 2 crossings); and files without the
origin field read as all grid."""

import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import hetsweep  # noqa: E402


class RefineFileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = str(Path(cls.tmp.name) / "refine.h5")
        subprocess.run([os.environ["WRITE_REFINE_FILE"], cls.path], check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_OpenRuns_GivesEachRunItsOrigin(self):
        runs = hetsweep.open_runs(self.path)
        self.assertEqual(list(runs.origin.cat.categories), ["grid", "refine"])
        self.assertEqual(runs.origin.tolist(), ["grid"] * 8 + ["refine"] * 4)
        refine = runs[runs.origin == "refine"]
        self.assertTrue((refine.step_size == 0.03).all())
        self.assertEqual(refine.status.tolist(), ["done", "done", "done", "pending"])

    def test_OpenTrajectories_HasTheOriginAsAPerRunCoordinate(self):
        with hetsweep.open_trajectories(self.path) as ds:
            self.assertEqual(ds.origin.values.tolist(), ["grid"] * 8 + ["refine"] * 4)
            self.assertEqual(ds.step_size.values[8:].tolist(), [0.03] * 4)

    def test_OpenCube_KeepsTheGridAlone(self):
        cube = hetsweep.open_cube(self.path)
        self.assertEqual(cube.step_size.values.tolist(), [0.01, 0.05])
        self.assertTrue((cube.status == "done").all())

    def test_OpenBoundary_GivesOneRowPerCrossing(self):
        boundary = hetsweep.open_boundary(self.path)
        self.assertEqual(list(boundary.columns), ["algorithm", "lo", "hi", "direction", "estimate", "runs"])
        self.assertEqual(boundary.algorithm.tolist(), ["hetero", "pooled"])
        self.assertEqual(boundary.lo.tolist(), [0.01, 0.03])
        self.assertEqual(boundary.hi.tolist(), [0.03, 0.05])
        self.assertEqual(boundary.direction.tolist(), ["down", "up"])
        self.assertEqual(boundary.estimate.tolist(), [0.0215, 0.04])
        self.assertEqual(boundary.runs.tolist(), [8, 8])
        self.assertEqual(boundary.attrs["axis"], "step_size")
        self.assertEqual(boundary.attrs["metric"], "spurious_signal")
        self.assertEqual(boundary.attrs["threshold"], 0.5)
        self.assertEqual(boundary.attrs["tolerance"], 0.01)

    def test_OpenBoundary_RefusesAFileWithoutOne(self):
        path = str(Path(self.tmp.name) / "no-boundary.h5")
        with h5py.File(self.path, "r") as source, h5py.File(path, "w") as copy:
            for name, value in source.attrs.items():
                copy.attrs[name] = value
        with self.assertRaisesRegex(ValueError, "no /boundary group"):
            hetsweep.open_boundary(path)

    def test_OpenRuns_ReadsAFileWithoutTheOriginFieldAsAllGrid(self):
        path = str(Path(self.tmp.name) / "no-origin.h5")
        with h5py.File(self.path, "r") as source, h5py.File(path, "w") as copy:
            for name, value in source.attrs.items():
                copy.attrs[name] = value
            rows = source["runs"][:8]
            fields = [name for name in rows.dtype.names if name != "origin"]
            copy["runs"] = np.array(rows[fields].tolist(), dtype=[(n, rows.dtype[n]) for n in fields])
        runs = hetsweep.open_runs(path)
        self.assertEqual(runs.origin.tolist(), ["grid"] * 8)
        self.assertEqual(list(runs.origin.cat.categories), ["grid", "refine"])


if __name__ == "__main__":
    unittest.main()
