#!/usr/bin/python3
"""hetsweep against a strong peer: the same sweep in PyTorch (sweep/reference/torch_sweep.py, batched over
the runs, materialized sensing) and the NumPy reference (sweep/reference/numpy_sim.py), side by side.

1. hetsweep runs the sweep as a user would, `mpirun -n RANKS hetsweep run SPEC -o OUT.h5`, once per
   --samplers value (`auto`: the spec as written; another value is set as the spec's fixed `sampler`), and
   is timed from the start of mpirun to its exit (start-up, scheduling and the HDF5 file included); its CPU
   time is that of mpirun and every rank (the master's waiting included). An earlier file in --workdir is
   replaced (`run --restart`).
2. PyTorch runs the same runs (their parameters read back from hetsweep's `export --csv`), once per --dtypes
   value, with torch.set_num_threads(--threads); the stepping alone is timed (not the imports; CPU time of
   every thread). With --torch-steps below the spec's steps, every run is cut to that many steps and the
   time is scaled to the whole sweep (a step's cost does not depend on t); such a run is timed only, not
   compared.
3. NumPy (numpy_sim.simulate, called in this process) runs --numpy-runs of the runs for --numpy-steps steps
   each, one after the other; its wall time for the sweep is estimated as (the sweep's steps) / (its steps per
   second) / (RANKS - 1), i.e. one process per core of hetsweep's workers, perfectly parallel, and its CPU
   time as (the sweep's steps) times its CPU seconds per step.
   On a loaded machine compare the CPU times: wall times then measure the other load as much as the program.
4. Agreement (`agreement()`): for each cell of the grid (the values of every parameter but the replicate),
   the mean over the replicates of the final --metric of every full-length PyTorch run against each hetsweep
   run; only finished (`done`) runs count.
   They agree when the means differ by at most --z-limit combined standard errors, or by at most --floor
   (cells whose spread vanishes, e.g. a spurious signal that died in both), and both means lie on the same
   side of --threshold at the --sides-at values of --axis (the transition). Exit 1 when they do not.

Requires PyTorch: apt-get install python3-torch (Debian; about 160 packages), then run with /usr/bin/python3.
Exit codes: 0 agreement, 1 disagreement or a program failed, 2 PyTorch missing or bad arguments.

Usage: bench_vs_torch.py [--spec sweep/paper/heterogeneity.yaml] [--hetsweep build/src/cli/hetsweep]
           [--samplers auto materialized] [--dtypes float32 float64] [--torch-steps N]
"""

import argparse
import csv
import importlib.util
import io
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "sweep" / "reference"
TORCH_MISSING = ("bench_vs_torch: PyTorch is not installed for this interpreter; install it with "
                 "`apt-get install python3-torch` (Debian) and run this script with /usr/bin/python3")
# Columns of `hetsweep export --csv` that are not parameters of a grid cell.
NOT_CELL = {"run", "key", "replicate", "seed", "status", "steps_done", "wall_seconds", "finished_at", "origin",
            "sampler"}
INTEGER_PARAMETERS = ("dim", "invariant_rank", "spurious_rank", "width", "environments", "batch_size", "steps",
                      "record_every")
REAL_PARAMETERS = ("heterogeneity", "spurious_mean", "noise", "step_size", "init_scale", "divergence_threshold")


class BenchError(RuntimeError):
    pass


# ---- Agreement (plain Python: no numpy, no torch) -------------------------------------------------------------

def cell_of(row):
    """The grid cell of an exported row: every parameter but the sampler, as text (as the CSV spells it)."""
    return tuple(sorted((name, value) for name, value in row.items()
                        if name not in NOT_CELL and not name.startswith("final_")))


def cell_statistics(rows, metric):
    """{cell: (done runs, mean, standard error, runs not done)} of the final metric; rows are dicts with the
    parameters, `status` and `final_<metric>` (a float, or NaN / None when missing)."""
    values, not_done = {}, {}
    for row in rows:
        cell = cell_of(row)
        values.setdefault(cell, [])
        not_done.setdefault(cell, 0)
        value = row[f"final_{metric}"]
        if row["status"] == "done" and value is not None and math.isfinite(value):
            values[cell].append(value)
        else:
            not_done[cell] += 1
    stats = {}
    for cell, xs in values.items():
        mean = statistics.fmean(xs) if xs else math.nan
        error = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else math.nan
        stats[cell] = (len(xs), mean, error, not_done[cell])
    return stats


