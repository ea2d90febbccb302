"""Reading hetsweep results files from Python: open_runs (pandas), open_cube and open_trajectories (xarray).

    import hetsweep
    runs = hetsweep.open_runs("sweep/out/quickstart.h5")
    runs[runs.algorithm == "hetero"].groupby("heterogeneity").final_spurious_signal.mean()
"""

from .layout import (CHOICE_PARAMETERS, FINAL_COLUMNS, FORMATS, METRIC_LONG_NAMES, METRICS, PARAMETER_KINDS,
                     PARAMETERS, RUN_COLUMNS, STATUS_CODES, STATUS_NAMES)
from .reading import open_cube, open_runs, open_trajectories

__version__ = "0.1.0"
__all__ = ["open_runs", "open_cube", "open_trajectories", "FORMATS", "PARAMETERS", "PARAMETER_KINDS",
           "CHOICE_PARAMETERS", "METRICS", "METRIC_LONG_NAMES", "FINAL_COLUMNS", "RUN_COLUMNS", "STATUS_NAMES",
           "STATUS_CODES"]
