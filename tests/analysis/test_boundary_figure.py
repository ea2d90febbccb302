#!/usr/bin/python3
"""The boundary figure (sweep/analysis/figures.py, boundary.png) on a refined results file written in the
layout src/store writes (tests/python/results_files.py): a coarse M grid over two step sizes and two
algorithms, refinement runs bisecting each crossing of the closed-form window down to the tolerance, and
/boundary holding the brackets. Checks what the figure is drawn from (the crossings and the runs spent per
algorithm against a dense grid), what it draws (brackets, estimates, the closed-form curves), and the PNG."""

import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
ANALYSIS = REPO / "sweep" / "analysis"
sys.path.insert(0, str(ANALYSIS))
sys.path.insert(0, str(REPO / "tests" / "python"))
import figure_data  # noqa: E402
import figures  # noqa: E402
from results_files import BASE, METRICS, write_results_file  # noqa: E402

# The program that writes a refined file through the store's API (tests/store/write_refine_file.cpp).
WRITE_REFINE_FILE = os.environ.get("WRITE_REFINE_FILE", str(REPO / "build" / "tests" / "store" / "write_refine_file"))
AXES = {"heterogeneity": [0.0, 2.0, 4.0, 6.0, 8.0, 16.0], "step_size": [0.05, 0.1],
        "algorithm": ["hetero", "hetero_gd"]}
REPLICATES = 2
TOLERANCE = 0.5
# Where the synthetic spurious signal is below the threshold: hetero_gd's is the closed-form window (mu = 1),
# hetero's a narrower one whose upper end at eta = 0.05 lies in (6, 8), not (8, 16): two bisections fewer, so
# the two algorithms spend different numbers of runs.
WINDOWS = {("hetero_gd", 0.05): (np.sqrt(1 / 0.05 + 1), np.sqrt(1.1**2 + 1) / 0.1),
           ("hetero_gd", 0.1): (np.sqrt(1 / 0.1 + 1), np.sqrt(1.2**2 + 1) / 0.2),
           ("hetero", 0.05): (4.9, 7.5), ("hetero", 0.1): (3.6, 7.0)}


def window(algorithm, eta):
    return WINDOWS[(algorithm, eta)]


def below(algorithm, eta, m):
    low, high = window(algorithm, eta)
    return low < m < high


def bisect(algorithm, eta, lo, hi):
    """Midpoints lo + (hi - lo)/2 until hi - lo <= TOLERANCE, as refinement asks for them; the points and the
    final bracket."""
    points = []
    while hi - lo > TOLERANCE:
        mid = lo + (hi - lo) / 2
        points.append(mid)
        lo, hi = (mid, hi) if below(algorithm, eta, mid) == below(algorithm, eta, lo) else (lo, mid)
    return points, lo, hi


def refined_sweep():
    """The refinement points (one dict per point) and the crossings: each step size and algorithm has a down
    crossing at the window's lower end and an up crossing at its upper end (diverged runs count as above)."""
    points, crossings = [], []
    grid = AXES["heterogeneity"]
    for eta in AXES["step_size"]:
        for algorithm in AXES["algorithm"]:
            for end, direction in zip(window(algorithm, eta), ("down", "up")):
                lo, hi = max(m for m in grid if m < end), min(m for m in grid if m > end)
                assert below(algorithm, eta, lo) != below(algorithm, eta, hi), "a crossing the grid cannot see"
                found, lo, hi = bisect(algorithm, eta, lo, hi)
                points += [{"heterogeneity": m, "step_size": eta, "algorithm": algorithm} for m in found]
                crossings.append({"step_size": eta, "algorithm": algorithm, "lo": lo, "hi": hi,
                                  "direction": direction, "estimate": lo + 0.25 * (hi - lo),
                                  "runs": len(found) * REPLICATES})
    return points, crossings