def grid_order(cell):
    """Sorts cells by their values, numbers as numbers (M = 3 before M = 10)."""
    def value(text):
        try:
            return (0, float(text), "")
        except ValueError:
            return (1, 0.0, text)

    return tuple((name, value(text)) for name, text in cell)


def agreement(reference, peer, metric="spurious_signal", z_limit=4.0, floor=0.05, threshold=0.05,
              axis="heterogeneity", sides_at=(1.0, 6.0)):
    """Compares two programs' results on the same grid. Returns (lines, problems): one line per cell with
    both means, standard errors and the allowed difference, and a list of what disagrees (empty: they agree)."""
    ours, theirs = cell_statistics(reference, metric), cell_statistics(peer, metric)
    lines, problems = [], []
    for cell in sorted(set(ours) | set(theirs), key=grid_order):
        name = ", ".join(f"{key}={value}" for key, value in cell if key in (axis, "algorithm"))
        if cell not in ours or cell not in theirs:
            problems.append(f"{name}: only in the {'reference' if cell in ours else 'peer'}")
            continue
        (n1, m1, e1, bad1), (n2, m2, e2, bad2) = ours[cell], theirs[cell]
        if (n1 == 0) != (n2 == 0):
            problems.append(f"{name}: no finished run in the {'reference' if n1 == 0 else 'peer'}")
            continue
        combined = math.hypot(e1 if n1 > 1 else 0.0, e2 if n2 > 1 else 0.0)
        allowed = max(z_limit * combined, floor)
        lines.append(f"{name}: {m1:.4g} ± {e1:.2g} ({n1} runs{f', {bad1} not done' if bad1 else ''}) vs "
                     f"{m2:.4g} ± {e2:.2g} ({n2} runs{f', {bad2} not done' if bad2 else ''}); "
                     f"|difference| {abs(m1 - m2):.3g}, allowed {allowed:.3g}")
        if n1 and not abs(m1 - m2) <= allowed:
            problems.append(f"{name}: means {m1:.4g} and {m2:.4g} differ by {abs(m1 - m2):.3g} > {allowed:.3g} "
                            f"({z_limit:g} standard errors {combined:.3g}, floor {floor:g})")
        value = dict(cell).get(axis)
        if value is not None and float(value) in sides_at and n1 and (m1 < threshold) != (m2 < threshold):
            problems.append(f"{name}: the means {m1:.4g} and {m2:.4g} lie on different sides of {threshold:g}")
    for point in sides_at:
        if not any(float(dict(cell).get(axis, math.nan)) == point for cell in ours):
            problems.append(f"{axis} = {point:g} is not in the reference's grid: its side cannot be checked")
    return lines, problems


# ---- The programs --------------------------------------------------------------------------------------------

def read_export(text):
    """Rows of `hetsweep export --csv`, with the final metrics as floats (NaN when empty)."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        for name in row:
            if name.startswith("final_"):
                row[name] = float(row[name]) if row[name] else math.nan
        rows.append(row)
    return rows


def as_parameters(row):
    """An exported row as the peer's run parameters (numbers parsed)."""
    run = dict(row)
    for name in INTEGER_PARAMETERS:
        run[name] = int(row[name])
    for name in REAL_PARAMETERS:
        run[name] = float(row[name])
    return run


def mpi_environment():
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    if os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return env


def checked_run(command, env):
    shown = " ".join(map(str, command))
    try:
        done = subprocess.run(list(map(str, command)), capture_output=True, text=True, env=env, check=False)
    except OSError as error:
        raise BenchError(f"cannot run {shown}: {error}") from error
    if done.returncode != 0:
        raise BenchError(f"{shown} exited with {done.returncode}:\n{done.stderr.strip()}")
    return done.stdout


