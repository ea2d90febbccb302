#!/usr/bin/python3
"""live=True reads a file while `hetsweep run` writes it (SWMR): once a few runs have finished, the runs, the
cube and the trajectories read mid-sweep agree with each other and with the finished file; then SIGUSR1 stops
the sweep cleanly (exit 3).

    HETSWEEP=build/src/cli/hetsweep test_live.py"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path


HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "python"))
import hetsweep  # noqa: E402
from hetsweep import METRICS  # noqa: E402

HETSWEEP = os.environ.get("HETSWEEP", str(REPO / "build" / "src" / "cli" / "hetsweep"))
# 40 runs of about 0.2 s each (materialized sampler at d = 20, m = 1000): several seconds in one process.
SPEC = """name: live
seed: 11
fixed: {dim: 20, invariant_rank: 2, spurious_rank: 2, batch_size: 1000, steps: 300, record_every: 25,
        sampler: materialized}
grid:
  heterogeneity: [1.0, 3.0, 6.0, 9.0, 12.0]
  algorithm: [hetero, pooled]
replicates: 4
"""
FINISHED_BEFORE_READING = 3
DEADLINE_SECONDS = 120
STOPPED = 3  # hetsweep's exit code after a stop signal


def finished_runs(path):
    """The live runs table once the writer has created the file, else None."""
    try:
        return hetsweep.open_runs(path, live=True)
    except (OSError, ValueError, KeyError):  # not created yet, or its format attribute not written yet
        return None


class LiveTest(unittest.TestCase):
    def test_Live_ReadsASweepWhileItIsWrittenAndAgreesWithTheFinishedFile(self):
        with tempfile.TemporaryDirectory() as tmp:
            spec, path = Path(tmp) / "live.yaml", Path(tmp) / "live.h5"
            spec.write_text(SPEC)
            log_path = Path(tmp) / "run.log"
            with open(log_path, "w") as log:
                sweep = subprocess.Popen([HETSWEEP, "run", str(spec), "-o", str(path)], stderr=log,
                                         env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
            try:
                runs = self.wait_for_finished_runs(sweep, path, log_path)
                cube = hetsweep.open_cube(path, live=True)
                with hetsweep.open_trajectories(path, live=True) as trajectories:
                    trajectories.load()
                self.assertIsNone(sweep.poll(), "the sweep was still writing while the file was read")
            finally:
                sweep.send_signal(signal.SIGUSR1)
                code = sweep.wait(timeout=DEADLINE_SECONDS)
            self.assertIn(code, (0, STOPPED))
            final = hetsweep.open_runs(path)

        finished = runs[runs.status.isin(["done", "diverged"])]
        self.assertGreater((runs.status == "pending").sum(), 0, "read mid-sweep")
        for run in finished.itertuples():
            self.assertEqual(final.status[run.run], run.status, "a finished run stays finished")
            cell = cube.sel({"heterogeneity": run.heterogeneity, "algorithm": run.algorithm,
                             "replicate": run.replicate})
            self.assertIn(str(cell.status.values), ("done", "diverged"), run.run)
            self.assertEqual(trajectories.status.values[run.run], run.status)
            for m in METRICS:
                value = getattr(run, f"final_{m}")
                self.assertEqual(final[f"final_{m}"][run.run], value, (run.run, m))
                if run.status == "done":
                    self.assertEqual(float(cell[f"final_{m}"]), value, (run.run, m))
                    last = trajectories.step.values.tolist().index(run.steps_done)
                    self.assertEqual(trajectories[m].values[run.run, last], value, (run.run, m))
        if code == STOPPED:
            self.assertGreater((final.status == "pending").sum(), 0, "stopped before the end")
        else:
            self.assertTrue(final.status.isin(["done", "diverged"]).all())

    def wait_for_finished_runs(self, sweep, path, log_path):
        """The live runs table once FINISHED_BEFORE_READING runs have finished (polled, with a deadline)."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if sweep.poll() is not None:
                self.fail(f"the sweep ended (exit {sweep.returncode}) before a live read: {log_path.read_text()}")
            runs = finished_runs(path)
            if runs is not None and runs.status.isin(["done", "diverged"]).sum() >= FINISHED_BEFORE_READING:
                return runs
            time.sleep(0.05)
        self.fail(f"fewer than {FINISHED_BEFORE_READING} runs finished in {DEADLINE_SECONDS} s")


if __name__ == "__main__":
    unittest.main()
