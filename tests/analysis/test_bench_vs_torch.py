#!/usr/bin/python3
"""Tests of sweep/analysis/bench_vs_torch.py that need neither PyTorch nor numpy: the statistical agreement
check on synthetic results, the reading of `hetsweep export --csv`, and the refusal (exit 2, how to install
it) when PyTorch is missing."""

import importlib.util
import math
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "sweep" / "analysis" / "bench_vs_torch.py"

spec = importlib.util.spec_from_file_location("bench_vs_torch", BENCH)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def rows(values_by_cell, status="done"):
    """Exported-like rows: {(algorithm, heterogeneity): [final spurious signal per replicate]}."""
    out = []
    for (algorithm, heterogeneity), values in values_by_cell.items():
        for replicate, value in enumerate(values):
            out.append({"run": str(len(out)), "key": "k", "dim": "20", "algorithm": algorithm,
                        "heterogeneity": heterogeneity, "sampler": "auto", "replicate": str(replicate),
                        "seed": str(replicate), "status": status, "final_spurious_signal": value,
                        "final_loss": 0.0})
    return out


# Hetero's spurious signal survives at M = 1 and dies at M = 6; pooled keeps it (sqrt(2) for r_s = 2).
REFERENCE = {("hetero", "1"): [1.40, 1.45, 1.50, 1.42], ("hetero", "6"): [0.0010, 0.0012, 0.0008, 0.0011],
             ("pooled", "1"): [1.41, 1.39, 1.44, 1.43], ("pooled", "6"): [1.2, 1.5, 1.1, 1.3]}


class AgreementTest(unittest.TestCase):
    def check(self, peer, **options):
        return bench.agreement(rows(REFERENCE), rows(peer), **options)

    def test_Agreement_HoldsWhenThePeerDrawsFromTheSameLaw(self):
        peer = {("hetero", "1"): [1.47, 1.41, 1.43, 1.52], ("hetero", "6"): [0.0009, 0.0013, 0.0010, 0.0012],
                ("pooled", "1"): [1.40, 1.42, 1.45, 1.38], ("pooled", "6"): [1.4, 1.0, 1.25, 1.35]}
        lines, problems = self.check(peer)
        self.assertEqual(problems, [])
        self.assertEqual(len(lines), 4)

    def test_Agreement_ListsCellsInNumericOrderOfTheAxis(self):
        values = {("hetero", "10"): [0.01] * 2, ("hetero", "3"): [0.9] * 2, ("hetero", "1"): [1.4] * 2,
                  ("hetero", "6"): [0.01] * 2}
        lines, _ = bench.agreement(rows(values), rows(values))
        self.assertEqual([line.split(":")[0] for line in lines],
                         [f"algorithm=hetero, heterogeneity={m}" for m in ("1", "3", "6", "10")])

    def test_Agreement_FailsWhenMeansDifferByMoreThanTheLimit(self):
        peer = dict(REFERENCE)
        peer[("hetero", "1")] = [v + 0.5 for v in REFERENCE[("hetero", "1")]]  # about 20 standard errors
        _, problems = self.check(peer)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("algorithm=hetero, heterogeneity=1: means", problems[0])

    def test_Agreement_UsesTheFloorWhenTheSpreadVanishes(self):
        tight = {("hetero", "0"): [math.sqrt(2)] * 4}
        shifted = {("hetero", "0"): [math.sqrt(2) + 0.04] * 4}
        self.assertEqual(bench.agreement(rows(tight), rows(shifted), sides_at=())[1], [])
        self.assertEqual(len(bench.agreement(rows(tight), rows(shifted), floor=0.01, sides_at=())[1]), 1)

    def test_Agreement_FailsWhenTheTransitionIsOnTheOtherSide(self):
        peer = dict(REFERENCE)
        peer[("hetero", "6")] = [0.03, 0.035, 0.025, 0.03]  # within the floor of the mean, above the threshold
        _, problems = self.check(peer, threshold=0.02)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("different sides of 0.02", problems[0])

    def test_Agreement_FailsWhenACheckedPointOrACellIsMissing(self):
        peer = {cell: values for cell, values in REFERENCE.items() if cell != ("pooled", "6")}
        _, problems = self.check(peer)
        self.assertEqual(problems, ["algorithm=pooled, heterogeneity=6: only in the reference"])
        _, problems = self.check(REFERENCE, sides_at=(1.0, 2.5))
        self.assertEqual(problems, ["heterogeneity = 2.5 is not in the reference's grid: its side cannot be checked"])

    def test_Agreement_CountsOnlyFinishedRunsAndFailsWhenOneSideHasNone(self):
        diverged = rows({("hetero", "1"): [math.nan] * 4}, status="diverged")
        lines, problems = bench.agreement(rows({("hetero", "1"): REFERENCE[("hetero", "1")]}), diverged,
                                          sides_at=())
        self.assertEqual(problems, ["algorithm=hetero, heterogeneity=1: no finished run in the peer"])
        one_diverged = rows({("hetero", "1"): REFERENCE[("hetero", "1")]})
        one_diverged[0].update(status="diverged", final_spurious_signal=1e7)
        lines, problems = bench.agreement(rows({("hetero", "1"): REFERENCE[("hetero", "1")]}), one_diverged,
                                          sides_at=())
        self.assertEqual(problems, [])
        self.assertIn("(3 runs, 1 not done)", lines[0])


class ExportTest(unittest.TestCase):
    def test_ReadExport_ParsesFinalMetricsAndKeepsParametersAsText(self):
        text = textwrap.dedent("""\
            run,key,dim,heterogeneity,algorithm,sampler,replicate,seed,status,final_spurious_signal,final_loss
            0,11,20,0.5,hetero,auto,0,7,done,0.25,1e-3
            1,12,20,0.5,hetero,auto,1,8,pending,,
            """)
        first, second = bench.read_export(text)
        self.assertEqual(first["final_spurious_signal"], 0.25)
        self.assertEqual(first["heterogeneity"], "0.5")
        self.assertTrue(math.isnan(second["final_loss"]))
        self.assertEqual(bench.cell_of(first), bench.cell_of(second))  # replicate, seed, status are not the cell


class MissingTorchTest(unittest.TestCase):
    def test_Main_ExitsWithTwoAndSaysHowToInstallWhenTorchIsMissing(self):
        with tempfile.TemporaryDirectory() as tmp:
            spec_file = Path(tmp) / "spec.yaml"
            spec_file.write_text("name: s\n")
            argv = [str(BENCH), "--spec", str(spec_file), "--hetsweep", sys.executable]
            hide_torch = ("import runpy, sys; sys.modules['torch'] = None; "
                          f"sys.argv = {argv!r}; runpy.run_path({str(BENCH)!r}, run_name='__main__')")
            done = subprocess.run([sys.executable, "-c", hide_torch], capture_output=True, text=True, check=False)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("apt-get install python3-torch", done.stderr)
        self.assertEqual(done.stdout, "")


if __name__ == "__main__":
    unittest.main()
