#!/usr/bin/python3
"""The chaos test: SIGKILL a running sweep at random moments, resume it, and demand bit-identical results.

  chaos.py HETSWEEP WORKDIR [--seed S] [--kills K]

Writes a sweep spec into WORKDIR, computes it once without interruption in a single process (ref.h5), then
starts `mpiexec -n 3 hetsweep run spec.yaml -o chaos.h5` again and again, each time SIGKILLing one process
(the master, a worker, or mpiexec itself, then its orphaned ranks) until K kills happened; then runs it to
the end undisturbed. After every kill, once mpiexec and every rank are gone, the file must be readable
(compare_results.py and `hetsweep status`) and every row finished before must still be there with the same
bits (a killed master may lose what it had not flushed yet: those runs are simply redone). At the end the
file must equal the reference bit for bit (timings aside), hold every run exactly once, the last run must
have computed exactly the rows left pending, and nothing may be left behind: no process, no temporary file.

When to kill: a random delay after the ranks exist, then either at once or, for half the kills, at a random
depth (0-24 write calls in) of the master's next burst of writes while it holds chaos.h5 or the store's
`.chaos.h5.PID-N.tmp` open (write calls counted from /proc/PID/io, polled without sleeping), so that kills
land inside file creation and flushes, not only between them. The first kill is always such a kill after
the shortest delay: it lands in the creation of the file. The schedule (targets, delays, modes, depths)
comes from random.Random(S), drawn up front, so a seed names the same schedule everywhere; where a kill
lands still depends on timing, so every kill line says what the master was doing: `before the file` or
`starting` (MPI start-up, opening), `creating`, `file open`, or `creating at a write, write call 7` (killed
once it saw about 7 write calls of the burst).

Which rank is the master: Open MPI puts OMPI_COMM_WORLD_RANK in each rank's environment before it execs the
program, so /proc/PID/environ names rank 0 from the moment the process exists (before MPI_Init, before it
opens any file). As a cross-check, a worker seen holding chaos.h5 open is a failure.

Prints one line per kill, a summary, and as the last line `N passed, M failed`; exits 1 on any failure.
Needs h5py: run with /usr/bin/python3.
"""

import argparse
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

COMPARE = Path(__file__).resolve().parent.parent / "deploy" / "compare_results.py"
RANKS = 3
TARGETS = ("master", "worker", "mpiexec")
DELAY_SECONDS = (0.05, 1.5)  # after the ranks exist; the short end lands in MPI start-up and file creation
WRITE_WAIT_SECONDS = 2.5  # an `at a write` kill waits this long at most for the master's next write (flushes: 1 s)
WRITES_INTO_BURST = (0, 24)  # ... then this many more write calls: a creation makes about 30, a flush 10-25
BURST_END_SECONDS = 0.02  # ... or kills it when it made none for this long (the burst ended)
RANKS_APPEAR_SECONDS = 30  # mpiexec must have forked every rank by then
GONE_SECONDS = 30  # after a kill, mpiexec and every rank must be gone by then (else: a hang)
FINAL_RUN_SECONDS = 300
PENDING = 0
METRICS = ("true_signal", "spurious_signal", "err_invariant", "err_pooled", "loss")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1")

# About 20 ms per run on one core of the 2-core test machine, a few of them diverging (step size 0.1 at the
# largest heterogeneities) so that both finished statuses are written. Points per replicate: 17 * 2 * 2 = 68.
SPEC = """\
# Written by tests/reliability/chaos.py; sized to outlast {kills} kills.
name: chaos
seed: 20240613
fixed: {{dim: 12, invariant_rank: 2, spurious_rank: 2, batch_size: 200, steps: 400, record_every: 25,
        sampler: materialized}}
grid:
  heterogeneity: {{start: 0.0, stop: 8.0, num: 17}}
  step_size: [0.05, 0.1]
  algorithm: [hetero, pooled]
replicates: {replicates}
"""
POINTS_PER_REPLICATE = 17 * 2 * 2
# Runs in the spec per kill asked for. Measured over 9 seeds on the 2-core machine: a kill cycle finishes 25
# rows on average, 110 at most, and 12 kills 497 at most; a faster machine finishes more per cycle.
RUNS_PER_KILL = 100


class Checks:
    """Counts checks; prints each failure at once with what was expected."""

    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, ok, failure):
        if ok:
            self.passed += 1
        else:
            self.failures.append(failure)
            print(f"FAIL: {failure}", flush=True)
        return ok


