#!/usr/bin/python3
"""Tests of sweep/analysis/bench_vs_numpy.py against stand-ins for the hetsweep binary that keep (or break)
the `hetsweep simulate --json` contract."""

import os
import re
import stat
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "sweep" / "analysis" / "bench_vs_numpy.py"
NUMPY_SIM = REPO / "sweep" / "reference" / "numpy_sim.py"
SMALL = ["--dim", "6", "--batch-size", "30", "--numpy-steps", "20", "--hetsweep-steps", "40", "--repeats", "2"]

# `hetsweep simulate ... --sampler S --json`, answered by the NumPy reference with the same model flags.
CONTRACT_KEEPING = f"""
    import subprocess, sys
    args = sys.argv[1:]
    assert args[0] == "simulate" and "--json" in args, args
    sampler = args.index("--sampler")
    flags = [a for i, a in enumerate(args[1:], 1) if a != "--json" and i not in (sampler, sampler + 1)]
    sys.exit(subprocess.run([sys.executable, {str(NUMPY_SIM)!r}, *flags]).returncode)
"""
NO_WALL_SECONDS = """
    import json
    print(json.dumps({"status": "done", "steps_done": 40, "true_signal": 1, "spurious_signal": 0,
                      "err_invariant": 0, "err_pooled": 0, "loss": 0}))
"""


class BenchTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def stand_in(self, body):
        path = Path(self.tmp.name) / "hetsweep"
        path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return path

    def run_bench(self, binary):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        return subprocess.run([sys.executable, str(BENCH), "--hetsweep", str(binary), *SMALL], capture_output=True,
                              text=True, env=env, check=False)

    def test_Bench_PrintsStepsPerSecondAndRatioPerSampler(self):
        done = self.run_bench(self.stand_in(CONTRACT_KEEPING))
        self.assertEqual(done.returncode, 0, done.stderr)
        for sampler in ("exact", "materialized"):
            row = re.search(rf"^\s*{sampler}\s+([\d,.]+)\s+([\d,.]+)\s+([\d,.]+)x$", done.stdout, re.MULTILINE)
            self.assertIsNotNone(row, done.stdout)
            hetsweep, numpy, ratio = (float(g.replace(",", "")) for g in row.groups())
            self.assertGreater(numpy, 0)
            self.assertAlmostEqual(ratio, hetsweep / numpy, delta=0.05 + 0.01 * ratio)
        self.assertIn("d=6, m=30, M=6.0, eta=0.05", done.stdout)

    def test_Bench_ReportsNumpyAndFailsWhenTheBinaryIsMissing(self):
        missing = Path(self.tmp.name) / "no-such-hetsweep"
        done = self.run_bench(missing)
        self.assertEqual(done.returncode, 1)
        self.assertRegex(done.stdout, r"numpy \(materialized, 20 steps\): [\d,.]+ steps/s")
        self.assertIn(f"no hetsweep binary at {missing}", done.stderr)

    def test_Bench_FailsNamingTheMissingKeyWhenTheContractIsBroken(self):
        binary = self.stand_in(NO_WALL_SECONDS)
        done = self.run_bench(binary)
        self.assertEqual(done.returncode, 1)
        self.assertIn(f"{binary} simulate", done.stderr)
        self.assertIn("reported no wall_seconds", done.stderr)


if __name__ == "__main__":
    unittest.main()
