#!/usr/bin/python3
"""Tests of sweep/reference/numpy_sim.py: the model's conventions, the gradient, and the science it must
reproduce (HeteroSGD suppresses the spurious signal beyond the closed-form threshold, PooledSGD learns the
pooled target)."""

import json
import subprocess
import sys
import unittest
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
NUMPY_SIM = REPO / "sweep" / "reference" / "numpy_sim.py"
sys.path.insert(0, str(NUMPY_SIM.parent))
import numpy_sim  # noqa: E402

# The configuration of the paper's headline figure: d = 20, r = rs = 2, m = 1000, eta = 0.05, 1000 steps.
PAPER = numpy_sim.Params(dim=20, invariant_rank=2, spurious_rank=2, batch_size=1000, step_size=0.05, steps=1000)
SMALL = numpy_sim.Params(dim=6, batch_size=50, steps=40)


class SpuriousValuesTest(unittest.TestCase):
    def test_SpuriousValues_AreMeanPlusMinusMForTwoEnvironments(self):
        values = numpy_sim.spurious_values(replace(SMALL, heterogeneity=6.0, spurious_mean=1.0))
        np.testing.assert_allclose(values, [-5.0, 7.0])

    def test_SpuriousValues_AreEvenlySpacedAroundTheMean(self):
        values = numpy_sim.spurious_values(replace(SMALL, environments=5, heterogeneity=2.0, spurious_mean=0.5))
        np.testing.assert_allclose(values, [-1.5, -0.5, 0.5, 1.5, 2.5])

    def test_SpuriousValues_AreTheMeanForOneEnvironment(self):
        values = numpy_sim.spurious_values(replace(SMALL, environments=1, heterogeneity=3.0, spurious_mean=2.0))
        np.testing.assert_allclose(values, [2.0])


class ModelTest(unittest.TestCase):
    def test_Model_ProjectsOnLeadingCoordinatesForAxisBasis(self):
        model = numpy_sim.Model(replace(SMALL, invariant_rank=2, spurious_rank=3), np.random.default_rng(0))
        np.testing.assert_array_equal(np.diag(model.P), [1, 1, 0, 0, 0, 0])
        np.testing.assert_array_equal(np.diag(model.Q), [0, 0, 1, 1, 1, 0])
        self.assertEqual(np.count_nonzero(model.P - np.diag(np.diag(model.P))), 0)

    def test_Model_ProjectsOnOrthogonalSubspacesForRandomBasis(self):
        model = numpy_sim.Model(replace(SMALL, basis="random", invariant_rank=2, spurious_rank=3),
                                np.random.default_rng(0))
        np.testing.assert_allclose(model.P @ model.P, model.P, atol=1e-12)
        np.testing.assert_allclose(model.Q @ model.Q, model.Q, atol=1e-12)
        np.testing.assert_allclose(model.P @ model.Q, 0, atol=1e-12)
        self.assertAlmostEqual(np.trace(model.P), 2)
        self.assertAlmostEqual(np.trace(model.Q), 3)
        self.assertGreater(np.abs(model.P - np.diag(np.diag(model.P))).max(), 1e-3)

    def test_Metrics_MeasureDistancesToTheTargets(self):
        p = replace(SMALL, heterogeneity=3.0, spurious_mean=1.0)
        model = numpy_sim.Model(p, np.random.default_rng(0))
        u = np.diag([1.0, 1.0, 1.0, 0, 0, 0])  # X = diag(1, 1, 1, 0, 0, 0)
        metrics = model.metrics(u, loss=0.25)
        self.assertAlmostEqual(metrics["true_signal"], np.sqrt(2))
        self.assertAlmostEqual(metrics["spurious_signal"], 1.0)
        self.assertAlmostEqual(metrics["err_invariant"], 1.0)
        self.assertAlmostEqual(metrics["err_pooled"], 1.0)  # A* + Abar = diag(1, 1, 1, 1, 0, 0)
        self.assertEqual(metrics["loss"], 0.25)


class GradientTest(unittest.TestCase):
    def check_gradient(self, sensing):
        p = replace(SMALL, sensing=sensing, batch_size=7)
        rng = np.random.default_rng(3)
        a = numpy_sim.sensing_matrices(p, rng).reshape(p.batch_size, -1)
        y = rng.standard_normal(p.batch_size)
        u = rng.standard_normal((p.dim, 4))
        _, gradient = numpy_sim.loss_and_gradient(a, y, u)
        numeric = np.zeros_like(u)
        h = 1e-6
        for index in np.ndindex(u.shape):
            step = np.zeros_like(u)
            step[index] = h
            numeric[index] = (numpy_sim.loss_and_gradient(a, y, u + step)[0]
                              - numpy_sim.loss_and_gradient(a, y, u - step)[0]) / (2 * h)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-6)

    def test_Gradient_MatchesFiniteDifferencesForGaussianSensing(self):
        self.check_gradient("gaussian")

    def test_Gradient_MatchesFiniteDifferencesForRankOneSensing(self):
        self.check_gradient("rank_one")

    def test_SensingMatrices_AreSymmetric(self):
        for sensing in ("gaussian", "rank_one"):
            a = numpy_sim.sensing_matrices(replace(SMALL, sensing=sensing), np.random.default_rng(1))
            np.testing.assert_array_equal(a, a.transpose(0, 2, 1))


