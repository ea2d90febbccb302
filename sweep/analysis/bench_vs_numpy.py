#!/usr/bin/python3
"""Steps per second of `hetsweep simulate` against the NumPy reference (sweep/reference/numpy_sim.py).

Both programs time their training loop alone and report it as `wall_seconds` in their JSON, so interpreter
and process start-up do not count. NumPy runs fewer steps (it is slower) and always materializes the
sensing matrices; hetsweep runs once per sampler. Each measurement is the best of --repeats runs, since the
machine is shared and interference only ever slows a run down.

Usage: bench_vs_numpy.py [--hetsweep build/src/cli/hetsweep] [--dim 20 --batch-size 1000 ...]
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NUMPY_SIM = REPO / "sweep" / "reference" / "numpy_sim.py"
REPORTED_KEYS = ("status", "steps_done", "true_signal", "spurious_signal", "err_invariant", "err_pooled", "loss",
                 "wall_seconds")


class BenchError(RuntimeError):
    pass


def model_flags(args):
    """The configuration both programs run, as their shared command-line flags."""
    return ["--dim", str(args.dim), "--invariant-rank", str(args.invariant_rank),
            "--spurious-rank", str(args.spurious_rank), "--heterogeneity", str(args.heterogeneity),
            "--step-size", str(args.step_size), "--batch-size", str(args.batch_size),
            "--algorithm", args.algorithm, "--sensing", args.sensing, "--seed", str(args.seed)]


def run_json(command, env):
    """Runs command and returns its JSON report; BenchError names the command when anything is off."""
    shown = " ".join(command)
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    except OSError as error:
        raise BenchError(f"cannot run {shown}: {error}") from error
    if done.returncode != 0:
        raise BenchError(f"{shown} exited with {done.returncode}:\n{done.stderr.strip()}")
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as error:
        raise BenchError(f"{shown} printed no JSON object on its last line: {done.stdout!r}") from error
    missing = [key for key in REPORTED_KEYS if key not in report]
    if missing:
        raise BenchError(f"{shown} reported no {', '.join(missing)}: {report}")
    if not report["wall_seconds"] > 0:
        raise BenchError(f"{shown} reported wall_seconds = {report['wall_seconds']}")
    return report


def best_rate(command, repeats, env):
    """The highest steps/s over `repeats` runs, and the report of that run."""
    reports = [run_json(command, env) for _ in range(repeats)]
    best = max(reports, key=lambda r: r["steps_done"] / r["wall_seconds"])
    if best["status"] != "done":
        print(f"warning: {' '.join(command)} ended with status {best['status']} at step {best['steps_done']}",
              file=sys.stderr)
    return best["steps_done"] / best["wall_seconds"], best


def format_table(rows):
    header = ("sampler", "hetsweep steps/s", "numpy steps/s", "hetsweep / numpy")
    lines = [header] + [(s, f"{h:,.0f}", f"{n:,.1f}", f"{h / n:,.1f}x") for s, h, n in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths)) for line in lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hetsweep", type=Path, default=REPO / "build" / "src" / "cli" / "hetsweep",
                        help="the hetsweep binary (default: %(default)s)")
    parser.add_argument("--dim", type=int, default=20)
    parser.add_argument("--invariant-rank", type=int, default=2)
    parser.add_argument("--spurious-rank", type=int, default=2)
    parser.add_argument("--heterogeneity", type=float, default=6.0)
    parser.add_argument("--step-size", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--algorithm", choices=("hetero", "pooled"), default="hetero")
    parser.add_argument("--sensing", choices=("gaussian", "rank_one"), default="gaussian")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--numpy-steps", type=int, default=100)
    parser.add_argument("--hetsweep-steps", type=int, default=1000)
    parser.add_argument("--samplers", nargs="+", default=["exact", "materialized"],
                        help="hetsweep samplers to compare (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the best counts")
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core per process, as in a sweep
    flags = model_flags(args)
    try:
        numpy_command = [sys.executable, str(NUMPY_SIM), *flags, "--steps", str(args.numpy_steps)]
        numpy_rate, _ = best_rate(numpy_command, args.repeats, env)
        print(f"numpy (materialized, {args.numpy_steps} steps): {numpy_rate:,.1f} steps/s", flush=True)
        if not args.hetsweep.is_file():
            raise BenchError(f"no hetsweep binary at {args.hetsweep}: build the hetsweep target or pass --hetsweep")
        rows = []
        for sampler in args.samplers:
            command = [str(args.hetsweep), "simulate", *flags, "--steps", str(args.hetsweep_steps),
                       "--sampler", sampler, "--json"]
            rate, _ = best_rate(command, args.repeats, env)
            rows.append((sampler, rate, numpy_rate))
    except BenchError as error:
        print(f"bench_vs_numpy: {error}", file=sys.stderr)
        return 1
    print(f"d={args.dim}, m={args.batch_size}, M={args.heterogeneity}, eta={args.step_size}, {args.algorithm}, "
          f"{args.sensing}; hetsweep {args.hetsweep_steps} steps, numpy {args.numpy_steps} steps, "
          f"best of {args.repeats}, OPENBLAS_NUM_THREADS={env['OPENBLAS_NUM_THREADS']}")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
