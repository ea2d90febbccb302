#!/usr/bin/python3
"""Tests of sweep/analysis/figures.py on synthetic results files (formats hetsweep-1 and hetsweep-2) filled by
the NumPy reference simulation at a small size."""

import subprocess
import sys
import tempfile
import unittest
from dataclasses import asdict
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parents[2]
FIGURES = REPO / "sweep" / "analysis" / "figures.py"
sys.path.insert(0, str(REPO / "sweep" / "reference"))
sys.path.insert(0, str(REPO / "tests" / "python"))
sys.path.insert(0, str(REPO / "python"))
import numpy_sim  # noqa: E402
from hetsweep import METRICS  # noqa: E402
from results_files import write_results_file  # noqa: E402

SMALL = numpy_sim.Params(dim=6, invariant_rank=2, spurious_rank=2, batch_size=40, steps=150, record_every=10)


def write_results(path, axes, base=SMALL, replicates=2, pending_rows=(), fmt="hetsweep-1"):
    """A results file for the grid `axes` (name -> values) over `base`, one numpy_sim run per row, in row-major
    order with the replicate fastest; rows in pending_rows are left pending."""
    record_steps = np.arange(0, base.steps + 1, base.record_every)

    def outcome(row, params):
        nothing = {m: np.full(len(record_steps), np.nan) for m in METRICS}
        if row in pending_rows:
            return "pending", 0, {m: np.nan for m in METRICS}, nothing
        result = numpy_sim.simulate(numpy_sim.Params(**{k: params[k] for k in asdict(base)}), 7 * row + 1)
        trajectory = nothing
        for step, record in zip(result.steps, result.records):
            slot = np.searchsorted(record_steps, step)
            if slot < len(record_steps) and record_steps[slot] == step:
                for m in METRICS:
                    trajectory[m][slot] = record[m]
        return result.status, result.steps_done, result.final(), trajectory

    return write_results_file(path, fmt, axes, replicates, outcome, base={**asdict(base), "sampler": "materialized"})


def run_figures(results, out, *extra):
    return subprocess.run([sys.executable, str(FIGURES), str(results), "--out", str(out), *extra],
                          capture_output=True, text=True, check=False)


def written_pngs(stdout):
    return {Path(line.split(" ", 1)[1]).name for line in stdout.splitlines() if line.startswith("wrote ")}


class FiguresTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        # eta = 0.12 with M = 8 multiplies the spurious direction by about -2 every two steps: it diverges.
        cls.full = cls.dir / "full.h5"
        cls.full_runs = write_results(cls.full, {"heterogeneity": [0.0, 2.0, 5.0, 8.0], "step_size": [0.05, 0.12],
                                                 "algorithm": ["hetero", "pooled"], "batch_size": [20, 80]})
        # Only M swept, everything else fixed in every row, the last run still pending.
        cls.fixed = cls.dir / "fixed.h5"
        cls.fixed_runs = write_results(cls.fixed, {"heterogeneity": [0.0, 3.0, 6.0]}, pending_rows=(5,))
        cls.fixed_version_2 = cls.dir / "fixed-2.h5"
        write_results(cls.fixed_version_2, {"heterogeneity": [0.0, 3.0, 6.0]}, pending_rows=(5,), fmt="hetsweep-2")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def assert_pngs(self, out, names):
        for name in names:
            path = out / name
            self.assertTrue(path.is_file(), path)
            data = path.read_bytes()
            self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n", path)
            self.assertGreater(len(data), 5_000, path)
            self.assertLess(len(data), 200_000, path)

    def test_FullGrid_WritesEveryFigureWhenAllAxesAreSwept(self):
        self.assertIn(2, self.full_runs["status"], "the grid should contain diverged runs")
        self.assertIn(1, self.full_runs["status"])
        out = self.dir / "full"
        done = run_figures(self.full, out)
        self.assertEqual(done.returncode, 0, done.stderr)
        expected = {"trajectories.png", "final_vs_heterogeneity.png", "heatmap_spurious_signal_hetero.png",
                    "pooled_errors.png", "final_vs_batch_size.png"}
        self.assertEqual(written_pngs(done.stdout), expected)
        self.assert_pngs(out, expected)
        self.assertEqual({p.name for p in out.iterdir()}, expected)

    def test_FixedAxes_WritesOnlyTheFiguresTheirAxesAllow(self):
        self.assertEqual(self.fixed_runs["status"][5], 0)
        out = self.dir / "fixed"
        done = run_figures(self.fixed, out)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("1 pending", done.stdout)
        expected = {"trajectories.png", "final_vs_heterogeneity.png"}
        self.assertEqual(written_pngs(done.stdout), expected)
        self.assert_pngs(out, expected)

    def test_Version2File_WritesTheSameFiguresAsVersion1(self):
        out = self.dir / "fixed-2"
        done = run_figures(self.fixed_version_2, out)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("1 pending", done.stdout)
        expected = {"trajectories.png", "final_vs_heterogeneity.png"}
        self.assertEqual(written_pngs(done.stdout), expected)
        self.assert_pngs(out, expected)

    def test_Metric_ReplacesEachFiguresMetrics(self):
        out = self.dir / "loss"
        done = run_figures(self.full, out, "--metric", "loss", "err_pooled")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("heatmap_loss_hetero.png", written_pngs(done.stdout))
        self.assertIn("heatmap_err_pooled_hetero.png", written_pngs(done.stdout))
        self.assertNotIn("heatmap_spurious_signal_hetero.png", written_pngs(done.stdout))

    def test_Select_RestrictsRowsSoTheHeatMapNoLongerApplies(self):
        out = self.dir / "selected"
        done = run_figures(self.full, out, "--select", "step_size=0.05", "batch_size=80")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(written_pngs(done.stdout), {"trajectories.png", "final_vs_heterogeneity.png",
                                                     "pooled_errors.png"})

    def test_Select_FailsNamingTheValuesWhenNoRunMatches(self):
        done = run_figures(self.full, self.dir / "none", "--select", "step_size=0.3")
        self.assertEqual(done.returncode, 1)
        self.assertIn("0.05, 0.12", done.stderr)
        self.assertIn(str(self.full), done.stderr)

    def test_HeterogeneityValues_NotesAnAbsentValueAndPlotsTheRest(self):
        out = self.dir / "chosen"
        done = run_figures(self.full, out, "--heterogeneity-values", "5", "7")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("no M = 7", done.stdout)

    def test_HeterogeneityValues_FailsWhenNoneIsPresent(self):
        done = run_figures(self.full, self.dir / "absent", "--heterogeneity-values", "7")
        self.assertEqual(done.returncode, 1)
        self.assertIn("--heterogeneity-values: none among the rows shown (values: 0, 2, 5, 8)", done.stderr)

    def test_OtherFile_FailsNamingThePathAndTheFormat(self):
        other = self.dir / "other.h5"
        with h5py.File(other, "w") as f:
            f.attrs["format"] = "something-else"
        done = run_figures(other, self.dir / "other")
        self.assertEqual(done.returncode, 1)
        self.assertIn(str(other), done.stderr)
        self.assertIn("'something-else'", done.stderr)


if __name__ == "__main__":
    unittest.main()