def stat_fields(pid):
    """/proc/PID/stat from field 3 (state) on: [0] state, [1] parent pid, [19] start time; None once gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


@dataclass
class Proc:
    """A process identified by pid and start time, so that a recycled pid is never mistaken for it."""

    pid: int
    start_ticks: str

    @staticmethod
    def read(pid):
        fields = stat_fields(pid)
        return Proc(pid, fields[19]) if fields else None

    def alive(self):
        fields = stat_fields(self.pid)
        return fields is not None and fields[19] == self.start_ticks and fields[0] != "Z"

    def kill(self):
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def open_paths(self):
        paths = set()
        try:
            for entry in Path(f"/proc/{self.pid}/fd").iterdir():
                try:
                    paths.add(os.readlink(entry))
                except OSError:  # closed while listing
                    pass
        except OSError:  # gone
            pass
        return paths


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def environment_value(pid, name):
    try:
        for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if entry.startswith(name.encode() + b"="):
                return entry.split(b"=", 1)[1].decode()
    except OSError:
        pass
    return None


def children(parent_pid, binary):
    """The processes whose parent is parent_pid and whose command line contains the binary."""
    found = []
    for entry in Path("/proc").iterdir():
        fields = stat_fields(entry.name) if entry.name.isdigit() else None
        if fields and int(fields[1]) == parent_pid and str(binary).encode() in b" ".join(cmdline(entry.name)):
            found.append(Proc(int(entry.name), fields[19]))
    return found


def leftover_processes(binary, workdir):
    """hetsweep or mpiexec processes of this test still alive: their command line names the work directory."""
    leftovers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        args = cmdline(int(entry.name))
        if not args or not args[0]:
            continue
        program = os.path.basename(args[0].decode(errors="replace"))
        if program in (binary.name, "mpiexec", "mpirun", "orterun"):
            if str(workdir).encode() in b" ".join(args):
                proc = Proc.read(int(entry.name))
                if proc is not None and proc.alive():
                    leftovers.append(f"{proc.pid} {b' '.join(args).decode(errors='replace')}")
    return leftovers


def finished_count(path):
    """compare_results.py finished: the number of done or diverged rows, 0 before the file exists."""
    result = subprocess.run([sys.executable, str(COMPARE), "finished", str(path)], capture_output=True, text=True)
    if result.returncode != 0 or not result.stdout.strip().isdigit():
        return None, (result.stderr or result.stdout).strip()
    return int(result.stdout.strip()), ""


def finished_rows(path):
    """Every non-pending row as the raw bytes of its /runs record and its trajectory rows, by row index."""
    if not path.exists():
        return {}
    with h5py.File(path, "r", swmr=True) as file:
        runs = file["runs"][()]
        rows = np.flatnonzero(runs["status"] != PENDING)
        trajectories = [file[f"trajectories/{metric}"][()] for metric in METRICS]
    return {int(row): runs[row].tobytes() + b"".join(t[row].tobytes() for t in trajectories) for row in rows}


def temporary_files(workdir):
    return sorted(p.name for p in workdir.iterdir() if p.name.endswith(".tmp"))


def wait_until_gone(processes, deadline):
    while time.monotonic() < deadline:
        if not any(proc.alive() for proc in processes):
            return True
        time.sleep(0.02)
    return False


@dataclass
class KillPlan:
    target: str
    delay: float
    worker: int  # which worker, when the target is a worker
    at_write: bool  # after the delay, wait for the master's next write to its results file, then kill
    writes_into_burst: int  # when at_write: how many write calls after that first one


@dataclass
class Summary:
    by_target: dict = field(default_factory=lambda: {target: 0 for target in TARGETS})
    by_phase: dict = field(default_factory=dict)
    finished_after_kill: list = field(default_factory=list)
    rows_lost: int = 0
    temporary_seen: dict = field(default_factory=dict)  # name -> the kill after which it was first seen


def draw_plan(seed, kills):
    rng = random.Random(seed)
    plan = [KillPlan(rng.choice(TARGETS), rng.uniform(*DELAY_SECONDS), rng.randint(1, RANKS - 1), rng.random() < 0.5,
                     rng.randint(*WRITES_INTO_BURST)) for _ in range(kills)]
    # The first kill at a write after the shortest delay: while the master builds the new file, so that every
    # run of the test kills one file creation.
    plan[0].delay, plan[0].at_write = DELAY_SECONDS[0], True
    return plan


def start_sweep(binary, spec, out, log, heading):
    """mpiexec on RANKS ranks, its output appended to the log under a heading."""
    with open(log, "a") as stream:
        stream.write(f"--- {heading}\n")
        stream.flush()
        return subprocess.Popen(
            ["mpiexec", "-n", str(RANKS), "--oversubscribe", str(binary), "run", str(spec), "-o", str(out)],
            stdout=stream, stderr=stream, stdin=subprocess.DEVNULL, env=ENV)


def find_ranks(mpiexec, binary):
    """The rank processes by rank, once all exist; None when mpiexec exits first or they never appear."""
    deadline = time.monotonic() + RANKS_APPEAR_SECONDS
    while time.monotonic() < deadline and mpiexec.poll() is None:
        ranks = {}
        for proc in children(mpiexec.pid, binary):
            rank = environment_value(proc.pid, "OMPI_COMM_WORLD_RANK")
            if rank is not None:
                ranks[int(rank)] = proc
        if len(ranks) == RANKS:
            return ranks
        time.sleep(0.005)
    return None


def phase(master, out):
    """What the master is doing, from the files it holds open."""
    held = master.open_paths()
    if str(out) in held:
        return "file open"
    if any(os.path.basename(path).startswith(f".{out.name}.") and path.endswith(".tmp") for path in held):
        return "creating"
    return "starting" if out.exists() else "before the file"


def write_calls(proc):
    """The process's count of write system calls so far (syscw of /proc/PID/io); None once it is gone."""
    try:
        for line in Path(f"/proc/{proc.pid}/io").read_text().splitlines():
            if line.startswith("syscw:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def wait_for_write(master, out, mpiexec, deadline, writes_into_burst):
    """Polls the master, without sleeping, until it makes a write call while it holds the results file or its
    temporary open, then until it made writes_into_burst more or paused (the burst ended), so that kills land
    at different depths of a file creation or a flush. Returns the phase and how many write calls it saw
    (`creating`, 7), or None when nothing was written before the deadline."""
    last = write_calls(master)
    while time.monotonic() < deadline and mpiexec.poll() is None and last is not None:
        now = write_calls(master)
        if now is not None and now != last:
            landed = phase(master, out)
            if landed in ("file open", "creating"):
                return landed, burst_depth(master, last, writes_into_burst)
        last = now
    return None


def burst_depth(master, before, writes_into_burst):
    """Waits until the master made writes_into_burst + 1 write calls since `before`, or none for a while;
    returns how many it made (as last seen: a few more may land before the kill)."""
    seen, last_change = write_calls(master), time.monotonic()
    while seen is not None and seen - before <= writes_into_burst:
        if time.monotonic() - last_change > BURST_END_SECONDS:
            break
        now = write_calls(master)
        if now != seen:
            seen, last_change = now, time.monotonic()
    return (seen or before) - before


def status_check(binary, out, finished, context, checks):
    """`hetsweep status` must read the file a killed writer left, and count as many finished rows as h5py."""
    status = subprocess.run([str(binary), "status", str(out)], capture_output=True, text=True, env=ENV)
    overall = re.search(r"^overall\s+pending\s+\d+\s+done\s+(\d+)\s+diverged\s+(\d+)", status.stdout, re.MULTILINE)
    if checks.check(status.returncode == 0 and overall, f"{context}: hetsweep status {out} exited "
                                                        f"{status.returncode}: {status.stderr.strip()}"):
        counted = int(overall[1]) + int(overall[2])
        checks.check(counted == finished, f"{context}: hetsweep status counts {counted} finished rows, "
                                          f"compare_results.py {finished}")


class Chaos:
    """The kill cycles on one work directory; keeps the checks and the summary."""

    def __init__(self, binary, workdir, kills, expected_rows):
        self.binary, self.workdir = binary, workdir
        self.spec, self.out, self.log = workdir / "spec.yaml", workdir / "chaos.h5", workdir / "chaos.log"
        self.kills, self.expected_rows = kills, expected_rows
        self.checks = Checks()
        self.summary = Summary()
        self.finished = {}  # the finished rows after the last kill, as finished_rows() gives them
        self.counted = 0  # what compare_results.py finished said after the last kill

    def kill_once(self, number, plan):
        """One cycle: start, kill, wait for everything to be gone, check the file. False when the sweep ended
        before the kill (or never started), which ends the cycles."""
        checks, out = self.checks, self.out
        mpiexec = start_sweep(self.binary, self.spec, out, self.log, f"kill {number}: {plan}")
        mpiexec_proc = Proc.read(mpiexec.pid)
        ranks = find_ranks(mpiexec, self.binary)
        if ranks is None:
            checks.check(False, f"kill {number}: mpiexec exited ({mpiexec.wait()}) before its {RANKS} ranks were "
                                f"seen; see {self.log}")
            return False
        started = time.monotonic()
        while time.monotonic() < started + plan.delay and mpiexec.poll() is None:
            time.sleep(0.002)
        at_write = None
        if plan.at_write:
            at_write = wait_for_write(ranks[0], out, mpiexec, time.monotonic() + WRITE_WAIT_SECONDS,
                                      plan.writes_into_burst)
        if mpiexec.poll() is not None:
            code = mpiexec.wait()
            checks.check(False, f"kill {number}: the sweep ended by itself after {number - 1} kills, exit {code}: "
                         + ("the spec is too small for this machine (raise RUNS_PER_KILL)" if code == 0
                            else f"it failed; see {self.log}"))
            return False
        landed = f"{at_write[0]} at a write" if at_write else phase(ranks[0], out)
        holders = [rank for rank, proc in ranks.items() if rank != 0 and str(out) in proc.open_paths()]
        victim = {"master": ranks[0], "worker": ranks[plan.worker], "mpiexec": mpiexec_proc}[plan.target]
        victim.kill()
        elapsed = time.monotonic() - started
        if plan.target == "mpiexec":  # its ranks are orphans now
            for proc in ranks.values():
                proc.kill()
        checks.check(not holders, f"kill {number}: worker ranks {holders} hold {out} open; only the master may")

        everyone = [mpiexec_proc, *ranks.values()]
        killed = time.monotonic()
        gone = wait_until_gone(everyone, killed + GONE_SECONDS)
        teardown = time.monotonic() - killed
        checks.check(gone, f"kill {number} ({plan.target}): mpiexec or a rank still alive {GONE_SECONDS} s "
                           f"later (a hang); killed now")
        if not gone:
            for proc in everyone:
                proc.kill()
            wait_until_gone(everyone, time.monotonic() + GONE_SECONDS)
        mpiexec.wait()

        count, error = finished_count(out)
        if checks.check(count is not None, f"kill {number}: compare_results.py finished fails on {out}: {error}"):
            checks.check(count >= self.counted, f"kill {number}: compare_results.py finished counts {count} rows, "
                                                f"fewer than the {self.counted} before")
            self.counted = count
            if out.exists():
                status_check(self.binary, out, count, f"kill {number}", checks)
        try:
            after = finished_rows(out)
        except (OSError, KeyError) as failure:
            checks.check(False, f"kill {number}: {out} cannot be read after the kill: {failure}")
            after = self.finished
        lost = sorted(row for row in self.finished if row not in after)
        changed = sorted(row for row in self.finished if row in after and after[row] != self.finished[row])
        self.summary.rows_lost += len(lost)
        checks.check(not lost and not changed, f"kill {number}: rows finished before the kill were lost "
                                               f"{lost[:10]} or changed {changed[:10]} (first ten)")
        for name in temporary_files(self.workdir):
            self.summary.temporary_seen.setdefault(name, number)

        self.summary.by_target[plan.target] += 1
        self.summary.by_phase[landed] = self.summary.by_phase.get(landed, 0) + 1
        self.summary.finished_after_kill.append(len(after))
        which = f" {plan.worker}" if plan.target == "worker" else ""
        depth = f", write call {at_write[1]}" if at_write else ""
        print(f"kill {number}/{self.kills}: {plan.target}{which} after {elapsed:.2f} s ({landed}{depth}): "
              f"finished {len(self.finished)} -> {len(after)} (all gone {teardown:.1f} s later)", flush=True)
        self.finished = after
        return True


def run_final(chaos):
    """Runs the sweep to the end without kills; checks its exit code and that it computed exactly the rows
    the kills left pending."""
    checks, log = chaos.checks, chaos.log
    log_size = log.stat().st_size
    began = time.monotonic()
    final = start_sweep(chaos.binary, chaos.spec, chaos.out, log, "the final run, undisturbed")
    final_proc = Proc.read(final.pid)
    try:
        code = final.wait(timeout=FINAL_RUN_SECONDS)
    except subprocess.TimeoutExpired:
        code = None
        ranks = children(final.pid, chaos.binary)
        for proc in [final_proc, *ranks]:
            proc.kill()
        final.wait()
        wait_until_gone(ranks, time.monotonic() + GONE_SECONDS)
    checks.check(code == 0, f"the final run exited {code}, not 0 (None: still running after {FINAL_RUN_SECONDS} s, "
                            f"killed); see {log}")
    pending = chaos.expected_rows - len(chaos.finished)
    print(f"chaos: the final run took {time.monotonic() - began:.1f} s for the {pending} runs left", flush=True)
    with open(log) as stream:
        stream.seek(log_size)
        computed = re.findall(r"hetsweep: computed (\d+) runs in this invocation", stream.read())
    checks.check(computed == [str(pending)], f"the final run reported computing {computed} runs, not the [{pending}] "
                                             f"left pending after the kills: a run lost or done twice")


def final_checks(chaos, ref):
    checks, out = chaos.checks, chaos.out
    if not checks.check(out.exists(), f"{out} does not exist after the final run"):
        return
    complete = subprocess.run([sys.executable, str(COMPARE), "complete", str(out)], capture_output=True, text=True)
    checks.check(complete.returncode == 0, f"{out} is not complete: {complete.stderr.strip()}")
    equal = subprocess.run([sys.executable, str(COMPARE), "equal", str(ref), str(out)], capture_output=True, text=True)
    print(equal.stdout.strip(), flush=True)
    checks.check(equal.returncode == 0, f"{out} differs from the reference {ref}:\n{equal.stderr.strip()}")
    with h5py.File(out, "r") as file_out, h5py.File(ref, "r") as file_ref:
        keys, ref_keys = file_out["runs"]["key"], file_ref["runs"]["key"]
    unique, counts = np.unique(keys, return_counts=True)
    checks.check(not (counts > 1).any(), f"{out}: keys in /runs more than once: {unique[counts > 1][:10].tolist()}")
    checks.check(keys.size == chaos.expected_rows, f"{out}: /runs has {keys.size} rows, the grid {chaos.expected_rows}")
    checks.check(set(unique.tolist()) == set(ref_keys.tolist()), f"{out}: the keys of /runs differ from {ref}'s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("hetsweep", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--seed", type=int, default=20240613)
    parser.add_argument("--kills", type=int, default=12)
    args = parser.parse_args()
    if args.kills < 10:
        parser.error("--kills must be at least 10")
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    replicates = math.ceil(RUNS_PER_KILL * args.kills / POINTS_PER_REPLICATE)
    chaos = Chaos(args.hetsweep.resolve(), workdir, args.kills, POINTS_PER_REPLICATE * replicates)
    ref = workdir / "ref.h5"
    for stale in [ref, chaos.out, chaos.log, *(workdir / name for name in temporary_files(workdir))]:
        stale.unlink(missing_ok=True)
    chaos.spec.write_text(SPEC.format(kills=args.kills, replicates=replicates))
    checks, summary = chaos.checks, chaos.summary
    print(f"chaos: seed {args.seed}, {args.kills} kills, {chaos.expected_rows} runs, in {workdir}", flush=True)

    began = time.monotonic()
    reference = subprocess.run([str(chaos.binary), "run", str(chaos.spec), "-o", str(ref)], env=ENV,
                               capture_output=True, text=True)
    if not checks.check(reference.returncode == 0,
                        f"the reference run exited {reference.returncode}: {reference.stderr.strip()[-2000:]}"):
        print(f"{checks.passed} passed, {len(checks.failures)} failed")
        return 1
    print(f"chaos: the reference took {time.monotonic() - began:.1f} s in one process", flush=True)

    began = time.monotonic()
    for number, plan in enumerate(draw_plan(args.seed, args.kills), start=1):
        if not chaos.kill_once(number, plan):
            break
    print(f"chaos: {sum(summary.by_target.values())} kills took {time.monotonic() - began:.1f} s", flush=True)
    run_final(chaos)
    final_checks(chaos, ref)

    leftovers = leftover_processes(chaos.binary, workdir)
    checks.check(not leftovers, "processes left behind:\n  " + "\n  ".join(leftovers))
    temporaries = temporary_files(workdir)
    checks.check(not temporaries, f"temporary files left in {workdir}: " + ", ".join(
        f"{name} (there since kill {summary.temporary_seen.get(name, 'none: the final run')})" for name in temporaries))

    print("summary:")
    print(f"  kills survived: {sum(summary.by_target.values())} of {args.kills} ("
          + ", ".join(f"{target} {count}" for target, count in summary.by_target.items()) + ")")
    print("  where they landed: " + ", ".join(f"{name} {count}" for name, count in sorted(summary.by_phase.items())))
    print(f"  results lost: {summary.rows_lost}")
    print(f"  rows finished after each kill: {' '.join(map(str, summary.finished_after_kill))} "
          f"(of {chaos.expected_rows})")
    print(f"  temporary files seen after a kill: {len(summary.temporary_seen)}, left at the end: {len(temporaries)}")
    print(f"{checks.passed} passed, {len(checks.failures)} failed")
    return 0 if not checks.failures else 1


if __name__ == "__main__":
    sys.exit(main())
