"""Every field of a /runs row, pending and done, overwritten with hostile values: no command crashes or hangs.

usage: row_fields.py HETSWEEP WORKDIR

For each field of one pending and one done row and a few values outside what the writer stores (negative,
the int64/uint64 extremes, NaN and infinities, status codes out of range, bytes that are no name), a copy of a
half-finished results file gets that value and every command that reads a results file runs on it: status,
report, export, verify, run (resume) and merge (as an input). Each must exit with a code it documents (never
by a signal, never after the time limit), and a refusal (exit 2) leaves the file byte for byte as it was.
"""

import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve().parent
SPEC = HERE / "data" / "tiny.yaml"
TIME_LIMIT = 60  # seconds per command; a healthy one takes well under one


def hostile_values(dtype):
    """A few values of the field's type that the writer never stores."""
    if dtype.shape:  # hetsweep-2 choice: an array of one-byte strings
        n = dtype.shape[0]
        return [np.frombuffer(b"\xff" * n, dtype="S1"), np.frombuffer(b"\0" * n, dtype="S1")]
    if dtype.kind == "S":  # hetsweep-1 choice
        return [b"\xff" * dtype.itemsize, b""]
    if dtype.kind == "f":
        return [np.nan, -np.inf]
    if dtype.kind == "u":
        return [2**64 - 1]
    if dtype.itemsize == 1:  # status
        return [7, -1]
    return [-1, 2**63 - 1]


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main():
    hetsweep, workdir = sys.argv[1], Path(sys.argv[2])
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    base = workdir / "base.h5"
    # Shard 0 of 2 leaves the other shard's rows pending.
    subprocess.run([hetsweep, "run", str(SPEC), "-o", str(base), "--shard", "0/2", "--progress", "none"],
                   check=True, env=env, capture_output=True)
    with h5py.File(base, "r") as f:
        rows = f["runs"][:]
    pending = int(np.flatnonzero(rows["status"] == 0)[0])
    done = int(np.flatnonzero(rows["status"] == 1)[0])

    commands = {  # name: (arguments after the binary, with FILE for the damaged copy; exit codes allowed)
        "status": (["status", "FILE"], {0, 2}),
        "report": (["report", "FILE"], {0, 2}),
        "export": (["export", "FILE", "--csv", "-"], {0, 2}),
        "verify": (["verify", "FILE"], {0, 1, 2}),
        "run": (["run", str(SPEC), "-o", "FILE", "--progress", "none"], {0, 2}),
        "merge": (["merge", "MERGED", "FILE"], {0, 2}),
    }
    def check(job):
        """Runs one command on its own damaged copy; returns (failure or None, whether it refused)."""
        number, row, row_kind, field, value, name = job
        arguments, allowed = commands[name]
        damaged = workdir / f"damaged-{number}.h5"
        shutil.copyfile(base, damaged)
        with h5py.File(damaged, "r+") as f:
            record = f["runs"][row]
            record[field] = value
            f["runs"][row] = record
        before = digest(damaged)
        merged = str(workdir / f"merged-{number}.h5")
        argv = [hetsweep] + [str(damaged) if a == "FILE" else merged if a == "MERGED" else a for a in arguments]
        what = f"{name} with {row_kind} row {row} field {field} = {value!r}"
        try:
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            return f"{what}: no exit within {TIME_LIMIT} s", False
        finally:
            Path(merged).unlink(missing_ok=True)
        try:
            if result.returncode not in allowed:
                return (f"{what}: exit {result.returncode} (allowed {sorted(allowed)}): "
                        f"{result.stderr.strip()[-300:]}"), False
            if result.returncode == 2 and digest(damaged) != before:
                return f"{what}: refused (exit 2) but the file changed", True
            if result.returncode == 2 and not result.stderr.strip():
                return f"{what}: refused (exit 2) without a message", True
            return None, result.returncode == 2
        finally:
            damaged.unlink()

    jobs = []
    for row, row_kind in [(pending, "pending"), (done, "done")]:
        for field in rows.dtype.names:
            for value in hostile_values(rows.dtype[field]):
                first = len(jobs)
                jobs.extend([(first + i, row, row_kind, field, value, name) for i, name in enumerate(commands)])
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(check, jobs))
    failures = [failure for failure, _ in outcomes if failure]
    refusals = sum(refused for _, refused in outcomes)
    cases = len(jobs) // len(commands)
    for failure in failures:
        print("FAIL:", failure)
    print(f"row_fields: {cases} damaged rows x {len(commands)} commands, {refusals} refusals, "
          f"{len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