class SimulateTest(unittest.TestCase):
    def test_Simulate_RecordsEveryRecordStepAndTheLast(self):
        result = numpy_sim.simulate(replace(SMALL, steps=25, record_every=10), seed=1)
        self.assertEqual(result.steps, [0, 10, 20, 25])
        self.assertEqual((result.status, result.steps_done), ("done", 25))
        self.assertAlmostEqual(result.records[0]["true_signal"], 1e-6 * np.sqrt(2))

    def test_Simulate_StopsAtDivergenceBeyondTheUpperThreshold(self):
        # eta = 0.3, M = 8: the spurious direction is multiplied by about -10 every two steps.
        p = replace(SMALL, heterogeneity=8.0, step_size=0.3, steps=200)
        result = numpy_sim.simulate(p, seed=1)
        self.assertEqual(result.status, "diverged")
        self.assertLess(result.steps_done, p.steps)
        self.assertEqual(result.steps[-1], result.steps_done)

    def test_Simulate_LearnsTheTargetWithRankOneSensing(self):
        p = replace(SMALL, sensing="rank_one", heterogeneity=0.0, batch_size=200, step_size=0.02, steps=600)
        final = numpy_sim.simulate(p, seed=2).final()
        self.assertLess(final["err_pooled"], 0.1)

    def test_Simulate_HeteroSuppressesTheSpuriousSignalAboveTheThreshold(self):
        # M = 6 > sqrt(mu/eta + mu^2) = 4.58 at eta = 0.05, mu = 1.
        final = numpy_sim.simulate(replace(PAPER, heterogeneity=6.0), seed=1).final()
        self.assertLess(final["spurious_signal"], 0.05)
        self.assertGreater(final["true_signal"], 1.0)

    def test_Simulate_HeteroLearnsTheSpuriousSignalBelowTheThreshold(self):
        final = numpy_sim.simulate(replace(PAPER, heterogeneity=1.0), seed=1).final()
        self.assertGreater(final["spurious_signal"], 0.8)

    def test_Simulate_PooledLearnsThePooledTarget(self):
        # Up to an SGD noise floor: the labels' spread s_e = -5 or 7 acts as noise of variance ~ M^2 |Q|_F^2.
        final = numpy_sim.simulate(replace(PAPER, heterogeneity=6.0, algorithm="pooled"), seed=1).final()
        self.assertLess(final["err_pooled"], 0.8)
        self.assertLess(final["err_pooled"], final["err_invariant"] / 2)
        self.assertGreater(final["spurious_signal"], 1.0)


class CommandLineTest(unittest.TestCase):
    def run_cli(self, *flags):
        return subprocess.run([sys.executable, str(NUMPY_SIM), *flags], capture_output=True, text=True, check=False)

    def test_CommandLine_PrintsTheFinalMetricsAsJson(self):
        done = self.run_cli("--dim", "6", "--batch-size", "20", "--steps", "30", "--heterogeneity", "2",
                            "--algorithm", "pooled", "--seed", "4")
        self.assertEqual(done.returncode, 0, done.stderr)
        report = json.loads(done.stdout)
        self.assertEqual(set(report), {"status", "steps_done", "true_signal", "spurious_signal", "err_invariant",
                                       "err_pooled", "loss", "wall_seconds"})
        self.assertEqual((report["status"], report["steps_done"]), ("done", 30))
        self.assertGreater(report["wall_seconds"], 0)

    def test_CommandLine_IsReproducibleForOneSeed(self):
        flags = ("--dim", "5", "--batch-size", "10", "--steps", "20", "--seed", "9")
        first, second = json.loads(self.run_cli(*flags).stdout), json.loads(self.run_cli(*flags).stdout)
        del first["wall_seconds"], second["wall_seconds"]
        self.assertEqual(first, second)

    def test_CommandLine_RejectsRanksBeyondTheDimension(self):
        done = self.run_cli("--dim", "3", "--invariant-rank", "2", "--spurious-rank", "2")
        self.assertEqual(done.returncode, 2)
        self.assertIn("invariant_rank + spurious_rank = 4 exceeds dim = 3", done.stderr)


if __name__ == "__main__":
    unittest.main()
