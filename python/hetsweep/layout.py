"""What a hetsweep results file holds, defined once: the formats this package reads, the run parameters in
the file's column order, the status names and the metric names."""

# hetsweep-1: choices as fixed-length strings, status an HDF5 enum, no /cube/status, no per-run coordinates in
# /trajectories. hetsweep-2: choices as char arrays, status int8 with flag attributes, /cube/status, and
# per-run coordinates in /trajectories (see README, "The results file").
FORMATS = ("hetsweep-1", "hetsweep-2")

# Every run parameter, in the model table's order (the order of the /runs columns), and how it is stored:
# "int" int64, "real" float64, "choice" a name (a string in /runs).
PARAMETER_KINDS = {
    "dim": "int", "invariant_rank": "int", "spurious_rank": "int", "width": "int", "environments": "int",
    "heterogeneity": "real", "spurious_mean": "real", "noise": "real", "sensing": "choice", "basis": "choice",
    "algorithm": "choice", "schedule": "choice", "sampler": "choice", "step_size": "real", "batch_size": "int",
    "steps": "int", "init_scale": "real", "record_every": "int", "divergence_threshold": "real",
}
PARAMETERS = tuple(PARAMETER_KINDS)
CHOICE_PARAMETERS = tuple(name for name, kind in PARAMETER_KINDS.items() if kind == "choice")

# The status of a run; its code in the file is its index here.
STATUS_NAMES = ("pending", "done", "diverged", "failed")
STATUS_CODES = {name: code for code, name in enumerate(STATUS_NAMES)}

# The metrics recorded along a trajectory and, as final_<metric>, at a run's end.
METRIC_LONG_NAMES = {
    "true_signal": "invariant signal ||PXP||_F",
    "spurious_signal": "spurious signal ||QXQ||_F",
    "err_invariant": "distance to the invariant solution ||X - A*||_F",
    "err_pooled": "distance to the pooled solution ||X - (A* + mean A^(e))||_F",
    "loss": "minibatch loss at the record step (population loss for the _gd algorithms)",
}
METRICS = tuple(METRIC_LONG_NAMES)
FINAL_COLUMNS = tuple(f"final_{metric}" for metric in METRICS)

# The /runs columns, in order: run, key, the parameters, then these.
RUN_COLUMNS = ("run", "key", *PARAMETERS, "replicate", "seed", "status", "steps_done", "wall_seconds",
               "finished_at", *FINAL_COLUMNS)

# Where a run came from (the /runs field `origin`, its code the index here): the grid, or adaptive refinement
# (off-grid values of the refine axis). Files written before refinement existed have no such field: all grid.
ORIGIN_NAMES = ("grid", "refine")

# The direction of a crossing in /boundary (its code the index here): down, the metric falls below the
# threshold as the refine axis grows; up, it rises above it.
DIRECTION_NAMES = ("down", "up")
