#!/usr/bin/python3
"""Tests of sweep/analysis/figures.py on synthetic results files (format hetsweep-1) filled by the NumPy
reference simulation at a small size."""

import itertools
import subprocess
import sys
import tempfile
import unittest
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parents[2]
FIGURES = REPO / "sweep" / "analysis" / "figures.py"
sys.path.insert(0, str(REPO / "sweep" / "reference"))
import numpy_sim  # noqa: E402

METRICS = numpy_sim.METRICS
CHOICE_FIELDS = ("sensing", "basis", "algorithm", "schedule", "sampler")
INTEGER_FIELDS = ("dim", "invariant_rank", "spurious_rank", "width", "environments", "batch_size", "steps",
                  "record_every")
PARAMETERS = ("dim", "invariant_rank", "spurious_rank", "width", "environments", "heterogeneity", "spurious_mean",
              "noise", "sensing", "basis", "algorithm", "schedule", "sampler", "step_size", "batch_size", "steps",
              "init_scale", "record_every", "divergence_threshold")
STATUS = h5py.enum_dtype({"pending": 0, "done": 1, "diverged": 2, "failed": 3}, basetype="i1")
SMALL = numpy_sim.Params(dim=6, invariant_rank=2, spurious_rank=2, batch_size=40, steps=150, record_every=10)


def runs_dtype():
    fields = [("run", "<i8"), ("key", "<u8")]
    for name in PARAMETERS:
        kind = "S16" if name in CHOICE_FIELDS else "<i8" if name in INTEGER_FIELDS else "<f8"
        fields.append((name, kind))
    fields += [("replicate", "<i8"), ("seed", "<u8"), ("status", STATUS), ("steps_done", "<i8"),
               ("wall_seconds", "<f8"), ("finished_at", "<f8")]
    fields += [(f"final_{m}", "<f8") for m in METRICS]
    return np.dtype(fields)


def write_results(path, axes, base=SMALL, replicates=2, pending_rows=()):
    """A results file for the grid `axes` (name -> values) over `base`, one numpy_sim run per row, in row-major
    order with the replicate fastest; rows in pending_rows are left pending."""
    sampler = "materialized"
    record_steps = np.arange(0, base.steps + 1, base.record_every)
    points = list(itertools.product(*axes.values(), range(replicates)))
    runs = np.zeros(len(points), dtype=runs_dtype())
    trajectories = {m: np.full((len(points), len(record_steps)), np.nan) for m in METRICS}
    for row, point in enumerate(points):
        params = replace(base, **dict(zip(axes, point[:-1])))
        runs[row]["run"], runs[row]["key"], runs[row]["seed"] = row, 1000 + row, 7 * row + 1
        for name in PARAMETERS:
            value = getattr(params, name) if name != "sampler" else sampler
            runs[row][name] = value.encode() if name in CHOICE_FIELDS else value
        runs[row]["replicate"] = point[-1]
        if row in pending_rows:
            runs[row]["status"] = 0
            for m in METRICS:
                runs[row][f"final_{m}"] = np.nan
            continue
        result = numpy_sim.simulate(params, int(runs[row]["seed"]))
        runs[row]["status"] = 1 if result.status == "done" else 2
        runs[row]["steps_done"], runs[row]["wall_seconds"] = result.steps_done, result.wall_seconds
        runs[row]["finished_at"] = 1.7e9 + row
        for m in METRICS:
            runs[row][f"final_{m}"] = result.final()[m]
        for step, record in zip(result.steps, result.records):
            slot = np.searchsorted(record_steps, step)
            if slot < len(record_steps) and record_steps[slot] == step:
                for m in METRICS:
                    trajectories[m][row, slot] = record[m]
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "hetsweep-1"
        f.attrs["hetsweep_version"] = "0.1.0-test"
        f.attrs["spec"] = "name: synthetic\nseed: 1\naxes:\n" + "".join(
            f"  {name}: [{', '.join(map(str, values))}]\n" for name, values in axes.items())
        f.attrs["fingerprint"] = "0" * 16
        f.attrs["created"] = "2024-01-01T00:00:00Z"
        f["runs"] = runs
        for m in METRICS:
            f[f"trajectories/{m}"] = trajectories[m]
            shape = [len(v) for v in axes.values()] + [replicates]
            f[f"cube/final_{m}"] = runs[f"final_{m}"].reshape(shape)
        f["trajectories/step"] = record_steps
        for name, values in axes.items():
            if name in CHOICE_FIELDS:  # variable-length UTF-8, as hetsweep writes choice axes
                f.create_dataset(f"axes/{name}", data=values, dtype=h5py.string_dtype())
            else:
                f[f"axes/{name}"] = np.array(values)
    return runs


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
