#!/usr/bin/python3
"""Every ```python block of README.md's "The results file" section (and its subsections) runs, each on its
own, in a directory holding sweep/out/quickstart.h5: once as the binary writes it (sweep/quickstart.yaml), once
as a synthetic hetsweep-2 file with the same axes. The ```r blocks run too where R's hdf5r is installed
(Debian's r-cran-hdf5r), and the ```octave blocks where GNU Octave is (Debian's octave), with the binary's
directory on PATH, on the binary's file only (they call `hetsweep export`, which checks every row against the
stored spec, and the synthetic file's rows are not those of a real sweep).

    HETSWEEP=build/src/cli/hetsweep test_readme.py"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from results_files import METRICS, write_results_file  # noqa: E402

HETSWEEP = os.environ.get("HETSWEEP", str(REPO / "build" / "src" / "cli" / "hetsweep"))
RESULTS = Path("sweep") / "out" / "quickstart.h5"
QUICKSTART_AXES = {"heterogeneity": [float(m) for m in range(11)], "step_size": [0.05, 0.1],
                   "algorithm": ["hetero", "pooled"]}


def results_file_section():
    """README.md from "## The results file" up to the next "## " heading."""
    text = (REPO / "README.md").read_text()
    start = re.search(r"^## The results file.*$", text, re.MULTILINE)
    end = re.search(r"^## ", text[start.end():], re.MULTILINE)
    return text[start.start():start.end() + end.start()]


def blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```$", results_file_section(), re.MULTILINE | re.DOTALL)


def synthetic_outcome(row, params):
    """Done runs whose metrics are the row number, every fourth one diverged at step 500."""
    steps = np.arange(0, params["steps"] + 1, params["record_every"])
    status = "diverged" if row % 4 == 3 else "done"
    steps_done = 500 if status == "diverged" else params["steps"]
    trajectory = {m: np.where(steps <= steps_done, float(row), np.nan) for m in METRICS}
    return status, steps_done, {m: float(row) for m in METRICS}, trajectory


class ReadmeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dirs = {}
        real = Path(cls.tmp.name) / "real"
        (real / RESULTS.parent).mkdir(parents=True)
        subprocess.run([HETSWEEP, "run", str(REPO / "sweep" / "quickstart.yaml"), "-o", str(real / RESULTS)],
                       check=True, capture_output=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
        cls.dirs["written by the binary"] = real
        synthetic = Path(cls.tmp.name) / "synthetic"
        (synthetic / RESULTS.parent).mkdir(parents=True)
        base = {"dim": 20, "invariant_rank": 2, "spurious_rank": 2, "width": 0, "environments": 2,
                "heterogeneity": 0.0, "spurious_mean": 1.0, "noise": 0.0, "sensing": "gaussian", "basis": "axis",
                "algorithm": "hetero", "schedule": "cyclic", "sampler": "exact", "step_size": 0.05,
                "batch_size": 1000, "steps": 1000, "init_scale": 1e-3, "record_every": 20,
                "divergence_threshold": 1e6}
        write_results_file(synthetic / RESULTS, "hetsweep-2", QUICKSTART_AXES, 2, synthetic_outcome, base=base)
        cls.dirs["hetsweep-2"] = synthetic

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_blocks(self, language, command, env=None, files=None):
        found = blocks(language)
        self.assertTrue(found, f"README.md has no ```{language} block in The results file")
        for where, directory in self.dirs.items():
            if files is not None and where not in files:
                continue
            for number, code in enumerate(found):
                with self.subTest(file=where, block=number):
                    done = subprocess.run([*command, code], cwd=directory, capture_output=True, text=True,
                                          env={**os.environ, "PYTHONPATH": str(REPO / "python"), **(env or {})})
                    self.assertEqual(done.returncode, 0, f"{code}\n{done.stderr}")

    def test_PythonBlocks_RunOnBothFormats(self):
        self.run_blocks("python", [sys.executable, "-c"])

    def test_RBlocks_RunOnBothFormats(self):
        if shutil.which("Rscript") is None or subprocess.run(
                ["Rscript", "-e", "library(hdf5r)"], capture_output=True).returncode != 0:
            self.skipTest("R with hdf5r is not installed (Debian: r-cran-hdf5r)")
        self.run_blocks("r", ["Rscript", "-e"])

    def test_OctaveBlocks_RunOnTheBinarysFile(self):
        if shutil.which("octave-cli") is None:
            self.skipTest("GNU Octave is not installed (Debian: octave)")
        path = f"{Path(HETSWEEP).resolve().parent}{os.pathsep}{os.environ.get('PATH', '')}"
        self.run_blocks("octave", ["octave-cli", "--no-gui", "--norc", "--eval"], env={"PATH": path},
                        files=["written by the binary"])


if __name__ == "__main__":
    unittest.main()