def outcome(row, params):
    """Spurious signal 0.01 inside the window, 1 below it; diverged above it."""
    eta, m, algorithm = params["step_size"], params["heterogeneity"], params["algorithm"]
    steps = np.arange(0, params["steps"] + 1, params["record_every"])
    status = "diverged" if m >= window(algorithm, eta)[1] else "done"
    spurious = 0.01 if below(algorithm, eta, m) else 1.0
    finals = {metric: spurious if metric == "spurious_signal" else 1.0 for metric in METRICS}
    return status, params["steps"], finals, {metric: np.full(len(steps), finals[metric]) for metric in METRICS}


class BoundaryFigureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        cls.points, cls.crossings = refined_sweep()
        cls.path = cls.dir / "refined.h5"
        refine = {"axis": "heterogeneity", "metric": "spurious_signal", "threshold": 0.05, "tolerance": TOLERANCE,
                  "crossings": cls.crossings}
        write_results_file(cls.path, "hetsweep-2", AXES, REPLICATES, outcome, refinement=cls.points, refine=refine)
        cls.grid_only = cls.dir / "grid.h5"
        write_results_file(cls.grid_only, "hetsweep-2", AXES, REPLICATES, outcome)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def refinement_runs(self, algorithm):
        return sum(1 for p in self.points if p["algorithm"] == algorithm) * REPLICATES

    def test_DenseGridPoints_CountsTheValuesOfASpacingAtMostTheTolerance(self):
        self.assertEqual(figure_data.dense_grid_points(0.0, 40.0, 0.02, integer=False), 2001)
        self.assertEqual(figure_data.dense_grid_points(0.0, 16.0, 0.5, integer=False), 33)
        self.assertEqual(figure_data.dense_grid_points(0.0, 1.0, 0.3, integer=False), 5)  # spacing 0.25
        self.assertEqual(figure_data.dense_grid_points(10, 20, 0.5, integer=True), 11)  # integers: spacing 1
        self.assertEqual(figure_data.dense_grid_points(0, 100, 10, integer=True), 11)

    def test_OpenBoundaryResults_GivesTheFilesCrossingsAndRunsPerAlgorithm(self):
        boundary = figure_data.open_boundary_results(self.path)
        self.assertEqual((boundary.axis, boundary.across, boundary.series_axes), ("heterogeneity", "step_size",
                                                                                 ["algorithm"]))
        self.assertEqual((boundary.metric, boundary.threshold, boundary.tolerance), ("spurious_signal", 0.05, 0.5))
        self.assertEqual(boundary.across_values, [0.05, 0.1])
        self.assertEqual(boundary.spurious_mean, BASE["spurious_mean"])
        expected = sorted((c["algorithm"], c["step_size"], c["direction"], c["lo"], c["hi"], c["estimate"], c["runs"])
                          for c in self.crossings)
        found = sorted(zip(boundary.crossings.series, boundary.crossings.step_size,
                           boundary.crossings.direction.astype(str), boundary.crossings.lo, boundary.crossings.hi,
                           boundary.crossings.estimate, boundary.crossings.runs))
        self.assertEqual(found, expected)
        self.assertEqual(list(boundary.runs.index), ["hetero", "hetero_gd"])
        grid_runs = 6 * 2 * REPLICATES  # per algorithm: M values x step sizes x replicates
        dense = 33 * 2 * REPLICATES  # M = 0, 0.5, ..., 16 for each step size and replicate
        self.assertNotEqual(self.refinement_runs("hetero"), self.refinement_runs("hetero_gd"))
        for algorithm in AXES["algorithm"]:
            self.assertEqual(boundary.runs.loc[algorithm].to_dict(),
                             {"grid": grid_runs, "refine": self.refinement_runs(algorithm), "dense": dense})

    def test_OpenBoundaryResults_IsNoneForAFileWithoutABoundary(self):
        self.assertIsNone(figure_data.open_boundary_results(self.grid_only))

    def test_OpenResults_LeavesTheRefinementRunsOutOfTheGridFigures(self):
        results = figure_data.open_results(self.path)
        try:
            self.assertEqual(len(results.rows), 6 * 2 * 2 * REPLICATES)
            self.assertEqual(sorted(set(results.columns["heterogeneity"])), AXES["heterogeneity"])
        finally:
            results.close()

    def test_DrawBoundary_DrawsEachBracketAndEstimateAndTheClosedFormThresholds(self):
        boundary = figure_data.open_boundary_results(self.path)
        fig = figures.draw_boundary(boundary)
        try:
            ax = fig.axes[0]
            lines = {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}
            eta = lines["lower_threshold"].get_xdata()
            self.assertLessEqual(eta.min(), 0.05)
            self.assertGreaterEqual(eta.max(), 0.1)
            np.testing.assert_allclose(lines["lower_threshold"].get_ydata(), np.sqrt(1 / eta + 1))
            np.testing.assert_allclose(lines["upper_threshold"].get_ydata(),
                                       np.sqrt((1 + 2 * eta) ** 2 + 1) / (2 * eta))
            brackets = {c.get_gid(): c for c in ax.collections if c.get_gid()}
            for algorithm in AXES["algorithm"]:
                mine = [c for c in self.crossings if c["algorithm"] == algorithm]
                segments = brackets[f"bracket {algorithm}"].get_segments()
                self.assertEqual(sorted((s[0][1], s[1][1]) for s in segments),
                                 sorted((c["lo"], c["hi"]) for c in mine))
                for direction in ("down", "up"):
                    marker = lines[f"estimate {algorithm} {direction}"]
                    self.assertEqual(sorted(marker.get_ydata()),
                                     sorted(c["estimate"] for c in mine if c["direction"] == direction))
                    # Each algorithm is drawn beside its step size, never at another's.
                    for x, c in zip(marker.get_xdata(), [c for c in mine if c["direction"] == direction]):
                        self.assertAlmostEqual(x, c["step_size"], delta=0.01)
        finally:
            figures.plt.close(fig)

    def test_Figures_WritesTheBoundaryFigureAndReportsTheRunsSpent(self):
        out = self.dir / "figures"
        done = subprocess.run([sys.executable, str(ANALYSIS / "figures.py"), str(self.path), "--out", str(out)],
                              capture_output=True, text=True, check=False)
        self.assertEqual(done.returncode, 0, done.stderr)
        for algorithm in AXES["algorithm"]:
            refined = self.refinement_runs(algorithm)
            self.assertIn(f"boundary: {algorithm}: 24 grid + {refined} refinement runs = {24 + refined}; a dense "
                          f"grid at spacing 0.5 would need 132; /boundary: 4 crossings, {refined} runs", done.stdout)
        self.assertIn(f"note: {len(self.points) * REPLICATES} refinement runs (off the grid) are left out",
                      done.stdout)
        png = out / "boundary.png"
        self.assertIn(f"wrote {png}", done.stdout)
        data = png.read_bytes()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(data), 5_000)
        self.assertLess(len(data), 300_000)

    def test_Figures_DrawsNoBoundaryForASweepWithoutARefineBlock(self):
        out = self.dir / "grid-figures"
        done = subprocess.run([sys.executable, str(ANALYSIS / "figures.py"), str(self.grid_only), "--out", str(out)],
                              capture_output=True, text=True, check=False)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertFalse((out / "boundary.png").exists())
        self.assertIn("heatmap_spurious_signal_hetero.png", done.stdout)

    def test_Figures_SkipsTheBoundaryOfAFileTheStoreWroteWithoutAnAxisToDrawItAgainst(self):
        # write_refine_file: refined along step_size, the only other axis a choice (algorithm).
        path = self.dir / "store.h5"
        subprocess.run([WRITE_REFINE_FILE, str(path)], check=True)
        out = self.dir / "store-figures"
        done = subprocess.run([sys.executable, str(ANALYSIS / "figures.py"), str(path), "--out", str(out)],
                              capture_output=True, text=True, check=False)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("one other numeric axis; this sweep has 0 (none): no boundary figure", done.stdout)
        self.assertIn("note: 4 refinement runs (off the grid) are left out", done.stdout)
        self.assertFalse((out / "boundary.png").exists())


if __name__ == "__main__":
    unittest.main()
