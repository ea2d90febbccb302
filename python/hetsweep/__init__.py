"""Reading hetsweep results files from Python: open_runs and open_boundary (pandas), open_cube and
open_trajectories (xarray).

    import hetsweep
    runs = hetsweep.open_runs("sweep/out/quickstart.h5")
    runs[runs.algorithm == "hetero"].groupby("heterogeneity").final_spurious_signal.mean()
"""

from .layout import (CHOICE_PARAMETERS, DIRECTION_NAMES, FINAL_COLUMNS, FORMATS, METRIC_LONG_NAMES, METRICS,
                     ORIGIN_NAMES, PARAMETER_KINDS, PARAMETERS, RUN_COLUMNS, STATUS_CODES, STATUS_NAMES)
from .reading import open_boundary, open_cube, open_runs, open_trajectories

__version__ = "0.1.0"
__all__ = ["open_runs", "open_cube", "open_trajectories", "open_boundary", "FORMATS", "PARAMETERS", "PARAMETER_KINDS",
           "CHOICE_PARAMETERS", "METRICS", "METRIC_LONG_NAMES", "FINAL_COLUMNS", "RUN_COLUMNS", "STATUS_NAMES",
           "STATUS_CODES", "ORIGIN_NAMES", "DIRECTION_NAMES"]