def spec_with_sampler(spec_path, sampler, workdir):
    """The spec itself for `auto`, otherwise a copy with `sampler` fixed (refused when it is a grid axis)."""
    if sampler == "auto":
        return spec_path
    import yaml  # PyYAML: a dependency of Debian's python3-torch

    spec = yaml.safe_load(spec_path.read_text())
    if "sampler" in (spec.get("grid") or {}):
        raise BenchError(f"{spec_path}: sampler is a grid axis; pass --samplers auto")
    spec.setdefault("fixed", {})["sampler"] = sampler
    path = workdir / f"{spec_path.stem}-{sampler}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_hetsweep(args, sampler, workdir, env):
    """(wall seconds, CPU seconds of the whole mpirun command, exported rows)."""
    spec = spec_with_sampler(args.spec, sampler, workdir)
    out = workdir / f"hetsweep-{sampler}.h5"
    command = ["mpirun", "-n", args.ranks, "--oversubscribe", args.hetsweep, "run", spec, "-o", out,
               "--progress", "none", "--restart"]
    start, start_cpu = time.perf_counter(), children_cpu_seconds()
    checked_run(command, env)
    seconds, cpu = time.perf_counter() - start, children_cpu_seconds() - start_cpu
    return seconds, cpu, read_export(checked_run([args.hetsweep, "export", out, "--csv", "-"], env))


def run_numpy(args, runs):
    """NumPy's steps per second and CPU seconds per step in its training loop, over --numpy-runs runs spread
    over the sweep, --numpy-steps steps each."""
    import numpy_sim  # imports numpy

    chosen = [runs[round(i * (len(runs) - 1) / max(1, args.numpy_runs - 1))] for i in range(args.numpy_runs)]
    steps = seconds = cpu = 0.0
    for run in chosen:
        params = numpy_sim.Params(**{name: run[name] for name in vars(numpy_sim.Params())})
        params.steps = args.numpy_steps
        start_cpu = time.process_time()
        result = numpy_sim.simulate(params, int(run["seed"]))
        cpu += time.process_time() - start_cpu
        steps += result.steps_done
        seconds += result.wall_seconds
    return steps / seconds, cpu / steps


def ratio(numerator, denominator):
    r = numerator / denominator
    return f"{r:,.0f}x" if r >= 100 else f"{r:.3g}x"


def speed_table(samplers, rows):
    header = ("program", "wall s", "CPU s",
              *(f"{kind} / hetsweep {sampler}" for sampler in samplers for kind in ("wall", "CPU")))
    lines = [header] + rows
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths)) for line in lines)


def load_average():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", type=Path, default=REPO / "sweep" / "paper" / "heterogeneity.yaml")
    parser.add_argument("--hetsweep", type=Path, default=REPO / "build" / "src" / "cli" / "hetsweep")
    parser.add_argument("--ranks", type=int, default=3, help="mpirun -n for hetsweep (default: %(default)s)")
    parser.add_argument("--samplers", nargs="+", default=["auto", "materialized"],
                        choices=("auto", "exact", "materialized"))
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=("float32", "float64"))
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default: %(default)s)")
    parser.add_argument("--torch-steps", type=int, default=None,
                        help="cut PyTorch's runs to this many steps and scale its time (timing only)")
    parser.add_argument("--torch-seed", type=int, default=0)
    parser.add_argument("--numpy-runs", type=int, default=2, help="0: no NumPy (default: %(default)s)")
    parser.add_argument("--numpy-steps", type=int, default=100)
    parser.add_argument("--metric", default="spurious_signal",
                        choices=("true_signal", "spurious_signal", "err_invariant", "err_pooled", "loss"))
    parser.add_argument("--z-limit", type=float, default=4.0)
    parser.add_argument("--floor", type=float, default=0.05)
    parser.add_argument("--threshold", type=float, default=0.05)
    parser.add_argument("--axis", default="heterogeneity")
    parser.add_argument("--sides-at", type=float, nargs="*", default=[1.0, 6.0])
    parser.add_argument("--workdir", type=Path, default=None, help="keep hetsweep's files here (default: a "
                        "temporary directory)")
    args = parser.parse_args(argv)
    if args.ranks < 2 or args.threads < 1 or args.numpy_runs < 0 or args.numpy_steps < 1:
        parser.error("--ranks must be at least 2, --threads and --numpy-steps at least 1, --numpy-runs at least 0")
    if not args.spec.is_file():
        parser.error(f"--spec {args.spec}: no such file")
    if not args.hetsweep.is_file():
        parser.error(f"--hetsweep {args.hetsweep}: no such file; build the hetsweep target or pass --hetsweep")
    return args


