#!/usr/bin/python3
"""python/ builds offline into a wheel with Debian's setuptools (no pip, no network), leaving the source tree
clean, and the wheel's package imports on its own."""

import subprocess
import sys
import tempfile
import unittest
import zipfile
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"


class PackageTest(unittest.TestCase):
    def test_Wheel_BuildsOfflineAndImportsFromItsContents(self):
        before = sorted(p.name for p in PYTHON_DIR.iterdir())
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            build = subprocess.run(
                [sys.executable, "setup.py", "-q", "egg_info", "--egg-base", tmp, "build", "--build-base",
                 str(out / "build"), "bdist_wheel", "--dist-dir", str(out / "dist"), "--bdist-dir", str(out / "bd")],
                cwd=PYTHON_DIR, capture_output=True, text=True)
            self.assertEqual(build.returncode, 0, build.stderr)
            wheels = list((out / "dist").glob("hetsweep-*-py3-none-any.whl"))
            self.assertEqual(len(wheels), 1)
            with zipfile.ZipFile(wheels[0]) as wheel:
                names = wheel.namelist()
                wheel.extractall(out / "site")
            for module in ("__init__", "layout", "reading", "theory"):
                self.assertIn(f"hetsweep/{module}.py", names)
            imported = subprocess.run(
                [sys.executable, "-c", "import hetsweep; print(hetsweep.__file__, hetsweep.__version__)"],
                cwd=tmp, env={"PYTHONPATH": str(out / "site")}, capture_output=True, text=True)
            self.assertEqual(imported.returncode, 0, imported.stderr)
            location, version = imported.stdout.split()
            self.assertTrue(location.startswith(str(out / "site")), location)
            self.assertIn(f"hetsweep-{version}-py3", wheels[0].name)
        self.assertEqual(sorted(p.name for p in PYTHON_DIR.iterdir()), before, "the source tree is left clean")


if __name__ == "__main__":
    unittest.main()