def compare(args, workdir):
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS: one core per process
    sys.path.insert(0, str(REFERENCE))
    import torch_sweep  # after the check in main() that torch imports

    env = mpi_environment()
    print(f"load average before: {load_average()}", flush=True)
    hetsweep = {}
    for sampler in args.samplers:
        hetsweep[sampler] = run_hetsweep(args, sampler, workdir, env)
        print(f"hetsweep ({sampler}, mpirun -n {args.ranks}): {hetsweep[sampler][0]:.2f} s, "
              f"{hetsweep[sampler][1]:.2f} CPU-s", flush=True)
    exported = next(iter(hetsweep.values()))[2]
    runs = [as_parameters(row) for row in exported]
    sweep_steps = sum(run["steps"] for run in runs)
    full = args.torch_steps is None or args.torch_steps >= max(run["steps"] for run in runs)
    torch_runs = runs if full else [dict(run, steps=args.torch_steps) for run in runs]
    peers = {}
    for dtype in args.dtypes:
        try:
            results, seconds, cpu = torch_sweep.simulate_sweep(torch_runs, dtype, args.torch_seed, args.threads)
        except torch_sweep.UnsupportedRun as error:
            raise BenchError(f"{args.spec}: {error}") from error
        scale = sweep_steps / sum(run["steps"] for run in torch_runs)
        seconds, cpu = seconds * scale, cpu * scale
        peers[dtype] = (seconds, cpu, results)
        cut = "" if full else f", {args.torch_steps} steps a run, scaled"
        print(f"pytorch ({dtype}, {args.threads} threads{cut}): {seconds:.2f} s, {cpu:.2f} CPU-s", flush=True)
    timings = [(f"hetsweep ({sampler}, mpirun -n {args.ranks})", seconds, cpu)
               for sampler, (seconds, cpu, _) in hetsweep.items()]
    timings += [(f"pytorch ({d}, {args.threads} threads{'' if full else ', scaled'})", seconds, cpu)
                for d, (seconds, cpu, _) in peers.items()]
    if args.numpy_runs:
        rate, cpu_per_step = run_numpy(args, runs)
        timings.append((f"numpy (estimated, {args.ranks - 1} processes)", sweep_steps / rate / (args.ranks - 1),
                        sweep_steps * cpu_per_step))
    print(f"load average after: {load_average()}")
    print(f"\n{args.spec}: {len(runs)} runs, {sweep_steps:,} steps; the ratios divide a program's seconds by "
          "hetsweep's (how many times faster hetsweep is)")
    rows = []
    for name, seconds, cpu in timings:
        ratios = []
        for sampler_seconds, sampler_cpu, _ in hetsweep.values():
            ratios += [ratio(seconds, sampler_seconds), ratio(cpu, sampler_cpu)]
        rows.append((name, f"{seconds:,.2f}", f"{cpu:,.2f}", *ratios))
    print(speed_table(hetsweep, rows))

    if not full:
        print("\nagreement: not checked (PyTorch's runs were cut short)")
        return 0
    failed = False
    for sampler, (_, _, reference) in hetsweep.items():
        for dtype, (_, _, results) in peers.items():
            peer = [dict(row, status=result["status"], **{f"final_{name}": result[name] for name in result
                                                           if name not in ("status", "steps_done")})
                    for row, result in zip(reference, results)]
            lines, problems = agreement(reference, peer, args.metric, args.z_limit, args.floor, args.threshold,
                                        args.axis, tuple(args.sides_at))
            print(f"\nfinal {args.metric}, hetsweep ({sampler}) vs pytorch ({dtype}), mean ± standard error:")
            print("\n".join(lines))
            print("agree" if not problems else "DISAGREE:\n  " + "\n  ".join(problems))
            failed = failed or bool(problems)
    return 1 if failed else 0


def main(argv):
    args = parse_args(argv)
    if importlib.util.find_spec("torch") is None:
        print(TORCH_MISSING, file=sys.stderr)
        return 2
    try:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            return compare(args, args.workdir)
        with tempfile.TemporaryDirectory() as workdir:
            return compare(args, Path(workdir))
    except BenchError as error:
        print(f"bench_vs_torch: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
